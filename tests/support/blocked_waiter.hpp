#pragma once
// A blocking call (a wait, a dequeue) run on its own thread, for tests of wake-ups: the test wakes
// it only once the thread is inside the call, and can then show that the wake-up ended a call that
// was already waiting, not one that found the wake-up queued.
//   Where the OS reports thread states (support/thread_state: Linux's /proc, Windows'
//          NtQuerySystemInformation), "inside" = the thread is asleep in the kernel, twice 10 ms
//          apart, which the test checks with asleep_confirmed().
//   Wine reports no thread states (0 for every thread), so there "inside" = 100 ms after the
//          thread began the call; entered() still proves the order.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <thread>

namespace tofu::test {

class BlockedWaiter {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts `call` on a new thread and returns once that thread is inside it (see above).
  explicit BlockedWaiter(std::function<void()> call);
  // Fails fast: if the call never returned, the process exits with 1 instead of hanging in join.
  ~BlockedWaiter();
  BlockedWaiter(const BlockedWaiter&) = delete;
  BlockedWaiter& operator=(const BlockedWaiter&) = delete;

  // True when the kernel showed the thread asleep before the constructor returned.
  [[nodiscard]] bool asleep_confirmed() const noexcept { return asleep_; }
  // True on hosts that report thread states (Linux, Windows; not Wine).
  [[nodiscard]] static bool can_confirm_asleep() noexcept;
  // When the thread began the call.
  [[nodiscard]] Clock::time_point entered() const noexcept { return entered_; }
  // Waits up to `timeout` for the call to return; joins the thread when it did.
  bool returned_within(std::chrono::milliseconds timeout);
  // When the call returned (valid after returned_within() said true).
  [[nodiscard]] Clock::time_point returned() const noexcept { return returned_; }

 private:
  std::atomic<std::uint64_t> tid_{0};
  Clock::time_point entered_{};
  Clock::time_point returned_{};
  std::promise<void> done_;
  std::future<void> done_future_ = done_.get_future();
  bool asleep_ = false;
  std::thread thread_;
};

}  // namespace tofu::test
