#pragma once
// Cross-thread wake-up for a Linux reactor: one non-blocking eventfd (see decision-log.md, D-07).
// notify() may be called from any thread, any number of times; the counter coalesces them, so the
// reactor sees one readable event and one drain() consumes every pending wake.
#include <cstdint>

#include "platform/common/result.hpp"
#include "platform/linux/unique_fd.hpp"

namespace tofu::platform::linux_os {

class EventNotifier {
 public:
  static Result<EventNotifier> create();

  // Thread-safe. Never blocks: when the counter is saturated a wake is already pending.
  SysStatus notify() const;
  // Reactor thread: consume all pending wakes; returns how many notify() calls were coalesced
  // (0 when nothing was pending).
  Result<std::uint64_t> drain() const;
  // Register this with poll/epoll for readability.
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

 private:
  explicit EventNotifier(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace tofu::platform::linux_os
