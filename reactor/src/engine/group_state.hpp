#pragma once
// The receive side of a channel group: a queue the reactor fills and one application thread drains.
// Both ends move messages in batches (D-82): the reactor hands over everything one loop iteration
// produced for the group with one lock and at most one wake-up, and the receiver takes the whole
// queue with one lock and then serves from its own copy without locking.
// The queue also counts what the receiver took, so the reactor can bound how many messages of one
// channel wait in it (spec 9.3a, D-95).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
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
      delivered_.fetch_add(1, std::memory_order_relaxed);
      inbox_.push_back(std::move(m));
      pending_.store(true, std::memory_order_release);
      wake = receiver_waiting_;
    }
    if (wake) cv_.notify_one();
  }
  // Any thread: every message of `batch`, in order (the vector is left empty, its capacity kept).
  // Returns the queue position of the batch's first message (messages delivered before it).
  std::uint64_t deliver(std::vector<MessagePtr>& batch) {
    if (batch.empty()) return delivered_.load(std::memory_order_relaxed);
    bool wake = false;
    std::uint64_t first = 0;
    {
      std::lock_guard lock(mu_);
      first = delivered_.fetch_add(batch.size(), std::memory_order_relaxed);
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
    return first;
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
  // share, after anything another thread put into the inbox earlier. Returns the queue position of
  // the batch's first message. (A deliver() from another thread racing this one may be counted
  // before it and queued after it, or the reverse: positions are then off by that message until
  // the queue drains, which moves a channel's resume by one message, and once the receiver has
  // taken everything every count is exact again.)
  std::uint64_t deliver_to_self(std::vector<MessagePtr>& batch) {
    if (pending_.load(std::memory_order_acquire)) {
      std::lock_guard lock(mu_);
      take_inbox_locked();
    }
    const std::uint64_t first = delivered_.fetch_add(batch.size(), std::memory_order_relaxed);
    if (local_next_ == local_.size()) {
      local_.clear();
      local_next_ = 0;
      local_.swap(batch);
      return first;
    }
    for (MessagePtr& m : batch) local_.push_back(std::move(m));
    batch.clear();
    return first;
  }

  // ---- how far the receiver got (D-95) ----
  static constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
  // Messages the receiver has taken so far. Any thread.
  [[nodiscard]] std::uint64_t taken() const noexcept { return taken_.load(std::memory_order_seq_cst); }
  // The reactor: call on_caught_up once the receiver has taken `count` messages (the earliest of
  // several requests wins; it is cleared when it fires). Returns false when that many are taken
  // already: the caller acts now (the callback may run too; acting twice must be harmless).
  bool notify_when_taken(std::uint64_t count) noexcept {
    std::uint64_t cur = wake_at_.load(std::memory_order_seq_cst);
    while (count < cur && !wake_at_.compare_exchange_weak(cur, count, std::memory_order_seq_cst)) {
    }
    return taken() < count;
  }
  // Set once, before the group is used, by an engine that counts takes: wakes it (must not block).
  std::function<void()> on_caught_up;
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
  // Peer frames in `outbox` (their index there, their channel's poller key), and once handed over,
  // those the receiver has not taken yet (their queue position, the key), oldest first (D-95).
  struct Counted {
    std::uint64_t at;
    std::uint64_t key;
  };
  std::vector<Counted> outbox_frames;
  std::vector<Counted> untaken;
  std::size_t untaken_head = 0;  // untaken[0, untaken_head) are taken and not yet erased
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
    if (local_next_ < local_.size()) {
      if (on_caught_up) count_taken();  // not set: the engine does not count (D-95)
      return std::move(local_[local_next_++]);
    }
    if (!local_.empty()) {
      local_.clear();  // moved-from: nothing to return to the pool
      local_next_ = 0;
    }
    return {};
  }

  // One more message taken; the engine is told when the count reaches what it waits for. Both this
  // store and the reactor's store of wake_at_ are sequentially consistent, so of the two loads that
  // follow them at least one sees the other's store: no wake-up is lost.
  void count_taken() {
    const std::uint64_t n = ++taken_local_;
    taken_.store(n, std::memory_order_seq_cst);
    if (n >= wake_at_.load(std::memory_order_seq_cst) && wake_at_.exchange(kNever) != kNever && on_caught_up) {
      on_caught_up();
    }
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
  std::atomic<std::uint64_t> delivered_{0};  // messages ever queued
  std::uint64_t taken_local_ = 0;            // the receiver's copy of taken_
  std::atomic<std::uint64_t> taken_{0};      // messages ever taken
  std::atomic<std::uint64_t> wake_at_{kNever};
};

}  // namespace tofu::detail
