#include "platform/linux/poll_set.hpp"

#include <cerrno>

namespace tofu::platform::linux_os {

short PollSet::to_poll(Interest interest) noexcept {
  short ev = 0;  // same rule as EpollSet::to_epoll: RDHUP only with read interest
  if (interest.read) ev = static_cast<short>(ev | POLLIN | POLLRDHUP);
  if (interest.write) ev = static_cast<short>(ev | POLLOUT);
  return ev;
}

Readiness PollSet::from_poll(short revents) noexcept {
  Readiness r;
  r.readable = (revents & (POLLIN | POLLPRI)) != 0;
  r.writable = (revents & POLLOUT) != 0;
  r.hangup = (revents & (POLLHUP | POLLRDHUP)) != 0;
  r.error = (revents & (POLLERR | POLLNVAL)) != 0;
  return r;
}

SysStatus PollSet::add(int fd, Interest interest, std::uint64_t key) {
  if (fd < 0) return posix_error(EBADF, "PollSet::add");
  if (slot_of_.contains(fd)) return posix_error(EEXIST, "PollSet::add");
  slot_of_.emplace(fd, fds_.size());
  fds_.push_back(pollfd{fd, to_poll(interest), 0});
  keys_.push_back(key);
  return {};
}

SysStatus PollSet::modify(int fd, Interest interest, std::uint64_t key) {
  const auto it = slot_of_.find(fd);
  if (it == slot_of_.end()) return posix_error(ENOENT, "PollSet::modify");
  fds_[it->second].events = to_poll(interest);
  keys_[it->second] = key;
  return {};
}

SysStatus PollSet::remove(int fd) {
  const auto it = slot_of_.find(fd);
  if (it == slot_of_.end()) return posix_error(ENOENT, "PollSet::remove");
  const std::size_t slot = it->second;
  const std::size_t last = fds_.size() - 1;
  if (slot != last) {  // swap-remove keeps the array dense
    fds_[slot] = fds_[last];
    keys_[slot] = keys_[last];
    slot_of_[fds_[slot].fd] = slot;
  }
  fds_.pop_back();
  keys_.pop_back();
  slot_of_.erase(it);
  return {};
}

Result<std::size_t> PollSet::wait(std::span<PollEvent> out, int timeout_ms) {
  const int n = ::poll(fds_.data(), static_cast<nfds_t>(fds_.size()), timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return std::size_t{0};
    return last_posix_error("poll");
  }
  std::size_t filled = 0;
  const std::size_t count = fds_.size();
  for (std::size_t i = 0; i < count && filled < out.size() && n > 0; ++i) {
    const std::size_t slot = (rotate_ + i) % count;
    if (fds_[slot].revents == 0) continue;
    out[filled++] = PollEvent{keys_[slot], from_poll(fds_[slot].revents)};
  }
  if (count > 0) rotate_ = (rotate_ + 1) % count;
  return filled;
}

}  // namespace tofu::platform::linux_os
