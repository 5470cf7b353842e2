#include "support/blocked_waiter.hpp"
#include "support/thread_state.hpp"

#include <cstdio>
#include <cstdlib>

#ifdef _WIN32
#include <windows.h>
#else
#include <unistd.h>
#endif

namespace tofu::test {
namespace {

std::uint64_t os_thread_id() {
#ifdef _WIN32
  return GetCurrentThreadId();
#else
  return static_cast<std::uint64_t>(::gettid());
#endif
}

}  // namespace

bool BlockedWaiter::can_confirm_asleep() noexcept {
  // A host that reports states says this very thread is running.
  static const bool known = thread_state(os_thread_id()) == ThreadState::running;
  return known;
}

BlockedWaiter::BlockedWaiter(std::function<void()> call) {
  std::promise<void> started;
  std::future<void> started_future = started.get_future();
  thread_ = std::thread([this, call = std::move(call), &started] {
    tid_.store(os_thread_id());
    entered_ = Clock::now();
    started.set_value();
    call();
    returned_ = Clock::now();
    done_.set_value();
  });
  started_future.wait();
  if (!can_confirm_asleep()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return;
  }
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline && done_future_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (thread_state(tid_.load()) == ThreadState::asleep) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (thread_state(tid_.load()) == ThreadState::asleep) {
        asleep_ = true;
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

bool BlockedWaiter::returned_within(std::chrono::milliseconds timeout) {
  if (!thread_.joinable()) return true;
  if (done_future_.wait_for(timeout) != std::future_status::ready) return false;
  thread_.join();
  return true;
}

BlockedWaiter::~BlockedWaiter() {
  if (!thread_.joinable()) return;
  if (done_future_.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    std::fputs("BlockedWaiter: the blocking call never returned (a lost wake-up); exiting\n", stderr);
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(1);
  }
  thread_.join();
}

}  // namespace tofu::test
