// Winsock implementation of platform/common/socket_ops.hpp (TCP IPv4/IPv6 and AF_UNIX).
#include "platform/common/socket_ops.hpp"
#include "platform/common/uds_access.hpp"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <afunix.h>
#include <windows.h>

#include <algorithm>
#include <cstring>

#include "platform/windows/winsock.hpp"

namespace tofu::platform {
namespace {

SOCKET sock(NativeSocket s) { return static_cast<SOCKET>(s); }
const sockaddr* sa(const SocketAddress& a) { return reinterpret_cast<const sockaddr*>(a.storage.data()); }
bool would_block(int e) { return e == WSAEWOULDBLOCK; }

}  // namespace

int SocketAddress::family() const noexcept { return sa(*this)->sa_family; }

Result<SocketAddress> uds_address(std::string_view path) {
  sockaddr_un un{};
  if (path.empty() || path.size() >= sizeof un.sun_path) {
    return SysError{ErrorSource::winsock, WSAENAMETOOLONG, "uds path '" + std::string(path) + "'"};
  }
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, path.data(), path.size());
  SocketAddress a;
  a.kind = AddressKind::uds;
  a.length = static_cast<std::uint32_t>(sizeof un);
  std::memcpy(a.storage.data(), &un, sizeof un);
  return a;
}

Result<NativeSocket> open_stream(const SocketAddress& a) {
  if (auto st = win::ensure_winsock(); !st.ok()) return std::move(st).error();
  SOCKET s = ::WSASocketW(a.family(), SOCK_STREAM, a.kind == AddressKind::tcp ? IPPROTO_TCP : 0, nullptr, 0,
                          WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (s == INVALID_SOCKET) return last_winsock_error("WSASocketW");
  if (auto st = win::set_nonblocking(s); !st.ok()) {
    ::closesocket(s);
    return std::move(st).error();
  }
  if (a.kind == AddressKind::tcp) {
    const BOOL one = TRUE;
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&one), sizeof one);
  }
  return static_cast<NativeSocket>(s);
}

SysStatus bind_listen(NativeSocket s, const SocketAddress& a, int backlog, std::uint32_t uds_mode) {
  if (a.kind == AddressKind::tcp) {
    // Windows' SO_REUSEADDR lets another process steal the port; exclusive use is the safe default.
    const BOOL one = TRUE;
    if (::setsockopt(sock(s), SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&one), sizeof one) != 0) {
      return last_winsock_error("setsockopt(SO_EXCLUSIVEADDRUSE)");
    }
  } else {
    const auto* un = reinterpret_cast<const sockaddr_un*>(a.storage.data());
    ::DeleteFileA(un->sun_path);  // a stale socket file blocks bind
  }
  if (::bind(sock(s), sa(a), static_cast<int>(a.length)) != 0) return last_winsock_error("bind");
  if (a.kind == AddressKind::uds) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(a.storage.data());
    if (auto st = set_uds_file_mode(un->sun_path, uds_mode); !st.ok()) return st;  // a no-op on Windows
  }
  if (::listen(sock(s), backlog) != 0) return last_winsock_error("listen");
  return {};
}

Result<SocketAddress> local_address(NativeSocket s, AddressKind kind) {
  SocketAddress a;
  a.kind = kind;
  int len = static_cast<int>(sizeof a.storage);
  if (::getsockname(sock(s), reinterpret_cast<sockaddr*>(a.storage.data()), &len) != 0) {
    return last_winsock_error("getsockname");
  }
  a.length = static_cast<std::uint32_t>(len);
  return a;
}

void close_socket(NativeSocket s) noexcept {
  if (s != kInvalidSocket) ::closesocket(sock(s));
}

void remove_uds_path(std::string_view path) noexcept {
  const std::string p(path);
  ::DeleteFileA(p.c_str());
}

IoResult accept_one(NativeSocket listener, NativeSocket* accepted) {
  for (;;) {
    SOCKET s = ::accept(sock(listener), nullptr, nullptr);
    if (s != INVALID_SOCKET) {
      (void)win::set_nonblocking(s);
      const BOOL one = TRUE;
      ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&one), sizeof one);
      *accepted = static_cast<NativeSocket>(s);
      return {};
    }
    const int e = WSAGetLastError();
    if (e == WSAECONNRESET) continue;  // died in the backlog: not the listener's failure
    if (would_block(e)) return IoResult{IoState::would_block, 0, {}};
    return IoResult{IoState::failed, 0, SysError{ErrorSource::winsock, e, "accept"}};
  }
}

IoResult start_connect(NativeSocket s, const SocketAddress& a) {
  if (::connect(sock(s), sa(a), static_cast<int>(a.length)) == 0) return {};
  const int e = WSAGetLastError();
  if (would_block(e) || e == WSAEINPROGRESS) return IoResult{IoState::in_progress, 0, {}};
  return IoResult{IoState::failed, 0, SysError{ErrorSource::winsock, e, "connect"}};
}

SysStatus connect_result(NativeSocket s) {
  int err = 0;
  int len = sizeof err;
  if (::getsockopt(sock(s), SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&err), &len) != 0) {
    return last_winsock_error("getsockopt(SO_ERROR)");
  }
  if (err != 0) return SysError{ErrorSource::winsock, err, "connect"};
  return {};
}

IoResult send_some(NativeSocket s, std::span<const ConstBuffer> buffers) {
  WSABUF bufs[128];
  const std::size_t n = std::min<std::size_t>(buffers.size(), std::size(bufs));
  for (std::size_t i = 0; i < n; ++i) {
    bufs[i].buf = reinterpret_cast<CHAR*>(const_cast<std::byte*>(buffers[i].data));  // not written through
    bufs[i].len = static_cast<ULONG>(buffers[i].size);
  }
  DWORD sent = 0;
  if (::WSASend(sock(s), bufs, static_cast<DWORD>(n), &sent, 0, nullptr, nullptr) == 0) {
    return IoResult{IoState::done, sent, {}};
  }
  const int e = WSAGetLastError();
  if (would_block(e)) return IoResult{IoState::would_block, 0, {}};
  return IoResult{IoState::failed, 0, SysError{ErrorSource::winsock, e, "WSASend"}};
}

IoResult recv_some(NativeSocket s, std::span<std::byte> into) {
  const int len = static_cast<int>(std::min<std::size_t>(into.size(), 1u << 30));
  const int got = ::recv(sock(s), reinterpret_cast<char*>(into.data()), len, 0);
  if (got > 0) return IoResult{IoState::done, static_cast<std::size_t>(got), {}};
  if (got == 0) return IoResult{IoState::closed, 0, {}};
  const int e = WSAGetLastError();
  if (would_block(e)) return IoResult{IoState::would_block, 0, {}};
  return IoResult{IoState::failed, 0, SysError{ErrorSource::winsock, e, "recv"}};
}

bool is_connection_refused(const SysError& e) noexcept {
  return e.source == ErrorSource::winsock && e.code == WSAECONNREFUSED;
}
bool is_path_not_found(const SysError& e) noexcept {
  return (e.source == ErrorSource::winsock || e.source == ErrorSource::win32) &&
         (e.code == ERROR_FILE_NOT_FOUND || e.code == ERROR_PATH_NOT_FOUND);
}
bool is_connection_reset(const SysError& e) noexcept {
  return e.source == ErrorSource::winsock &&
         (e.code == WSAECONNRESET || e.code == WSAECONNABORTED || e.code == WSAENETRESET || e.code == WSAESHUTDOWN);
}

}  // namespace tofu::platform
