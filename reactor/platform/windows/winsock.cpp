#include "platform/windows/winsock.hpp"

#include <mutex>
#include <optional>

namespace tofu::platform::win {
namespace {
// Not every mingw-w64 header set defines these; the values are the documented ones.
constexpr DWORD kSioBaseHandle = 0x48000022;
constexpr DWORD kSioBspHandle = 0x4800001B;
constexpr DWORD kSioBspHandleSelect = 0x4800001C;
constexpr DWORD kSioBspHandlePoll = 0x4800001D;
// A chain of layered providers deeper than this is not a chain but a provider answering with itself.
constexpr int kMaxLayers = 8;

Result<SOCKET> query_handle(SOCKET s, DWORD code, const char* what) {
  SOCKET out = INVALID_SOCKET;
  DWORD bytes = 0;
  if (WSAIoctl(s, code, nullptr, 0, &out, sizeof out, &bytes, nullptr, nullptr) == SOCKET_ERROR ||
      out == INVALID_SOCKET) {
    return last_winsock_error(what);
  }
  return out;
}

// One layer down through the provider handles meant for polling, or nothing when none of them
// names a different socket (a provider answering with the socket itself has not unwrapped it).
std::optional<SOCKET> provider_below(SOCKET s) {
  for (const DWORD code : {kSioBspHandlePoll, kSioBspHandleSelect, kSioBspHandle}) {
    auto h = query_handle(s, code, "WSAIoctl(SIO_BSP_HANDLE_*)");
    if (h.ok() && h.value() != s) return h.value();
  }
  return std::nullopt;
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
  std::optional<SysError> first;  // the primary failure: it is the one users can look up
  for (int layer = 0; layer < kMaxLayers; ++layer) {
    auto base = query_handle(s, kSioBaseHandle, "WSAIoctl(SIO_BASE_HANDLE)");
    if (base.ok()) return base;
    if (!first) first = base.error();
    if (base.error().code == WSAENOTSOCK) break;  // not a socket at all: no provider can help
    // An LSP that refuses SIO_BASE_HANDLE: step through its provider handle and try again there.
    const auto below = provider_below(s);
    if (!below) break;
    s = *below;
  }
  return std::move(*first);
}

SysStatus set_nonblocking(SOCKET s, bool on) {
  u_long mode = on ? 1 : 0;
  if (ioctlsocket(s, static_cast<long>(FIONBIO), &mode) != 0) return last_winsock_error("ioctlsocket(FIONBIO)");
  return {};
}

}  // namespace tofu::platform::win
