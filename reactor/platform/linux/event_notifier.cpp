#include "platform/linux/event_notifier.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace tofu::platform::linux_os {

Result<EventNotifier> EventNotifier::create() {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return last_posix_error("eventfd");
  return EventNotifier(UniqueFd(fd));
}

SysStatus EventNotifier::notify() const {
  const std::uint64_t one = 1;
  for (;;) {
    if (::write(fd_.get(), &one, sizeof one) == static_cast<ssize_t>(sizeof one)) return {};
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return {};  // counter saturated: a wake is pending anyway
    return last_posix_error("write(eventfd)");
  }
}

Result<std::uint64_t> EventNotifier::drain() const {
  std::uint64_t count = 0;
  for (;;) {
    if (::read(fd_.get(), &count, sizeof count) == static_cast<ssize_t>(sizeof count)) return count;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return std::uint64_t{0};
    return last_posix_error("read(eventfd)");
  }
}

}  // namespace tofu::platform::linux_os
