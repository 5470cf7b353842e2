#include "runner/child_process.hpp"

#include <winsock2.h>
#include <windows.h>

#include <cstdio>
#include <thread>

namespace poc {
namespace {

std::wstring widen(const std::string& s) {
  if (s.empty()) return {};
  const int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n);
  return out;
}

std::string win32_message(const char* what) {
  return std::string(what) + " failed (Win32 error " + std::to_string(GetLastError()) + ")";
}

// One argument quoted the way CommandLineToArgvW and the C runtime split it back.
void append_quoted(std::wstring& cmd, const std::wstring& arg) {
  if (!cmd.empty()) cmd += L' ';
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
    cmd += arg;
    return;
  }
  cmd += L'"';
  std::size_t backslashes = 0;
  for (const wchar_t c : arg) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    // Backslashes before a quote are doubled, and the quote escaped; elsewhere they are literal.
    cmd.append(c == L'"' ? 2 * backslashes + 1 : backslashes, L'\\');
    backslashes = 0;
    cmd += c;
  }
  cmd.append(2 * backslashes, L'\\');  // before the closing quote
  cmd += L'"';
}

struct Handle {
  HANDLE h = nullptr;
  Handle() = default;
  explicit Handle(HANDLE v) : h(v == INVALID_HANDLE_VALUE ? nullptr : v) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }
  void reset() {
    if (h != nullptr) CloseHandle(h);
    h = nullptr;
  }
};

}  // namespace

std::filesystem::path own_directory() {
  std::wstring buf(MAX_PATH, L'\0');
  for (;;) {
    const DWORD n = GetModuleFileNameW(nullptr, buf.data(), static_cast<DWORD>(buf.size()));
    if (n < buf.size()) {
      buf.resize(n);
      break;
    }
    buf.resize(buf.size() * 2);
  }
  return std::filesystem::path(buf).parent_path();
}

ChildExit run_child(const std::filesystem::path& program, const std::vector<std::string>& args,
                    const std::filesystem::path& log, std::chrono::seconds timeout) {
  ChildExit out;
  SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
  // Appending handles: the child's stdout and our copy of its stderr interleave without overwriting.
  Handle log_for_child(CreateFileW(log.c_str(), FILE_APPEND_DATA | SYNCHRONIZE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                                   &inherit, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr));
  if (log_for_child.h == nullptr) {
    out.error = win32_message("creating the log file");
    return out;
  }
  Handle log_for_us(CreateFileW(log.c_str(), FILE_APPEND_DATA | SYNCHRONIZE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                                nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr));
  Handle null_in(CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit, OPEN_EXISTING, 0,
                             nullptr));
  HANDLE err_read = nullptr;
  HANDLE err_write = nullptr;
  if (log_for_us.h == nullptr || null_in.h == nullptr || !CreatePipe(&err_read, &err_write, &inherit, 0)) {
    out.error = win32_message("opening the child's standard handles");
    return out;
  }
  Handle err_r(err_read);
  Handle err_w(err_write);
  SetHandleInformation(err_r.h, HANDLE_FLAG_INHERIT, 0);  // only the write end goes to the child

  std::wstring cmd;
  append_quoted(cmd, program.wstring());
  for (const std::string& a : args) append_quoted(cmd, widen(a));
  STARTUPINFOW si{};
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = null_in.h;
  si.hStdOutput = log_for_child.h;
  si.hStdError = err_w.h;
  PROCESS_INFORMATION pi{};
  const auto t0 = std::chrono::steady_clock::now();
  if (!CreateProcessW(program.c_str(), cmd.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi)) {
    out.error = win32_message("CreateProcess");
    return out;
  }
  out.started = true;
  Handle process(pi.hProcess);
  Handle thread(pi.hThread);
  err_w.reset();  // the pipe reports EOF once the child (its only writer now) is gone
  log_for_child.reset();

  // Live progress: the child's stderr is copied to the log and to our stderr as it comes.
  std::thread tee([&] {
    char buf[4096];
    DWORD n = 0;
    while (ReadFile(err_r.h, buf, sizeof buf, &n, nullptr) && n > 0) {
      DWORD written = 0;
      WriteFile(log_for_us.h, buf, n, &written, nullptr);
      std::fwrite(buf, 1, n, stderr);
      std::fflush(stderr);
    }
  });
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  if (WaitForSingleObject(process.h, static_cast<DWORD>(ms)) == WAIT_TIMEOUT) {
    TerminateProcess(process.h, 1);
    WaitForSingleObject(process.h, INFINITE);
    out.killed = true;
  }
  DWORD code = 0;
  GetExitCodeProcess(process.h, &code);
  out.exit_code = static_cast<int>(code);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  tee.join();  // stage binaries start no processes of their own: the pipe closed with the child
  return out;
}

}  // namespace poc
