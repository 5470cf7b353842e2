#pragma once
// What makes a hung test readable in the CTest log (D-46): the test main starts one watchdog; a
// Catch2 listener tells it which test case and section run. When one test case runs longer than
// the limit (set a little below CTest's timeout), it prints that test case and section, then the
// stack of every thread, once; CTest still ends the test at its timeout and reports "Timeout".
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tofu::test {

class Watchdog {
 public:
  // The limit: TOFU_TEST_WATCHDOG_SECONDS from the environment if set (0 = off), else CTest's
  // per-test timeout (TOFU_TEST_TIMEOUT_SECONDS, compiled in) minus 20 s for the stack dump.
  static std::chrono::seconds configured_limit();

  // The process's watchdog (a function-local static).
  static Watchdog& instance();

  void start(std::chrono::seconds limit);  // 0 s: never fires
  void stop();

  void test_started(const std::string& name);
  void test_ended();
  void section_started(const std::string& name);
  void section_ended();

  // 'test case "x", section "a" / "b"', or "outside any test case". Never blocks: a crash report
  // may call it while another thread holds the lock.
  std::string where() const;

  ~Watchdog();

 private:
  Watchdog() = default;
  void run();
  std::string where_locked() const;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool stopping_ = false;
  std::chrono::seconds limit_{0};
  std::string test_;                   // empty between test cases
  std::vector<std::string> sections_;  // innermost last
  std::chrono::steady_clock::time_point started_{};
  bool fired_ = false;  // for the current test case
};

}  // namespace tofu::test
