#pragma once
// An OS failure as a value: which API family produced it, its raw code and what we were doing.
// Platform primitives never throw and never swallow an error; they return one of these.
#include <cstdint>
#include <string>

namespace tofu::platform {

enum class ErrorSource : std::uint8_t {
  posix,     // errno
  winsock,   // WSAGetLastError()
  win32,     // GetLastError()
  ntstatus,  // NTSTATUS returned by an ntdll call
  internal,  // a contract broken inside tofu (missing export, bad state)
};

const char* to_string(ErrorSource source) noexcept;

struct SysError {
  ErrorSource source = ErrorSource::internal;
  std::int64_t code = 0;  // errno, WSA error, Win32 error or NTSTATUS (as unsigned 32-bit)
  std::string context;    // the operation, e.g. "epoll_ctl(ADD)" or "NtDeviceIoControlFile(AFD_POLL)"

  // "context: <meaning> (<source> <code>)", e.g. "connect: Connection refused (errno 111)".
  [[nodiscard]] std::string message() const;
};

SysError last_posix_error(std::string context);
SysError posix_error(int code, std::string context);
SysError internal_error(std::string context);
#ifdef _WIN32
SysError last_winsock_error(std::string context);
SysError last_win32_error(std::string context);
SysError ntstatus_error(std::uint32_t status, std::string context);
#endif

// Human text for a raw code of the given source (strerror, FormatMessage or the NTSTATUS table).
std::string describe(ErrorSource source, std::int64_t code);

}  // namespace tofu::platform
