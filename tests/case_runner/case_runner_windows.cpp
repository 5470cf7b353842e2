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
// for each, the name escaped as CatchAddTests.cmake does (`,`, `[`, `]`). Exit status: 0 = every
// case passed or skipped, 1 = a case failed or timed out (default 600 s per case; the test's own
// watchdog prints its stacks before that), 2 = usage error, or the listing failed or was empty.
#include <windows.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

constexpr DWORD kSkipExit = 77;  // TOFU_SKIP_RETURN_CODE

// One argument as the C runtime's command-line parser reads it back (backslashes are literal
// except before a quote).
std::string quote(const std::string& arg) {
  if (!arg.empty() && arg.find_first_of(" \t\n\v\"") == std::string::npos) return arg;
  std::string out = "\"";
  std::size_t backslashes = 0;
  for (const char c : arg) {
    if (c == '\\') {
      ++backslashes;
      continue;
    }
    out.append(c == '"' ? backslashes * 2 + 1 : backslashes, '\\');
    out += c;
    backslashes = 0;
  }
  out.append(backslashes * 2, '\\');
  out += '"';
  return out;
}

std::string command_line(const std::vector<std::string>& args) {
  std::string line;
  for (const std::string& a : args) {
    if (!line.empty()) line += ' ';
    line += quote(a);
  }
  return line;
}

// Characters Catch2 reads as test-spec syntax inside a name.
std::string escape_spec(const std::string& name) {
  std::string out;
  for (const char c : name) {
    if (c == ',' || c == '[' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

// Starts args with our standard handles, or with standard output into `out` when given.
bool start(const std::vector<std::string>& args, HANDLE out, PROCESS_INFORMATION* pi) {
  STARTUPINFOA si{};
  si.cb = sizeof si;
  if (out != nullptr) {
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = out;
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  }
  std::string line = command_line(args);
  if (CreateProcessA(nullptr, line.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, pi)) return true;
  std::fprintf(stderr, "tofu_case_runner: cannot start %s (error %lu)\n", line.c_str(), GetLastError());
  return false;
}

// The program's test case names, one per line of --list-test-names-only; empty on failure.
std::vector<std::string> list_cases(const std::string& program) {
  SECURITY_ATTRIBUTES sa{sizeof sa, nullptr, TRUE};
  HANDLE read_end = nullptr;
  HANDLE write_end = nullptr;
  if (!CreatePipe(&read_end, &write_end, &sa, 0)) return {};
  SetHandleInformation(read_end, HANDLE_FLAG_INHERIT, 0);  // the child gets only the write end
  PROCESS_INFORMATION pi{};
  const bool started = start({program, "--list-test-names-only"}, write_end, &pi);
  CloseHandle(write_end);  // ours closed: ReadFile sees the end once the child's copy closes
  std::string text;
  if (started) {
    char buf[4096];
    DWORD got = 0;
    while (ReadFile(read_end, buf, sizeof buf, &got, nullptr) && got > 0) text.append(buf, got);
  }
  CloseHandle(read_end);
  if (!started) return {};
  WaitForSingleObject(pi.hProcess, INFINITE);
  DWORD code = 1;
  GetExitCodeProcess(pi.hProcess, &code);
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
  // Catch2 v2 returns the number of listed tests from a --list run, so any code is accepted; what
  // was printed decides.
  std::vector<std::string> names;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(at, end - at);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) names.push_back(line);
    at = end + 1;
  }
  return names;
}

enum class Result { passed, skipped, failed };

Result run_case(const std::vector<std::string>& args, DWORD timeout_ms, double* seconds) {
  const auto t0 = std::chrono::steady_clock::now();
  PROCESS_INFORMATION pi{};
  if (!start(args, nullptr, &pi)) return Result::failed;
  CloseHandle(pi.hThread);
  Result r = Result::failed;
  if (WaitForSingleObject(pi.hProcess, timeout_ms) == WAIT_TIMEOUT) {
    TerminateProcess(pi.hProcess, 1);
    WaitForSingleObject(pi.hProcess, INFINITE);
    std::printf("  TIMED OUT after %lu s\n", timeout_ms / 1000);
  } else {
    DWORD code = 1;
    GetExitCodeProcess(pi.hProcess, &code);
    if (code == 0) r = Result::passed;
    if (code == kSkipExit) r = Result::skipped;
    if (r == Result::failed) std::printf("  FAILED: exit code %lu\n", code);
  }
  CloseHandle(pi.hProcess);
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

int usage() {
  std::fputs("usage: tofu_case_runner [--timeout SECONDS] TEST_PROGRAM [ARGS...]\n", stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IONBF, 0);  // our lines and the children's stay in order
  DWORD timeout_ms = 600 * 1000;
  int i = 1;
  if (i + 1 < argc && std::string(argv[i]) == "--timeout") {
    const long s = std::strtol(argv[i + 1], nullptr, 10);
    if (s <= 0) return usage();
    timeout_ms = static_cast<DWORD>(s) * 1000;
    i += 2;
  }
  if (i >= argc) return usage();
  const std::string program = argv[i++];
  const std::vector<std::string> extra(argv + i, argv + argc);

  const std::vector<std::string> names = list_cases(program);
  if (names.empty()) {
    std::fprintf(stderr, "tofu_case_runner: %s listed no test cases\n", program.c_str());
    return 2;
  }
  int passed = 0;
  int skipped = 0;
  std::vector<std::string> failed;
  for (std::size_t n = 0; n < names.size(); ++n) {
    std::printf("[%zu/%zu] %s\n", n + 1, names.size(), names[n].c_str());
    std::vector<std::string> args = {program, escape_spec(names[n])};
    args.insert(args.end(), extra.begin(), extra.end());
    double seconds = 0;
    switch (run_case(args, timeout_ms, &seconds)) {
      case Result::passed:
        ++passed;
        std::printf("  passed (%.1f s)\n", seconds);
        break;
      case Result::skipped:
        ++skipped;
        std::printf("  skipped (%.1f s)\n", seconds);
        break;
      case Result::failed:
        failed.push_back(names[n]);
        break;
    }
  }
  std::printf("tofu_case_runner: %s: %zu cases: %d passed, %d skipped, %zu failed\n", program.c_str(), names.size(), passed,
              skipped, failed.size());
  for (const std::string& f : failed) std::printf("  failed: %s\n", f.c_str());
  return failed.empty() ? 0 : 1;
}
