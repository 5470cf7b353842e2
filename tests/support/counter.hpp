#pragma once
// A count that one thread raises and another can wait on (a mutex and a condition variable, as
// tests/support/semaphore.hpp and for the same reason, D-45): a test waits for the event itself
// instead of polling the count with sleeps. The wait has a timeout only, so a count that never
// arrives turns into a failure, never into a hang.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace tofu::test {

class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void add(std::size_t n = 1) {
    std::lock_guard lock(mu_);
    count_ += n;
    cv_.notify_all();
  }

  [[nodiscard]] std::size_t value() const {
    std::lock_guard lock(mu_);
    return count_;
  }

  // True once `done(count)` holds (checked under the lock at each add()); false when it has not
  // within `timeout`. add(0) wakes waiters whose condition also reads other state.
  template <class Done>
  [[nodiscard]] bool wait_until(Done done, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return done(count_); });
  }

  // True once the count reaches `n`; false when it has not within `timeout`.
  [[nodiscard]] bool wait_at_least(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return count_ >= n; });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::size_t count_ = 0;
};

}  // namespace tofu::test
