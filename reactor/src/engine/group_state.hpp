#pragma once
// The receive side of a channel group: a queue the reactor fills and one application thread drains.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>

#include "core/saturating_deadline.hpp"
#include "tofu/engine.hpp"
#include "tofu/pool.hpp"

namespace tofu::detail {

struct GroupState {
  explicit GroupState(std::uint64_t group_id) : id(group_id) {}

  const std::uint64_t id;

  // Any thread. Messages are accepted even after close(): the receiver may still drain them, and
  // an undrained queue returns them to their pool when the group goes away — never lost.
  void deliver(MessagePtr m) {
    {
      std::lock_guard lock(mu_);
      inbox_.push_back(std::move(m));
    }
    cv_.notify_one();
  }

  // No more deliveries will come; wake every waiter (after draining they see ReceiveEnd::shutdown).
  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }

  [[nodiscard]] bool closed() const {
    std::lock_guard lock(mu_);
    return closed_;
  }

  MessagePtr wait(std::chrono::milliseconds timeout, ReceiveEnd* end) {
    std::unique_lock lock(mu_);
    const auto ready = [&] { return !inbox_.empty() || closed_; };
    // "now + timeout" overflows for huge timeouts (milliseconds::max()) and libstdc++ then does not
    // wait at all: a saturated deadline, waited for in steps of a day (D-47).
    wait_until_saturating(cv_, lock, saturating_deadline(timeout), ready);
    if (!inbox_.empty()) {
      MessagePtr m = std::move(inbox_.front());
      inbox_.pop_front();
      if (end != nullptr) *end = ReceiveEnd::message;
      return m;
    }
    if (end != nullptr) *end = closed_ ? ReceiveEnd::shutdown : ReceiveEnd::timeout;
    return {};
  }

  // destroy(): the application waits until the reactor has closed the group's channels. The wait
  // has no timeout (destroy() promises the channels are closed when it returns); it ends because
  // every path that takes a destroy command marks the group (D-47, tests/regression/test_waits.cpp).
  // Its own condition variable: deliver()'s notify_one on the receivers' one could wake this
  // waiter instead of a receiver, which would then sleep until its timeout.
  void mark_destroyed() {
    {
      std::lock_guard lock(mu_);
      destroyed_ = true;
      closed_ = true;
    }
    cv_.notify_all();
    destroyed_cv_.notify_all();
  }
  void wait_destroyed() {
    std::unique_lock lock(mu_);
    destroyed_cv_.wait(lock, [&] { return destroyed_; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;            // receivers (wait)
  std::condition_variable destroyed_cv_;  // destroy() (wait_destroyed)
  std::deque<MessagePtr> inbox_;
  bool closed_ = false;
  bool destroyed_ = false;
};

}  // namespace tofu::detail
