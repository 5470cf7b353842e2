#include "platform/windows/winsock.hpp"

#include <mutex>

namespace tofu::platform::win {
namespace {
// Not every mingw-w64 header set defines these; the values are the documented ones.
constexpr DWORD kSioBaseHandle = 0x48000022;
constexpr DWORD kSioBspHandlePoll = 0x4800001D;

Result<SOCKET> query_handle(SOCKET s, DWORD code, const char* what) {
  SOCKET out = INVALID_SOCKET;
  DWORD bytes = 0;
  if (WSAIoctl(s, code, nullptr, 0, &out, sizeof out, &bytes, nullptr, nullptr) == SOCKET_ERROR ||
      out == INVALID_SOCKET) {
    return last_winsock_error(what);
  }
  return out;
}
}  // namespace

SysStatus ensure_winsock() {
  static const int rc = [] {
    WSADATA data;
    return WSAStartup(MAKEWORD(2, 2), &data);
  }();
  if (rc != 0) return SysError{ErrorSource::winsock, rc, "WSAStartup(2.2)"};
  return {};
}

Result<SOCKET> base_handle(SOCKET s) {
  auto base = query_handle(s, kSioBaseHandle, "WSAIoctl(SIO_BASE_HANDLE)");
  if (base.ok()) return base;
  auto bsp = query_handle(s, kSioBspHandlePoll, "WSAIoctl(SIO_BSP_HANDLE_POLL)");
  if (bsp.ok()) return bsp;
  return std::move(base).error();  // report the primary failure: it is the one users can look up
}

SysStatus set_nonblocking(SOCKET s, bool on) {
  u_long mode = on ? 1 : 0;
  if (ioctlsocket(s, static_cast<long>(FIONBIO), &mode) != 0) return last_winsock_error("ioctlsocket(FIONBIO)");
  return {};
}

}  // namespace tofu::platform::win
