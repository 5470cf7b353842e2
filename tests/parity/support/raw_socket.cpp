#include "raw_socket.hpp"

#include <cstring>
#include <utility>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>

#include "platform/windows/winsock.hpp"
#else
#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#endif

namespace tofu::parity {
namespace {

#ifdef _WIN32
using NativeSocket = SOCKET;
constexpr NativeSocket kNativeInvalid = INVALID_SOCKET;
void close_native(NativeSocket s) { ::closesocket(s); }
std::string last_error(const char* what) { return std::string(what) + " failed, WSA error " + std::to_string(WSAGetLastError()); }
void init_sockets() { (void)tofu::platform::win::ensure_winsock(); }
using IoLen = int;
constexpr int kSendFlags = 0;
#else
using NativeSocket = int;
constexpr NativeSocket kNativeInvalid = -1;
void close_native(NativeSocket s) { ::close(s); }
std::string last_error(const char* what) { return std::string(what) + " failed: " + std::strerror(errno); }
void init_sockets() {}
using IoLen = std::size_t;
constexpr int kSendFlags = MSG_NOSIGNAL;  // a closed peer must fail the send, not kill the test with SIGPIPE
#endif

NativeSocket native(std::uintptr_t h) { return static_cast<NativeSocket>(h); }

void set_error(std::string* out, std::string text) {
  if (out != nullptr) *out = std::move(text);
}

// Fills `ss` for ip:port; returns the address length, 0 for a bad literal.
socklen_t make_sockaddr(const std::string& ip, std::uint16_t port, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (ip.find(':') != std::string::npos) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    if (inet_pton(AF_INET6, ip.c_str(), &a6->sin6_addr) != 1) return 0;
    return static_cast<socklen_t>(sizeof(sockaddr_in6));
  }
  auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
  a4->sin_family = AF_INET;
  a4->sin_port = htons(port);
  if (inet_pton(AF_INET, ip.c_str(), &a4->sin_addr) != 1) return 0;
  return static_cast<socklen_t>(sizeof(sockaddr_in));
}

NativeSocket open_bound(const std::string& ip, std::uint16_t port, int rcvbuf, std::string* error) {
  init_sockets();
  sockaddr_storage ss{};
  const socklen_t len = make_sockaddr(ip, port, ss);
  if (len == 0) {
    set_error(error, "bad IP literal " + ip);
    return kNativeInvalid;
  }
  NativeSocket s = ::socket(ss.ss_family, SOCK_STREAM, IPPROTO_TCP);
  if (s == kNativeInvalid) {
    set_error(error, last_error("socket"));
    return kNativeInvalid;
  }
  if (rcvbuf > 0) {
    ::setsockopt(s, SOL_SOCKET, SO_RCVBUF, reinterpret_cast<const char*>(&rcvbuf), sizeof rcvbuf);
  }
  if (::bind(s, reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
    set_error(error, last_error("bind"));
    close_native(s);
    return kNativeInvalid;
  }
  return s;
}

}  // namespace

RawSocket::~RawSocket() { close(); }

RawSocket::RawSocket(RawSocket&& other) noexcept : h_(std::exchange(other.h_, kInvalid)) {}

RawSocket& RawSocket::operator=(RawSocket&& other) noexcept {
  if (this != &other) {
    close();
    h_ = std::exchange(other.h_, kInvalid);
  }
  return *this;
}

bool RawSocket::valid() const noexcept { return h_ != kInvalid; }

RawSocket RawSocket::connect_tcp(const std::string& ip, std::uint16_t port, std::string* error) {
  init_sockets();
  sockaddr_storage ss{};
  const socklen_t len = make_sockaddr(ip, port, ss);
  if (len == 0) {
    set_error(error, "bad IP literal " + ip);
    return {};
  }
  NativeSocket s = ::socket(ss.ss_family, SOCK_STREAM, IPPROTO_TCP);
  if (s == kNativeInvalid) {
    set_error(error, last_error("socket"));
    return {};
  }
  if (::connect(s, reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
    set_error(error, last_error("connect"));
    close_native(s);
    return {};
  }
  int one = 1;
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&one), sizeof one);
  return RawSocket(static_cast<Handle>(s));
}

RawSocket RawSocket::listen_tcp(const std::string& ip, std::uint16_t port, int rcvbuf, std::string* error) {
  NativeSocket s = open_bound(ip, port, rcvbuf, error);
  if (s == kNativeInvalid) return {};
  if (::listen(s, 64) != 0) {
    set_error(error, last_error("listen"));
    close_native(s);
    return {};
  }
  return RawSocket(static_cast<Handle>(s));
}

