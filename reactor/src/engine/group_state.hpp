#pragma once
// The receive side of a channel group: a queue the reactor fills and one application thread drains.
// Both ends move messages in batches (D-82): the reactor hands over everything one loop iteration
// produced for the group with one lock and at most one wake-up, and the receiver takes the whole
// queue with one lock and then serves from its own copy without locking.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "core/saturating_deadline.hpp"
#include "tofu/engine.hpp"
#include "tofu/pool.hpp"

namespace tofu::detail {

struct GroupState : std::enable_shared_from_this<GroupState> {
  explicit GroupState(std::uint64_t group_id) : id(group_id) {}

  const std::uint64_t id;

  // Any thread. Messages are accepted even after close(): the receiver may still drain them, and
  // an undrained queue returns them to their pool when the group goes away — never lost.
  void deliver(MessagePtr m) {
    bool wake = false;
    {
      std::lock_guard lock(mu_);
      inbox_.push_back(std::move(m));
      pending_.store(true, std::memory_order_release);
      wake = receiver_waiting_;
    }
    if (wake) cv_.notify_one();
  }
  // Any thread: every message of `batch`, in order (the vector is left empty, its capacity kept).
  void deliver(std::vector<MessagePtr>& batch) {
    if (batch.empty()) return;
    bool wake = false;
    {
      std::lock_guard lock(mu_);
      if (inbox_.empty()) {
        inbox_.swap(batch);
      } else {
        for (MessagePtr& m : batch) inbox_.push_back(std::move(m));
        batch.clear();
      }
      pending_.store(true, std::memory_order_release);
      wake = receiver_waiting_;
    }
    if (wake) cv_.notify_one();
  }

  // No more deliveries will come; wake every waiter (after draining they see ReceiveEnd::shutdown).
  void close() {
    {
      std::lock_guard lock(mu_);
      closed_.store(true, std::memory_order_release);
    }
    cv_.notify_all();
  }

  [[nodiscard]] bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }

  // ---- the receiving thread only ----
  // The next message if one is queued, without waiting.
  MessagePtr try_take() {
    if (MessagePtr m = take_local()) return m;
    if (!pending_.load(std::memory_order_acquire)) return {};  // nothing delivered: no lock
    {
      std::lock_guard lock(mu_);
      take_inbox_locked();
    }
    return take_local();
  }
  // The receiving thread delivering to itself (it holds the loop, D-83): straight into its own
  // share, after anything another thread put into the inbox earlier.
  void deliver_to_self(std::vector<MessagePtr>& batch) {
    if (pending_.load(std::memory_order_acquire)) {
      std::lock_guard lock(mu_);
      take_inbox_locked();
    }
    if (local_next_ == local_.size()) {
      local_.clear();
      local_next_ = 0;
      local_.swap(batch);
      return;
    }
    for (MessagePtr& m : batch) local_.push_back(std::move(m));
    batch.clear();
  }
  // True when a message is queued (local or inbox). No lock: polled between loop iterations.
  [[nodiscard]] bool has_messages() const noexcept {
    return local_next_ < local_.size() || pending_.load(std::memory_order_acquire);
  }

  MessagePtr wait(std::chrono::milliseconds timeout, ReceiveEnd* end) {
    if (MessagePtr m = take_local()) {
      if (end != nullptr) *end = ReceiveEnd::message;
      return m;
    }
    std::unique_lock lock(mu_);
    if (inbox_.empty() && !closed()) {
      receiver_waiting_ = true;
      const auto ready = [&] { return !inbox_.empty() || closed(); };
      // "now + timeout" overflows for huge timeouts (milliseconds::max()) and libstdc++ then does
      // not wait at all: wait in steps of a day instead (D-47).
      constexpr std::chrono::milliseconds kStep = std::chrono::hours(24);
      for (; timeout > kStep && !ready(); timeout -= kStep) cv_.wait_for(lock, kStep, ready);
      if (!ready()) cv_.wait_for(lock, timeout, ready);  // timeout <= kStep here
      receiver_waiting_ = false;
    }
    if (!inbox_.empty()) {
      take_inbox_locked();
      lock.unlock();
      if (end != nullptr) *end = ReceiveEnd::message;
      return take_local();
    }
    if (end != nullptr) *end = closed() ? ReceiveEnd::shutdown : ReceiveEnd::timeout;
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
      closed_.store(true, std::memory_order_release);
    }
    cv_.notify_all();
    destroyed_cv_.notify_all();
  }
  void wait_destroyed() {
    std::unique_lock lock(mu_);
    destroyed_cv_.wait(lock, [&] { return destroyed_; });
  }

  // ---- the reactor (the loop's owner) only: what this loop iteration delivers to the group,
  // handed over at the end of the iteration (EngineImpl::flush_deliveries).
  std::vector<MessagePtr> outbox;
  bool outbox_listed = false;
  // Guarded by the engine's loop mutex: destroy() was called, post() refuses new messages (D-81).
  bool destroy_queued = false;

 private:
  void take_inbox_locked() {
    if (local_next_ == local_.size()) {
      local_.clear();
      local_next_ = 0;
      local_.swap(inbox_);
    } else {
      for (MessagePtr& m : inbox_) local_.push_back(std::move(m));
      inbox_.clear();
    }
    pending_.store(false, std::memory_order_relaxed);
  }
  MessagePtr take_local() {
    if (local_next_ < local_.size()) return std::move(local_[local_next_++]);
    if (!local_.empty()) {
      local_.clear();  // moved-from: nothing to return to the pool
      local_next_ = 0;
    }
    return {};
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;            // the receiver waits here
  std::condition_variable destroyed_cv_;  // destroy() waits here
  std::vector<MessagePtr> inbox_;
  std::atomic<bool> closed_{false};
  std::atomic<bool> pending_{false};  // inbox_ is not empty (written under mu_, read without it)
  bool destroyed_ = false;
  bool receiver_waiting_ = false;  // the receiver sleeps on cv_ (a delivery notifies only then)
  // The receiver's share: taken from inbox_ in one swap, served from local_next_ on.
  std::vector<MessagePtr> local_;
  std::size_t local_next_ = 0;
};

}  // namespace tofu::detail
