#pragma once
// Runs a call that may block inside the library (destroy(), shutdown()...) on its own thread and
// waits for it for a bounded time. If it has not returned by then the test cannot go on: that
// thread is stuck and still uses the test's objects, so this prints what did not return, where,
// and every thread's stack, and ends the process with a failure instead of hanging until CTest's
// timeout. For tests that prove an untimed wait ends (D-47).
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "support/thread_dump.hpp"
#include "support/watchdog.hpp"

namespace tofu::test {

inline void must_return_within(std::chrono::milliseconds limit, const std::string& what, std::function<void()> call) {
  struct Done {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  auto state = std::make_shared<Done>();
  std::thread runner([state, call = std::move(call)] {
    call();
    std::lock_guard lock(state->mu);
    state->done = true;
    state->cv.notify_all();
  });
  bool returned = false;
  {
    std::unique_lock lock(state->mu);
    returned = state->cv.wait_for(lock, limit, [&] { return state->done; });
  }
  if (returned) {
    runner.join();
    return;
  }
  std::fprintf(stderr, "\nFAILED: %s did not return within %lld ms, in %s; the stack of every thread follows\n",
               what.c_str(), static_cast<long long>(limit.count()), Watchdog::instance().where().c_str());
  std::fflush(stderr);
  dump_all_threads();
  std::fflush(stdout);
  std::_Exit(1);
}

}  // namespace tofu::test
