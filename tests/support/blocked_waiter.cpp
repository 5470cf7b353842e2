#include "support/blocked_waiter.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

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

#ifndef _WIN32
// The state letter of thread `tid` of this process ('R', 'S', 'D', ...), or '?'.
char thread_state(std::uint64_t tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return '?';
  const auto paren = line.rfind(')');  // the command name may hold spaces and parentheses
  return paren != std::string::npos && paren + 2 < line.size() ? line[paren + 2] : '?';
}
#endif

}  // namespace

bool BlockedWaiter::can_confirm_asleep() noexcept {
#ifdef _WIN32
  return false;
#else
  return true;
#endif
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
#ifdef _WIN32
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
#else
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline && done_future_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    const char first = thread_state(tid_.load());
    if (first == 'S' || first == 'D') {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      const char second = thread_state(tid_.load());
      if (second == 'S' || second == 'D') {
        asleep_ = true;
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
#endif
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
