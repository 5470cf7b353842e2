// tofu_case_runner: runs every test case of one Catch2 test program in a process of its own and
// counts passes, skips and failures, as CTest does from the build tree. For real Windows, where
// the cross-built executables run without that tree (.github/workflows/windows.yml).
//
// Why not run the program once: a tofu test that cannot run on the host prints "SKIPPED: why" and
// exits with 77 (tests/support/skip.hpp; Catch2 v2 has no skip), which ends the whole process. Run
// as one process, a suite stops at its first skip, reports a failure, and never runs the rest.
//
//   tofu_case_runner [--timeout SECONDS] TEST_PROGRAM [ARGS...]
//
// Lists the cases (TEST_PROGRAM --list-test-names-only), then runs TEST_PROGRAM "<case>" ARGS...
// for each through poc::run_child (the stage runner's: quoting, timeout, stderr shown live), the
// name escaped as CatchAddTests.cmake does (`,`, `[`, `]`). A failed case's output is printed, a
// skipped case's reason. Exit status: 0 = every case passed or skipped, 1 = a case failed or timed
// out, 2 = usage error, or the listing failed or was empty.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "runner/child_process.hpp"
#include "runner/parse_command_line.hpp"

namespace fs = std::filesystem;

namespace {

constexpr int kSkipExit = 77;  // TOFU_SKIP_RETURN_CODE

// Characters Catch2 reads as test-spec syntax inside a name.
std::string escape_spec(const std::string& name) {
  std::string out;
  for (const char c : name) {
    if (c == ',' || c == '[' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

std::vector<std::string> lines_of(const fs::path& file) {
  std::vector<std::string> lines;
  std::ifstream in(file, std::ios::binary);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs each test case of a Catch2 test program in a process of its own.", "tofu_case_runner"};
  int timeout_s = 600;
  app.add_option("--timeout", timeout_s, "Kill a case after this many seconds (it then counts as failed)")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  app.prefix_command();  // TEST_PROGRAM and everything after it: remaining()
  if (const auto status = poc::parse_command_line(app, argc, argv)) return *status;
  const std::vector<std::string> rest = app.remaining();
  if (rest.empty()) {
    std::fputs("usage: tofu_case_runner [--timeout SECONDS] TEST_PROGRAM [ARGS...]\n", stderr);
    return 2;
  }
  const fs::path program = rest.front();
  const std::vector<std::string> extra(rest.begin() + 1, rest.end());
  const fs::path log = fs::temp_directory_path() / ("tofu-case-runner-" + program.stem().string() + ".log");
  const auto timeout = std::chrono::seconds(timeout_s);

  // Catch2 v2 exits from a --list run with the number of cases, so only what it printed counts.
  const poc::ChildExit listed = poc::run_child(program, {"--list-test-names-only"}, log, timeout);
  const std::vector<std::string> names = listed.started && !listed.killed ? lines_of(log) : std::vector<std::string>{};
  if (names.empty()) {
    std::fprintf(stderr, "tofu_case_runner: %s listed no test cases %s\n", program.string().c_str(), listed.error.c_str());
    return 2;
  }

  int passed = 0;
  int skipped = 0;
  std::vector<std::string> failed;
  for (std::size_t n = 0; n < names.size(); ++n) {
    std::printf("[%zu/%zu] %s\n", n + 1, names.size(), names[n].c_str());
    std::vector<std::string> args = {escape_spec(names[n])};
    args.insert(args.end(), extra.begin(), extra.end());
    const poc::ChildExit e = poc::run_child(program, args, log, timeout);
    if (e.started && !e.killed && e.exit_code == 0) {
      ++passed;
      std::printf("  passed (%.1f s)\n", e.seconds);
    } else if (e.started && !e.killed && e.exit_code == kSkipExit) {
      ++skipped;
      for (const std::string& line : lines_of(log)) {
        if (line.rfind("SKIPPED:", 0) == 0) std::printf("  %s\n", line.c_str());
      }
      std::printf("  skipped (%.1f s)\n", e.seconds);
    } else {
      failed.push_back(names[n]);
      for (const std::string& line : lines_of(log)) std::printf("  | %s\n", line.c_str());
      if (!e.started) std::printf("  FAILED: not started: %s\n", e.error.c_str());
      if (e.killed) std::printf("  FAILED: killed after %d s\n", timeout_s);
      if (e.started && !e.killed) std::printf("  FAILED: exit code %d (%.1f s)\n", e.exit_code, e.seconds);
    }
    std::fflush(stdout);
  }
  std::error_code ignored;
  fs::remove(log, ignored);
  std::printf("tofu_case_runner: %s: %zu cases: %d passed, %d skipped, %zu failed\n", program.string().c_str(),
              names.size(), passed, skipped, failed.size());
  for (const std::string& f : failed) std::printf("  failed: %s\n", f.c_str());
  return failed.empty() ? 0 : 1;
}
