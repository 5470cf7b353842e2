#include "tofu/pool.hpp"

#include "core/saturating_deadline.hpp"

#include <algorithm>
#include <new>
#include <utility>

namespace tofu {

namespace detail {
// What a pool shares with the messages it made (D-88): its lock, and whether it still exists. It
// lives until the pool is gone and the last of those messages is freed, so a message can always
// find out where it goes without holding a reference count while it is in use.
struct PoolHome {
  explicit PoolHome(std::size_t retain_capacity) : retain(retain_capacity) {}
  const std::size_t retain;   // PoolOptions::retain_capacity (readable without the lock)
  std::mutex mu;
  Pool* pool = nullptr;       // guarded by mu; nullptr once the pool is destroyed
  std::size_t messages = 0;   // guarded by mu; messages made by the pool and not yet freed
};
}  // namespace detail

namespace {

void clean(Message& m, std::size_t retain) noexcept {
  m.reset();
  if (m.body_capacity() <= retain && m.text_headers.capacity() <= retain) return;  // the usual case
  try {
    m.trim_capacity(retain);
  } catch (const std::bad_alloc&) {
    // Keeping the larger buffer is harmless.
  }
}

// Frees a message whose pool is gone; the home goes with the last one. Called with home->mu held
// (released here).
void free_orphan(detail::PoolHome* home, Message* m, std::unique_lock<std::mutex>& lock) noexcept {
  const bool last = --home->messages == 0;
  lock.unlock();
  delete m;
  if (last) delete home;
}

}  // namespace

void Recycler::operator()(Message* m) const noexcept {
  if (m == nullptr) return;
  if (m->home_ == nullptr) {
    delete m;  // not a pool's
    return;
  }
  Pool::recycle(m->home_, m);
}

std::shared_ptr<Pool> Pool::create(PoolOptions options) { return std::make_shared<Pool>(Key{}, options); }

std::unique_ptr<Message> Pool::fresh_message() const {
  auto m = std::make_unique<Message>();
  if (text_capacity_ > 0) m->text_headers.reserve(text_capacity_);
  if (body_capacity_ > 0) m->reserve_body(body_capacity_);
  m->home_ = home_;
  return m;
}

Pool::Pool(Key, PoolOptions options)
    : max_(std::max(options.max, options.initial)),
      retain_(std::max(options.retain_capacity, kInitialBodyCapacity)),
      text_capacity_(options.text_headers_capacity),
      body_capacity_(options.body_capacity),
      home_(new detail::PoolHome(retain_)) {
  home_->pool = this;
  // Room for every message this pool may ever hold, so a return does not allocate under the lock
  // (for absurdly large caps only up to a bound; beyond it push_back may grow the vector).
  idle_.reserve(std::min<std::size_t>(max_, std::size_t{1} << 16));
  for (std::size_t i = 0; i < options.initial; ++i) idle_.push_back(fresh_message());
  created_ = options.initial;
  home_->messages = options.initial;
}

Pool::~Pool() {
  std::vector<std::unique_ptr<Message>> idle;
  bool last = false;
  {
    const std::lock_guard<std::mutex> lock(home_->mu);
    home_->pool = nullptr;  // from now on a returned message is freed
    idle.swap(idle_);
    home_->messages -= idle.size();
    last = home_->messages == 0;
  }
  idle.clear();
  if (last) delete home_;  // else the last message still out frees it
}

MessagePtr Pool::get() {
  std::unique_lock<std::mutex> lock(home_->mu);
  return take_locked(lock);
}

// Takes an idle message or reserves a slot for a new one (allocated outside the lock); an empty
// MessagePtr when the pool is exhausted. Returns with the lock released.
MessagePtr Pool::take_locked(std::unique_lock<std::mutex>& lock) {
  std::unique_ptr<Message> m;
  if (!idle_.empty()) {
    m = std::move(idle_.back());
    idle_.pop_back();
  } else if (in_use_ >= max_) {
    lock.unlock();
    return MessagePtr();
  }
  ++in_use_;
  high_water_ = std::max(high_water_, in_use_);
  if (!m) {
    ++created_;
    ++home_->messages;
  }
  lock.unlock();
  if (!m) {
    try {
      m = fresh_message();
    } catch (const std::bad_alloc&) {
      const std::lock_guard<std::mutex> relock(home_->mu);
      --in_use_;
      --created_;
      --home_->messages;
      return MessagePtr();
    }
  }
  return MessagePtr(m.release());
}

std::size_t Pool::get_many(std::size_t n, std::vector<MessagePtr>& out) {
  std::size_t fresh = 0;
  const std::size_t first = out.size();
  out.reserve(first + n);  // nothing below allocates `out` (so nothing taken can leak)
  {
    const std::lock_guard<std::mutex> lock(home_->mu);
    const std::size_t from_idle = std::min(n, idle_.size());
    fresh = std::min(n - from_idle, max_ - std::min(max_, idle_.size() + in_use_));
    for (std::size_t i = 0; i < from_idle; ++i) {
      out.emplace_back(idle_.back().release());
      idle_.pop_back();
    }
    in_use_ += from_idle + fresh;
    high_water_ = std::max(high_water_, in_use_);
    created_ += fresh;
    home_->messages += fresh;
  }
  std::size_t made = 0;
  try {
    for (; made < fresh; ++made) out.emplace_back(fresh_message().release());
  } catch (const std::bad_alloc&) {
    const std::lock_guard<std::mutex> lock(home_->mu);
    in_use_ -= fresh - made;
    created_ -= fresh - made;
    home_->messages -= fresh - made;
  }
  return out.size() - first;
}

MessagePtr Pool::get(std::chrono::milliseconds timeout) {
  const auto deadline = detail::saturating_deadline(timeout);
  std::unique_lock<std::mutex> lock(home_->mu);
  if (!available_locked() && !waits_cancelled_) {
    ++sleepers_;
    detail::wait_until_saturating(returned_, lock, deadline, [&] { return available_locked() || waits_cancelled_; });
    --sleepers_;
  }
  return take_locked(lock);
}

void Pool::cancel_waits() {
  const std::lock_guard<std::mutex> lock(home_->mu);
  waits_cancelled_ = true;
  returned_.notify_all();
}

MessagePtr Pool::clone(const Message& src) {
  MessagePtr m = get();
  if (m) *m = src;
  return m;
}

// With home_->mu held. The caller then wakes sleeping get(timeout) calls (wake_sleepers_locked).
void Pool::put_locked(std::unique_ptr<Message> m, std::vector<std::function<void()>>& ready) noexcept {
  --in_use_;
  idle_.push_back(std::move(m));  // capacity reserved in the constructor
  if (!waiters_.empty()) {
    const std::size_t free = max_ - in_use_;
    std::erase_if(waiters_, [&](Waiter& w) {
      if (w.at_least > free) return false;
      try {
        ready.push_back(std::move(w.cb));
      } catch (...) {
        return false;  // out of memory: it stays and runs on a later return
      }
      return true;
    });
  }
}

// With home_->mu held, after `returned` messages came back: once per return or batch of returns,
// not per message (a notify with a sleeper takes the condition variable's own lock each time). Under
// the lock: once it is released the pool may be destroyed by another thread, so nothing of it is
// touched after that.
void Pool::wake_sleepers_locked(std::size_t returned) noexcept {
  if (sleepers_ == 0) return;
  if (returned > 1 && sleepers_ > 1) {
    returned_.notify_all();
  } else {
    returned_.notify_one();
  }
}

void Pool::recycle(detail::PoolHome* home, Message* raw) noexcept {
  clean(*raw, home->retain);  // outside the lock: the message is still ours alone
  std::unique_lock<std::mutex> lock(home->mu);
  Pool* pool = home->pool;
  if (pool == nullptr) return free_orphan(home, raw, lock);
  std::vector<std::function<void()>> ready;
  pool->put_locked(std::unique_ptr<Message>(raw), ready);
  pool->wake_sleepers_locked(1);
  lock.unlock();
  for (auto& cb : ready) cb();  // callbacks never touch the pool
}

void Pool::recycle_all(std::vector<MessagePtr>& msgs) noexcept {
  std::size_t mine = 0;
  for (MessagePtr& m : msgs) {
    if (m && m->home_ == home_) {
      clean(*m, retain_);
      ++mine;
    } else {
      m.reset();  // another pool's (or no pool's): its own way
    }
  }
  std::vector<std::function<void()>> ready;
  if (mine > 0) {
    const std::lock_guard<std::mutex> lock(home_->mu);
    for (MessagePtr& m : msgs) {
      if (m) put_locked(std::unique_ptr<Message>(m.release()), ready);
    }
    wake_sleepers_locked(mine);
  }
  msgs.clear();
  for (auto& cb : ready) cb();
}

PoolStats Pool::stats() const {
  const std::lock_guard<std::mutex> lock(home_->mu);
  return {in_use_, idle_.size(), high_water_, created_, max_};
}

void Pool::notify_when_available(std::function<void()> cb, std::size_t at_least) {
  if (!cb) return;
  at_least = std::clamp<std::size_t>(at_least, 1, max_);
  {
    const std::lock_guard<std::mutex> lock(home_->mu);
    if (max_ - in_use_ < at_least) {
      waiters_.push_back(Waiter{std::move(cb), at_least});
      return;
    }
  }
  cb();
}

}  // namespace tofu
