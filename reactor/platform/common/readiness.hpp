#pragma once
// What a backend reports about a socket, in OS-neutral terms. Every backend (poll, epoll, AFD)
// translates its own bits into these four so the engine never sees OS flags.
#include <cstdint>

namespace tofu::platform {

// What the engine wants to hear about a socket. Hang-ups and errors are always reported.
struct Interest {
  bool read = false;
  bool write = false;
  friend bool operator==(const Interest&, const Interest&) = default;
};

struct Readiness {
  bool readable = false;  // data, an incoming connection, or EOF waiting to be read
  bool writable = false;  // send space, or a non-blocking connect that finished (check SO_ERROR)
  bool hangup = false;    // peer closed / connection reset: no more data will come
  bool error = false;     // a socket error is pending (read SO_ERROR / the completion status)

  [[nodiscard]] bool any() const noexcept { return readable || writable || hangup || error; }
  friend bool operator==(const Readiness&, const Readiness&) = default;
};

}  // namespace tofu::platform
