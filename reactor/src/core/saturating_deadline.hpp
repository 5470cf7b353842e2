#pragma once
// now + timeout without overflow: a timeout past what the clock can represent (e.g.
// milliseconds::max(), "wait for ever") gives time_point::max(), and waits use it in bounded steps.
#include <chrono>
#include <condition_variable>

namespace tofu::detail {

inline std::chrono::steady_clock::time_point saturating_deadline(std::chrono::milliseconds timeout) {
  using SteadyClock = std::chrono::steady_clock;
  const SteadyClock::time_point now = SteadyClock::now();
  if (timeout.count() <= 0) return now;
  const auto room = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::time_point::max() - now);
  return timeout >= room ? SteadyClock::time_point::max() : now + timeout;
}

// Waits on `cv` until `ready()` or `deadline`, in steps of at most a day (libstdc++ converts a
// wait's deadline to other clocks, which overflows near time_point::max()). True when ready.
template <class Lock, class Ready>
bool wait_until_saturating(std::condition_variable& cv, Lock& lock, std::chrono::steady_clock::time_point deadline,
                           Ready ready) {
  using SteadyClock = std::chrono::steady_clock;
  constexpr auto kStep = std::chrono::hours(24);
  while (!ready()) {
    const SteadyClock::time_point now = SteadyClock::now();
    if (now >= deadline) return false;
    const SteadyClock::time_point step_end = deadline - now > kStep ? now + kStep : deadline;
    cv.wait_until(lock, step_end, ready);
  }
  return true;
}

}  // namespace tofu::detail
