#include "platform/linux/epoll_set.hpp"

#include <algorithm>
#include <cerrno>

namespace tofu::platform::linux_os {

Result<EpollSet> EpollSet::create() {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return last_posix_error("epoll_create1");
  return EpollSet(UniqueFd(fd));
}

std::uint32_t EpollSet::to_epoll(Interest interest) noexcept {
  // Level-triggered (decision-log D-08). A half-close (RDHUP) is asked for only with read interest:
  // while reading is paused for backpressure a level-triggered RDHUP would fire on every wait.
  // HUP and ERR are always reported by the kernel.
  std::uint32_t ev = 0;
  if (interest.read) ev |= EPOLLIN | EPOLLRDHUP;
  if (interest.write) ev |= EPOLLOUT;
  return ev;
}

Readiness EpollSet::from_epoll(std::uint32_t events) noexcept {
  Readiness r;
  r.readable = (events & (EPOLLIN | EPOLLPRI)) != 0;
  r.writable = (events & EPOLLOUT) != 0;
  r.hangup = (events & (EPOLLHUP | EPOLLRDHUP)) != 0;
  r.error = (events & EPOLLERR) != 0;
  return r;
}

SysStatus EpollSet::add(int fd, Interest interest, std::uint64_t key) {
  epoll_event ev{};
  ev.events = to_epoll(interest);
  ev.data.u64 = key;
  if (::epoll_ctl(fd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return last_posix_error("epoll_ctl(ADD)");
  return {};
}

SysStatus EpollSet::modify(int fd, Interest interest, std::uint64_t key) {
  epoll_event ev{};
  ev.events = to_epoll(interest);
  ev.data.u64 = key;
  if (::epoll_ctl(fd_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) return last_posix_error("epoll_ctl(MOD)");
  return {};
}

SysStatus EpollSet::remove(int fd) {
  if (::epoll_ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr) != 0) return last_posix_error("epoll_ctl(DEL)");
  return {};
}

Result<std::size_t> EpollSet::wait(std::span<EpollEvent> out, int timeout_ms) {
  const int cap = static_cast<int>(std::min<std::size_t>(out.size(), std::size(buffer_)));
  const int n = ::epoll_wait(fd_.get(), buffer_, cap, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return std::size_t{0};
    return last_posix_error("epoll_wait");
  }
  for (int i = 0; i < n; ++i) {
    out[static_cast<std::size_t>(i)] = EpollEvent{buffer_[i].data.u64, from_epoll(buffer_[i].events)};
  }
  return static_cast<std::size_t>(n);
}

}  // namespace tofu::platform::linux_os
