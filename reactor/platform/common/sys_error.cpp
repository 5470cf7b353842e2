#include "platform/common/sys_error.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#ifdef _WIN32
#include <winsock2.h>
#include <windows.h>
#endif

namespace tofu::platform {

const char* to_string(ErrorSource source) noexcept {
  switch (source) {
    case ErrorSource::posix: return "errno";
    case ErrorSource::winsock: return "WSA";
    case ErrorSource::win32: return "win32";
    case ErrorSource::ntstatus: return "NTSTATUS";
    case ErrorSource::internal: return "internal";
  }
  return "?";
}

namespace {

#ifdef _WIN32
std::string format_message(DWORD flags, HMODULE module, DWORD code) {
  char buf[512] = {};
  DWORD n = FormatMessageA(flags | FORMAT_MESSAGE_IGNORE_INSERTS, module, code, 0, buf,
                           static_cast<DWORD>(sizeof buf), nullptr);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '.')) {
    buf[--n] = '\0';
  }
  return n > 0 ? std::string(buf, n) : std::string("unknown error");
}

// The statuses the reactor meets in practice, named the way the NT headers name them.
const char* known_ntstatus(std::uint32_t status) {
  switch (status) {
    case 0x00000000u: return "STATUS_SUCCESS";
    case 0x00000102u: return "STATUS_TIMEOUT";
    case 0x00000103u: return "STATUS_PENDING";
    case 0xC0000008u: return "STATUS_INVALID_HANDLE";
    case 0xC000000Du: return "STATUS_INVALID_PARAMETER";
    case 0xC0000120u: return "STATUS_CANCELLED";
    case 0xC0000225u: return "STATUS_NOT_FOUND";
    case 0xC000020Cu: return "STATUS_CONNECTION_DISCONNECTED";
    case 0xC000020Du: return "STATUS_CONNECTION_RESET";
    case 0xC0000236u: return "STATUS_CONNECTION_REFUSED";
    case 0xC0000241u: return "STATUS_CONNECTION_ABORTED";
    default: return nullptr;
  }
}
#endif

}  // namespace

std::string describe(ErrorSource source, std::int64_t code) {
  switch (source) {
    case ErrorSource::posix: return std::strerror(static_cast<int>(code));
#ifdef _WIN32
    case ErrorSource::winsock:
    case ErrorSource::win32:
      return format_message(FORMAT_MESSAGE_FROM_SYSTEM, nullptr, static_cast<DWORD>(code));
    case ErrorSource::ntstatus: {
      const auto status = static_cast<std::uint32_t>(code);
      if (const char* name = known_ntstatus(status)) return name;
      return format_message(FORMAT_MESSAGE_FROM_HMODULE, GetModuleHandleA("ntdll.dll"), status);
    }
#else
    case ErrorSource::winsock:
    case ErrorSource::win32:
    case ErrorSource::ntstatus: return "Windows error";
#endif
    case ErrorSource::internal: return "internal error";
  }
  return "unknown";
}

std::string SysError::message() const {
  char code_text[32];
  if (source == ErrorSource::ntstatus) {
    std::snprintf(code_text, sizeof code_text, "0x%08X", static_cast<unsigned>(code));
  } else {
    std::snprintf(code_text, sizeof code_text, "%lld", static_cast<long long>(code));
  }
  std::string out = context;
  out += ": ";
  out += describe(source, code);
  out += " (";
  out += to_string(source);
  out += ' ';
  out += code_text;
  out += ')';
  return out;
}

SysError posix_error(int code, std::string context) {
  return SysError{ErrorSource::posix, code, std::move(context)};
}
SysError last_posix_error(std::string context) { return posix_error(errno, std::move(context)); }
SysError internal_error(std::string context) {
  return SysError{ErrorSource::internal, 0, std::move(context)};
}
#ifdef _WIN32
SysError last_winsock_error(std::string context) {
  return SysError{ErrorSource::winsock, WSAGetLastError(), std::move(context)};
}
SysError last_win32_error(std::string context) {
  return SysError{ErrorSource::win32, static_cast<std::int64_t>(GetLastError()), std::move(context)};
}
SysError ntstatus_error(std::uint32_t status, std::string context) {
  return SysError{ErrorSource::ntstatus, static_cast<std::int64_t>(status), std::move(context)};
}
#endif

}  // namespace tofu::platform
