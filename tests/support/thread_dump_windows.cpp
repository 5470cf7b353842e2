// Windows: winedbg (Wine's debugger; absent on Windows proper) attaches to this process and
// backtraces each of its threads into a file, then detaches. Frames in our executable, which it
// prints as "in <exe> (+0x1234)", get their function names from the COFF symbol table.
#include <windows.h>

#include <tlhelp32.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "support/coff_symbols.hpp"
#include "support/thread_dump.hpp"

namespace tofu::test {
namespace {

std::vector<DWORD> threads_of_this_process() {
  std::vector<DWORD> ids;
  HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
  if (snap == INVALID_HANDLE_VALUE) return ids;
  THREADENTRY32 te{};
  te.dwSize = sizeof te;
  for (BOOL more = Thread32First(snap, &te); more; more = Thread32Next(snap, &te)) {
    if (te.th32OwnerProcessID == GetCurrentProcessId()) ids.push_back(te.th32ThreadID);
  }
  CloseHandle(snap);
  return ids;
}

std::wstring temp_file() {
  wchar_t dir[MAX_PATH];
  wchar_t path[MAX_PATH];
  if (GetTempPathW(MAX_PATH, dir) == 0 || GetTempFileNameW(dir, L"tfd", 0, path) == 0) return {};
  return path;
}

// "parity_tests" for ...\parity_tests.exe: how winedbg names our module in its frames.
std::string module_name() {
  char path[MAX_PATH];
  const DWORD n = GetModuleFileNameA(nullptr, path, MAX_PATH);
  std::string s(path, n);
  if (const auto slash = s.find_last_of("\\/"); slash != std::string::npos) s.erase(0, slash + 1);
  if (const auto dot = s.rfind('.'); dot != std::string::npos) s.erase(dot);
  return s;
}

// Appends the function name after each "in <module> (+0xOFFSET)" of a winedbg frame line.
std::string name_frame(const std::string& line, const std::string& module) {
  const std::string key = "in " + module + " (+0x";
  const auto at = line.find(key);
  if (at == std::string::npos) return line;
  const auto digits = at + key.size();
  const auto close = line.find(')', digits);
  if (close == std::string::npos) return line;
  const std::string symbol = symbol_for_offset(std::stoull(line.substr(digits, close - digits), nullptr, 16));
  if (symbol.empty()) return line;
  return line.substr(0, close + 1) + " " + symbol + line.substr(close + 1);
}

}  // namespace

void dump_all_threads() {
  const std::vector<DWORD> threads = threads_of_this_process();
  const std::wstring commands = temp_file();
  const std::wstring output = temp_file();
  if (threads.empty() || commands.empty() || output.empty()) {
    std::fprintf(stderr, "thread dump: cannot list the threads or create temporary files, no stacks\n");
    return;
  }
  if (std::FILE* f = _wfopen(commands.c_str(), L"w")) {
    for (DWORD id : threads) std::fprintf(f, "backtrace 0x%lx\n", static_cast<unsigned long>(id));
    std::fprintf(f, "detach\n");
    std::fclose(f);
  }
  SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
  HANDLE out = CreateFileW(output.c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit,
                           CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  HANDLE in = CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit, OPEN_EXISTING, 0, nullptr);
  STARTUPINFOW si{};
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = in;
  si.hStdOutput = out;
  si.hStdError = out;
  PROCESS_INFORMATION pi{};
  std::wstring command_line = L"winedbg --file \"" + commands + L"\" " + std::to_wstring(GetCurrentProcessId());
  const BOOL started = CreateProcessW(nullptr, command_line.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi);
  const DWORD error = GetLastError();
  CloseHandle(out);
  CloseHandle(in);
  if (!started) {
    std::fprintf(stderr, "thread dump: cannot start winedbg (error %lu; it exists only under Wine), no stacks\n",
                 static_cast<unsigned long>(error));
  } else {
    // While winedbg is attached this thread is frozen too; it resumes when winedbg detaches.
    if (WaitForSingleObject(pi.hProcess, 30000) != WAIT_OBJECT_0) {
      std::fprintf(stderr, "thread dump: winedbg did not finish within 30 s\n");
      TerminateProcess(pi.hProcess, 1);
      WaitForSingleObject(pi.hProcess, 5000);
    }
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    const std::string module = module_name();
    std::ifstream text(output.c_str());
    std::vector<std::string> lines;
    for (std::string line; std::getline(text, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(line);
    }
    // One "Backtrace:" per thread, in the order asked; what comes before is winedbg's banner,
    // unless there is no backtrace at all (then it is winedbg's error and is printed as is).
    std::size_t next = 0;
    const bool any = std::any_of(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("Backtrace:", 0) == 0; });
    for (const std::string& line : lines) {
      if (line.rfind("Backtrace:", 0) == 0 && next < threads.size()) {
        std::fprintf(stderr, "--- thread 0x%lx%s\n", static_cast<unsigned long>(threads[next]),
                     threads[next] == GetCurrentThreadId() ? " (this one: the watchdog or the crash report)" : "");
        ++next;
      } else if (next > 0 || !any) {
        std::fprintf(stderr, "%s\n", name_frame(line, module).c_str());
      }
    }
  }
  DeleteFileW(commands.c_str());
  DeleteFileW(output.c_str());
  std::fflush(stderr);
}

}  // namespace tofu::test
