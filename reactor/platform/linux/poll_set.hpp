#pragma once
// Thin poll(2) wrapper for the poll backend (the original tofu's model): a dense pollfd array with
// O(1) add / modify / remove through an fd -> slot index, and the same Readiness translation.
#include <poll.h>

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "platform/common/readiness.hpp"
#include "platform/common/result.hpp"

namespace tofu::platform::linux_os {

struct PollEvent {
  std::uint64_t key = 0;
  Readiness readiness;
};

class PollSet {
 public:
  SysStatus add(int fd, Interest interest, std::uint64_t key);
  SysStatus modify(int fd, Interest interest, std::uint64_t key);
  SysStatus remove(int fd);
  // Waits up to timeout_ms (-1 = forever); fills at most out.size() events, fairly rotating the
  // start so a busy low slot cannot starve later ones. EINTR counts as "0 events".
  Result<std::size_t> wait(std::span<PollEvent> out, int timeout_ms);
  [[nodiscard]] std::size_t size() const noexcept { return fds_.size(); }

  static short to_poll(Interest interest) noexcept;
  static Readiness from_poll(short revents) noexcept;

 private:
  std::vector<pollfd> fds_;
  std::vector<std::uint64_t> keys_;
  std::unordered_map<int, std::size_t> slot_of_;
  std::size_t rotate_ = 0;
};

}  // namespace tofu::platform::linux_os
