#pragma once
// A counting semaphore for tests: a count under a mutex and a condition variable (D-45).
// std::counting_semaphore (and atomic::wait, latch, barrier) is not used: in libstdc++ 12, which
// Debian 12 and mingw-w64 ship, it can sleep through a release (measured under Wine).
// acquire has a timeout only, so a missing release turns into a failure, never into a hang.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace tofu::test {

class Semaphore {
 public:
  explicit Semaphore(std::size_t initial) : count_(initial) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // Adds n; notifies while holding the lock so a woken waiter may destroy the semaphore at once.
  void release(std::size_t n = 1) {
    std::lock_guard lock(mu_);
    count_ += n;
    cv_.notify_all();
  }

  // Takes one within `timeout`; false when none came.
  [[nodiscard]] bool acquire_for(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return count_ > 0; })) return false;
    --count_;
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t count_;
};

}  // namespace tofu::test
