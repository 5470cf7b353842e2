#include "support/watchdog.hpp"

#include <cstdio>
#include <cstdlib>

#include "support/thread_dump.hpp"

#ifndef TOFU_TEST_TIMEOUT_SECONDS
#define TOFU_TEST_TIMEOUT_SECONDS 120
#endif

namespace tofu::test {

std::chrono::seconds Watchdog::configured_limit() {
  if (const char* v = std::getenv("TOFU_TEST_WATCHDOG_SECONDS"); v != nullptr && *v != '\0') {
    return std::chrono::seconds(std::strtol(v, nullptr, 10));
  }
  constexpr long timeout = TOFU_TEST_TIMEOUT_SECONDS;
  return std::chrono::seconds(timeout > 40 ? timeout - 20 : timeout / 2);
}

Watchdog& Watchdog::instance() {
  static Watchdog w;
  return w;
}

Watchdog::~Watchdog() { stop(); }

void Watchdog::start(std::chrono::seconds limit) {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || limit.count() <= 0) return;
  limit_ = limit;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Watchdog::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void Watchdog::test_started(const std::string& name) {
  std::lock_guard lock(mu_);
  test_ = name;
  sections_.clear();
  started_ = std::chrono::steady_clock::now();
  fired_ = false;
  cv_.notify_all();
}

void Watchdog::test_ended() {
  std::lock_guard lock(mu_);
  test_.clear();
  sections_.clear();
}

void Watchdog::section_started(const std::string& name) {
  std::lock_guard lock(mu_);
  sections_.push_back(name);
}

void Watchdog::section_ended() {
  std::lock_guard lock(mu_);
  if (!sections_.empty()) sections_.pop_back();
}

std::string Watchdog::where() const {
  std::unique_lock lock(mu_, std::try_to_lock);
  if (!lock.owns_lock()) return "an unknown test case (the watchdog's lock is held)";
  return where_locked();
}

std::string Watchdog::where_locked() const {
  if (test_.empty()) return "no test case (outside Catch2's test cases)";
  std::string s = "test case \"" + test_ + "\"";
  std::string path;
  for (const std::string& section : sections_) {
    if (section == test_) continue;  // Catch2 reports the test case as its outermost section
    path += path.empty() ? "\"" : " / \"";
    path += section + "\"";
  }
  if (!path.empty()) s += ", section " + path;
  return s;
}

void Watchdog::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (test_.empty() || fired_) {
      // Timed, so that even a lost notification costs at most a second (no untimed wait here).
      cv_.wait_for(lock, std::chrono::seconds(1));
      continue;
    }
    const auto deadline = started_ + limit_;
    if (std::chrono::steady_clock::now() < deadline) {
      cv_.wait_until(lock, deadline);
      continue;
    }
    fired_ = true;
    const std::string where = where_locked();
    lock.unlock();
    std::fprintf(stderr,
                 "\ntofu watchdog: %s still runs after %lld s (CTest's timeout ends it soon); the stack of every "
                 "thread follows\n",
                 where.c_str(), static_cast<long long>(limit_.count()));
    std::fflush(stderr);
    dump_all_threads();
    std::fprintf(stderr, "tofu watchdog: end of the stacks\n");
    std::fflush(stderr);
    lock.lock();
  }
}

}  // namespace tofu::test
