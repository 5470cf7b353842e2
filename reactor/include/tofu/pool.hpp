#pragma once
/// @file
/// A bounded, thread-safe message pool. `max` caps every message alive from the pool (in use + idle):
/// when all are in use, get() returns an empty MessagePtr, which is the backpressure signal.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "tofu/export.hpp"
#include "tofu/message.hpp"

namespace tofu {

/// Size and memory policy of a Pool (EngineOptions::pool for the engine's pool).
struct PoolOptions {
  std::size_t initial = 16;  ///< messages created up front (idle)
  std::size_t max = 64;      ///< cap on messages alive (in use + idle); raised to `initial` if smaller
  /// A returned message whose body or text-header buffer has a larger capacity than this gets that
  /// buffer released (so one huge message does not pin memory in the pool forever).
  std::size_t retain_capacity = 65536;
  /// Text-header and body bytes a message made by this pool has room for from the start.
  std::size_t text_headers_capacity = kInitialTextHeadersCapacity;
  std::size_t body_capacity = kInitialBodyCapacity;  ///< see text_headers_capacity
};

/// A snapshot of a pool's accounting (Pool::stats(), Engine::pool_stats()).
struct PoolStats {
  std::size_t in_use = 0;      ///< handed out and not yet returned
  std::size_t idle = 0;        ///< ready in the pool
  std::size_t high_water = 0;  ///< largest in_use seen
  std::size_t created = 0;     ///< messages ever allocated by this pool
  std::size_t max = 0;         ///< the effective cap on in_use + idle
};

class Pool;

/// Deleter of MessagePtr: hands a pooled message back to the pool that made it, or frees it when
/// that pool is gone (or the message was never a pool's). It holds no state: a message knows its
/// pool, so a MessagePtr is one pointer and making, moving or destroying one costs no reference
/// count (D-88).
class TOFU_API Recycler {
 public:
  /// A deleter (it needs no pool: messages know theirs).
  Recycler() noexcept = default;
  /// Kept for source compatibility; the same as Recycler().
  explicit Recycler(const std::weak_ptr<Pool>& /*pool*/) noexcept {}
  /// Returns `m` to its pool, or deletes it if that pool is gone or it has none.
  void operator()(Message* m) const noexcept;
};

/// Move-only owner of a pooled message; destroying (or reset()ing) it returns the message.
using MessagePtr = std::unique_ptr<Message, Recycler>;

/// A bounded, thread-safe pool of messages (see the file description). The engine owns one;
/// the application reaches it through Engine::get().
class TOFU_API Pool : public std::enable_shared_from_this<Pool> {
  struct Key {};

 public:
  /// A new pool with `options.initial` idle messages.
  static std::shared_ptr<Pool> create(PoolOptions options = {});
  /// Use create() (the key type is private).
  Pool(Key, PoolOptions options);
  /// Frees the idle messages; messages still in use are freed when their MessagePtr dies.
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// An idle message, a new one while fewer than `max` are alive, else an empty MessagePtr.
  /// The message is reset: default header, no text headers, empty body.
  [[nodiscard]] MessagePtr get();
  /// Up to `n` messages as get() would give them one by one, appended to `out` under one lock
  /// (fewer when the pool runs out). Returns how many were added.
  std::size_t get_many(std::size_t n, std::vector<MessagePtr>& out);
  /// Like get(), but when every message is in use waits up to `timeout` for one to come back
  /// (no polling: the thread sleeps until a message is returned, the timeout passes or
  /// cancel_waits() is called). Empty on timeout or after cancel_waits().
  [[nodiscard]] MessagePtr get(std::chrono::milliseconds timeout);
  /// Wakes every thread waiting in get(timeout) and makes later waits return at once when the pool
  /// is exhausted (the engine calls it at shutdown). Plain get() is unaffected.
  void cancel_waits();

  /// Returns every message of `msgs` (left empty) as destroying them would, but those of this pool
  /// under one lock instead of one each (the engine returns written messages this way).
  void recycle_all(std::vector<MessagePtr>& msgs) noexcept;

  /// get() plus a deep copy of `src` (empty MessagePtr when the pool is exhausted).
  [[nodiscard]] MessagePtr clone(const Message& src);

  /// Current accounting.
  [[nodiscard]] PoolStats stats() const;

  /// Runs `cb` once, outside the pool lock, as soon as `at_least` messages could be taken (1 by
  /// default: as soon as get() could succeed; clamped to 1..max): at once (in this thread, before
  /// this call returns) if they can now, else in the thread whose return makes them available. It is
  /// a wake-up, not a reservation: another thread may take the messages first. `cb` must not throw
  /// (it runs on the noexcept return path). Callbacks still waiting when the pool is destroyed are
  /// dropped without being run.
  void notify_when_available(std::function<void()> cb, std::size_t at_least = 1);

 private:
  friend class Recycler;
  // Returns a message made by the pool of `home` (the pool may be gone: then it is freed).
  static void recycle(detail::PoolHome* home, Message* m) noexcept;
  void put_locked(std::unique_ptr<Message> m, std::vector<std::function<void()>>& ready) noexcept;
  void wake_sleepers_locked(std::size_t returned) noexcept;
  [[nodiscard]] bool available_locked() const noexcept { return !idle_.empty() || idle_.size() + in_use_ < max_; }
  MessagePtr take_locked(std::unique_lock<std::mutex>& lock);
  [[nodiscard]] std::unique_ptr<Message> fresh_message() const;

  const std::size_t max_;
  const std::size_t retain_;
  const std::size_t text_capacity_;
  const std::size_t body_capacity_;
  // Shared with every message the pool made; holds the mutex that guards everything below, and
  // outlives the pool while such messages exist.
  detail::PoolHome* const home_;
  std::vector<std::unique_ptr<Message>> idle_;
  std::size_t in_use_ = 0;
  std::size_t high_water_ = 0;
  std::size_t created_ = 0;
  struct Waiter {
    std::function<void()> cb;
    std::size_t at_least;
  };
  std::vector<Waiter> waiters_;
  std::condition_variable returned_;  // get(timeout) sleeps here
  std::size_t sleepers_ = 0;          // threads in get(timeout): recycle() notifies only when > 0
  bool waits_cancelled_ = false;
};

}  // namespace tofu
