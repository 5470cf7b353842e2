#pragma once
// Winsock helpers shared by the stage binaries and the Windows backend.
#include <winsock2.h>
#include <ws2tcpip.h>

#include <utility>

#include "platform/common/result.hpp"

namespace tofu::platform::win {

// WSAStartup(2.2) once per process, on first use; thread-safe. Never undone: sockets may outlive
// any single owner, and process exit releases Winsock anyway.
SysStatus ensure_winsock();

// The base provider handle of a socket: the handle AFD_POLL and the IOCP must see. Layered service
// providers wrap sockets; SIO_BASE_HANDLE unwraps them. Where an LSP refuses that ioctl, the
// provider handle one layer down (SIO_BSP_HANDLE_POLL, _SELECT, then SIO_BSP_HANDLE, accepted
// only when it differs from the socket) is asked again, layer by layer; WSAENOTSOCK stops at once
// (decision-log D-10, D-64).
Result<SOCKET> base_handle(SOCKET s);

// Sets FIONBIO.
SysStatus set_nonblocking(SOCKET s, bool on = true);

// Owns one SOCKET; closesocket exactly once.
class UniqueSocket {
 public:
  UniqueSocket() = default;
  explicit UniqueSocket(SOCKET s) noexcept : s_(s) {}
  UniqueSocket(UniqueSocket&& o) noexcept : s_(std::exchange(o.s_, INVALID_SOCKET)) {}
  UniqueSocket& operator=(UniqueSocket&& o) noexcept {
    if (this != &o) reset(std::exchange(o.s_, INVALID_SOCKET));
    return *this;
  }
  UniqueSocket(const UniqueSocket&) = delete;
  UniqueSocket& operator=(const UniqueSocket&) = delete;
  ~UniqueSocket() { reset(); }

  [[nodiscard]] SOCKET get() const noexcept { return s_; }
  [[nodiscard]] bool valid() const noexcept { return s_ != INVALID_SOCKET; }
  SOCKET release() noexcept { return std::exchange(s_, INVALID_SOCKET); }
  void reset(SOCKET s = INVALID_SOCKET) noexcept {
    if (s_ != INVALID_SOCKET) ::closesocket(s_);
    s_ = s;
  }

 private:
  SOCKET s_ = INVALID_SOCKET;
};

}  // namespace tofu::platform::win
