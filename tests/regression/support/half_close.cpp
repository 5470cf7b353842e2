#include "half_close.hpp"

#include <cstring>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>

#include "platform/windows/winsock.hpp"
#else
#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace tofu::regression {
namespace {
constexpr std::uintptr_t kInvalid = ~std::uintptr_t{0};
#ifdef _WIN32
using Native = SOCKET;
void close_native(Native s) { ::closesocket(s); }
constexpr int kShutSend = SD_SEND;
constexpr int kSendFlags = 0;
using SendLen = int;
#else
using Native = int;
void close_native(Native s) { ::close(s); }
constexpr int kShutSend = SHUT_WR;
constexpr int kSendFlags = MSG_NOSIGNAL;
using SendLen = std::size_t;
#endif
Native native(std::uintptr_t h) { return static_cast<Native>(h); }
}  // namespace

HalfCloseSocket::~HalfCloseSocket() { close(); }

void HalfCloseSocket::close() {
  if (h_ == kInvalid) return;
  close_native(native(h_));
  h_ = kInvalid;
}

bool HalfCloseSocket::connect_loopback(std::uint16_t port, std::string* error) {
#ifdef _WIN32
  (void)tofu::platform::win::ensure_winsock();
#endif
  close();
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  Native s = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
#ifdef _WIN32
  if (s == INVALID_SOCKET) {
#else
  if (s < 0) {
#endif
    if (error != nullptr) *error = "socket() failed";
    return false;
  }
  if (::connect(s, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    if (error != nullptr) *error = "connect() failed";
    close_native(s);
    return false;
  }
  h_ = static_cast<std::uintptr_t>(s);
  return true;
}

bool HalfCloseSocket::send_all(std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(native(h_), reinterpret_cast<const char*>(bytes.data()),
                          static_cast<SendLen>(bytes.size()), kSendFlags);
    if (n <= 0) return false;
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

bool HalfCloseSocket::shutdown_send() { return ::shutdown(native(h_), kShutSend) == 0; }

bool HalfCloseSocket::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
#ifdef _WIN32
    WSAPOLLFD p{native(h_), POLLRDNORM, 0};
    const int r = WSAPoll(&p, 1, static_cast<int>(left.count()));
#else
    pollfd p{native(h_), POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
#endif
    if (r < 0) return true;
    if (r == 0) return false;
    const auto n = ::recv(native(h_), buf, sizeof buf, 0);
    if (n <= 0) return true;  // EOF or reset: the engine closed its side
  }
}

}  // namespace tofu::regression