RawSocket RawSocket::bind_tcp(const std::string& ip, std::string* error) {
  NativeSocket s = open_bound(ip, 0, 0, error);
  if (s == kNativeInvalid) return {};
  return RawSocket(static_cast<Handle>(s));
}

std::uint16_t RawSocket::local_port() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(native(h_), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
}

int RawSocket::wait_readable(std::chrono::milliseconds timeout) const {
#ifdef _WIN32
  WSAPOLLFD p{};
  p.fd = native(h_);
  p.events = POLLRDNORM;
  const int r = ::WSAPoll(&p, 1, static_cast<INT>(timeout.count()));
#else
  pollfd p{};
  p.fd = native(h_);
  p.events = POLLIN;
  int r = 0;
  do {
    r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (r < 0 && errno == EINTR);
#endif
  if (r < 0) return -1;
  return r == 0 ? 0 : 1;
}

RawSocket RawSocket::accept(std::chrono::milliseconds timeout, std::string* error) {
  const int r = wait_readable(timeout);
  if (r <= 0) {
    set_error(error, r == 0 ? std::string("accept: timed out") : last_error("poll"));
    return {};
  }
  NativeSocket s = ::accept(native(h_), nullptr, nullptr);
  if (s == kNativeInvalid) {
    set_error(error, last_error("accept"));
    return {};
  }
  int one = 1;
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&one), sizeof one);
  return RawSocket(static_cast<Handle>(s));
}

bool RawSocket::send_all(std::span<const std::byte> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const std::size_t chunk = bytes.size() - done;
    const auto n = ::send(native(h_), reinterpret_cast<const char*>(bytes.data() + done),
                          static_cast<IoLen>(chunk > 1u << 20 ? 1u << 20 : chunk), kSendFlags);
    if (n <= 0) {
#ifndef _WIN32
      if (n < 0 && errno == EINTR) continue;
#endif
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool RawSocket::set_send_timeout(std::chrono::milliseconds timeout) {
#ifdef _WIN32
  const DWORD ms = static_cast<DWORD>(timeout.count());
  return ::setsockopt(native(h_), SOL_SOCKET, SO_SNDTIMEO, reinterpret_cast<const char*>(&ms), sizeof ms) == 0;
#else
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  return ::setsockopt(native(h_), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0;
#endif
}

bool RawSocket::recv_exact(std::span<std::byte> out, std::chrono::milliseconds timeout) {
  std::size_t done = 0;
  while (done < out.size()) {
    if (wait_readable(timeout) <= 0) return false;
    const auto n = ::recv(native(h_), reinterpret_cast<char*>(out.data() + done), static_cast<IoLen>(out.size() - done), 0);
    if (n <= 0) {
#ifndef _WIN32
      if (n < 0 && errno == EINTR) continue;
#endif
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::vector<std::byte> RawSocket::recv_exact(std::size_t n, std::chrono::milliseconds timeout, bool* ok) {
  std::vector<std::byte> out(n);
  const bool got = recv_exact(std::span<std::byte>(out), timeout);
  if (ok != nullptr) *ok = got;
  if (!got) out.clear();
  return out;
}

bool RawSocket::wait_closed(std::chrono::milliseconds timeout, std::size_t* discarded) {
  std::size_t total = 0;
  char buf[4096];
  bool closed = false;
  for (;;) {
    if (wait_readable(timeout) <= 0) break;
    const auto n = ::recv(native(h_), buf, static_cast<IoLen>(sizeof buf), 0);
    if (n > 0) {
      total += static_cast<std::size_t>(n);
      continue;
    }
#ifndef _WIN32
    if (n < 0 && errno == EINTR) continue;
#endif
    closed = true;  // 0 = end of stream, < 0 = reset or another error: either way the peer is gone
    break;
  }
  if (discarded != nullptr) *discarded = total;
  return closed;
}

void RawSocket::close() {
  if (h_ == kInvalid) return;
  close_native(native(std::exchange(h_, kInvalid)));
}

void RawSocket::abort() {
  if (h_ == kInvalid) return;
  linger lg{};
  lg.l_onoff = 1;
  lg.l_linger = 0;
  ::setsockopt(native(h_), SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&lg), sizeof lg);
  close();
}

bool ipv6_loopback_available() {
  RawSocket s = RawSocket::bind_tcp("::1");
  return s.valid();
}

}  // namespace tofu::parity
