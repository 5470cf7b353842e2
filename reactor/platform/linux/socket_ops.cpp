#include "platform/common/socket_ops.hpp"
#include "platform/common/uds_access.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tofu::platform {
namespace {

const sockaddr* sa(const SocketAddress& a) { return reinterpret_cast<const sockaddr*>(a.storage.data()); }

bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK; }

}  // namespace

int SocketAddress::family() const noexcept { return sa(*this)->sa_family; }

Result<SocketAddress> uds_address(std::string_view path) {
  sockaddr_un un{};
  if (path.empty() || path.size() >= sizeof un.sun_path) {
    return posix_error(ENAMETOOLONG, "uds path '" + std::string(path) + "'");
  }
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, path.data(), path.size());
  SocketAddress a;
  a.kind = AddressKind::uds;
  a.length = static_cast<std::uint32_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  std::memcpy(a.storage.data(), &un, sizeof un);
  return a;
}

Result<NativeSocket> open_stream(const SocketAddress& a) {
  const int fd = ::socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return last_posix_error("socket");
  if (a.kind == AddressKind::tcp) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // messages, not streams
  }
  return fd;
}

SysStatus bind_listen(NativeSocket s, const SocketAddress& a, int backlog, std::uint32_t uds_mode) {
  if (a.kind == AddressKind::tcp) {
    const int one = 1;
    if (::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
      return last_posix_error("setsockopt(SO_REUSEADDR)");
    }
  } else {
    const auto* un = reinterpret_cast<const sockaddr_un*>(a.storage.data());
    struct stat st{};
    if (::stat(un->sun_path, &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(un->sun_path);
  }
  if (::bind(s, sa(a), a.length) != 0) return last_posix_error("bind");
  if (a.kind == AddressKind::uds) {
    // Before listen(): until then every connect is refused, so none gets in under the umask's mode.
    const auto* un = reinterpret_cast<const sockaddr_un*>(a.storage.data());
    if (auto st = set_uds_file_mode(un->sun_path, uds_mode); !st.ok()) {
      ::unlink(un->sun_path);
      return st;
    }
  }
  if (::listen(s, backlog) != 0) return last_posix_error("listen");
  return {};
}

Result<SocketAddress> local_address(NativeSocket s, AddressKind kind) {
  SocketAddress a;
  a.kind = kind;
  socklen_t len = sizeof a.storage;
  if (::getsockname(s, reinterpret_cast<sockaddr*>(a.storage.data()), &len) != 0) {
    return last_posix_error("getsockname");
  }
  a.length = len;
  return a;
}

void close_socket(NativeSocket s) noexcept {
  if (s >= 0) ::close(s);
}

void remove_uds_path(std::string_view path) noexcept {
  const std::string p(path);
  ::unlink(p.c_str());
}

IoResult accept_one(NativeSocket listener, NativeSocket* accepted) {
  for (;;) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on UDS
      *accepted = fd;
      return {};
    }
    if (errno == EINTR) continue;
    // A connection that died in the backlog is not the listener's failure: try the next one.
    if (errno == ECONNABORTED || errno == EPROTO) continue;
    if (would_block(errno)) return IoResult{IoState::would_block, 0, {}};
    return IoResult{IoState::failed, 0, last_posix_error("accept4")};
  }
}

IoResult start_connect(NativeSocket s, const SocketAddress& a) {
  for (;;) {
    if (::connect(s, sa(a), a.length) == 0) return {};
    if (errno == EINTR) continue;
    // UDS connect to a full backlog reports EAGAIN; treat it like a refused connection.
    if (errno == EINPROGRESS) return IoResult{IoState::in_progress, 0, {}};
    return IoResult{IoState::failed, 0, last_posix_error("connect")};
  }
}

SysStatus connect_result(NativeSocket s) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return last_posix_error("getsockopt(SO_ERROR)");
  if (err != 0) return posix_error(err, "connect");
  return {};
}

IoResult send_some(NativeSocket s, std::span<const ConstBuffer> buffers) {
  iovec iov[128];
  const std::size_t n = std::min<std::size_t>(buffers.size(), std::size(iov));
  for (std::size_t i = 0; i < n; ++i) {
    iov[i].iov_base = const_cast<std::byte*>(buffers[i].data);  // sendmsg does not write through it
    iov[i].iov_len = buffers[i].size;
  }
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = n;
  for (;;) {
    const ssize_t sent = ::sendmsg(s, &msg, MSG_NOSIGNAL);
    if (sent >= 0) return IoResult{IoState::done, static_cast<std::size_t>(sent), {}};
    if (errno == EINTR) continue;
    if (would_block(errno)) return IoResult{IoState::would_block, 0, {}};
    return IoResult{IoState::failed, 0, last_posix_error("sendmsg")};
  }
}

IoResult recv_some(NativeSocket s, std::span<std::byte> into) {
  for (;;) {
    const ssize_t got = ::recv(s, into.data(), into.size(), 0);
    if (got > 0) return IoResult{IoState::done, static_cast<std::size_t>(got), {}};
    if (got == 0) return IoResult{IoState::closed, 0, {}};
    if (errno == EINTR) continue;
    if (would_block(errno)) return IoResult{IoState::would_block, 0, {}};
    return IoResult{IoState::failed, 0, last_posix_error("recv")};
  }
}

bool is_connection_refused(const SysError& e) noexcept {
  return e.source == ErrorSource::posix && (e.code == ECONNREFUSED || e.code == EAGAIN);
}
bool is_path_not_found(const SysError& e) noexcept {
  return e.source == ErrorSource::posix && (e.code == ENOENT || e.code == ENOTDIR);
}
bool is_connection_reset(const SysError& e) noexcept {
  return e.source == ErrorSource::posix && (e.code == ECONNRESET || e.code == EPIPE || e.code == ECONNABORTED);
}

}  // namespace tofu::platform
