#pragma once
// The Poller/Notifier facade (roadmap Phase II): the only view of readiness the engine has.
// Backends: linux/poll_poller.cpp, linux/epoll_poller.cpp, windows/afd_poller.cpp.
#include <cstdint>
#include <memory>
#include <span>

#include "platform/common/readiness.hpp"
#include "platform/common/result.hpp"
#include "platform/common/socket_ops.hpp"

namespace tofu::platform {

enum class PollerKind : std::uint8_t { poll, epoll, afd };

struct ReadyEvent {
  std::uint64_t key = 0;  // what the engine registered the socket with
  Readiness readiness;
};

// Wakes the reactor from any thread. Many notify() calls before the reactor runs coalesce into
// one wake.
class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual SysStatus notify() noexcept = 0;
};

class Poller {
 public:
  virtual ~Poller() = default;

  virtual SysStatus add(NativeSocket s, Interest interest, std::uint64_t key) = 0;
  virtual SysStatus modify(NativeSocket s, Interest interest, std::uint64_t key) = 0;
  // Stops watching s; the caller may close s right after (a backend whose kernel still holds state
  // for s keeps that state alive until the kernel lets go of it).
  virtual SysStatus remove(NativeSocket s) = 0;

  struct Wait {
    std::size_t count = 0;  // events written to the span
    bool woken = false;     // a notify() arrived (already consumed)
  };
  // Waits up to timeout_ms (-1 = until an event or a wake). Level semantics on every backend: a
  // socket that is still ready is reported again on the next wait.
  virtual Result<Wait> wait(std::span<ReadyEvent> out, int timeout_ms) = 0;

  virtual Notifier& notifier() noexcept = 0;
  [[nodiscard]] virtual PollerKind kind() const noexcept = 0;
};

// Creates a backend; fails with the OS error (or "not available on this OS").
Result<std::unique_ptr<Poller>> make_poller(PollerKind kind);
bool poller_available(PollerKind kind) noexcept;

}  // namespace tofu::platform
