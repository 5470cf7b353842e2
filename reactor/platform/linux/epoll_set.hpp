#pragma once
// Thin epoll wrapper for the epoll backend: add / modify / remove an fd with an interest mask and
// a 64-bit user key, and wait for a batch. Translation to Readiness lives here so the backend never
// touches EPOLL* bits.
#include <sys/epoll.h>

#include <cstdint>
#include <span>

#include "platform/common/readiness.hpp"
#include "platform/common/result.hpp"
#include "platform/linux/unique_fd.hpp"

namespace tofu::platform::linux_os {

struct EpollEvent {
  std::uint64_t key = 0;
  Readiness readiness;
};

class EpollSet {
 public:
  static Result<EpollSet> create();

  SysStatus add(int fd, Interest interest, std::uint64_t key);
  SysStatus modify(int fd, Interest interest, std::uint64_t key);
  SysStatus remove(int fd);
  // Waits up to timeout_ms (-1 = forever) and fills `out`; returns how many were filled.
  // EINTR counts as "0 events", not an error.
  Result<std::size_t> wait(std::span<EpollEvent> out, int timeout_ms);

  static std::uint32_t to_epoll(Interest interest) noexcept;
  static Readiness from_epoll(std::uint32_t events) noexcept;

 private:
  explicit EpollSet(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  epoll_event buffer_[256]{};
};

}  // namespace tofu::platform::linux_os
