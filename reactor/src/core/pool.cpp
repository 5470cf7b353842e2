#include "tofu/pool.hpp"

#include <algorithm>
#include <new>
#include <utility>

namespace tofu {
void Recycler::operator()(Message* m) const noexcept {
  if (m == nullptr) return;
  if (const std::shared_ptr<Pool> pool = pool_.lock()) {
    pool->recycle(m);
  } else {
    delete m;
  }
}

std::shared_ptr<Pool> Pool::create(PoolOptions options) { return std::make_shared<Pool>(Key{}, options); }

std::unique_ptr<Message> Pool::fresh_message() const {
  auto m = std::make_unique<Message>();
  if (text_capacity_ > 0) m->text_headers.reserve(text_capacity_);
  if (body_capacity_ > 0) m->reserve_body(body_capacity_);
  return m;
}

Pool::Pool(Key, PoolOptions options)
    : max_(std::max(options.max, options.initial)),
      retain_(std::max(options.retain_capacity, kInitialBodyCapacity)),
      text_capacity_(options.text_headers_capacity),
      body_capacity_(options.body_capacity) {
  // Room for every message this pool may ever hold, so recycle() does not allocate under the lock
  // (for absurdly large caps only up to a bound; beyond it push_back may grow the vector).
  idle_.reserve(std::min<std::size_t>(max_, std::size_t{1} << 16));
  for (std::size_t i = 0; i < options.initial; ++i) idle_.push_back(fresh_message());
  created_ = options.initial;
}

Pool::~Pool() = default;

MessagePtr Pool::get() {
  std::unique_lock<std::mutex> lock(mu_);
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
    return MessagePtr(nullptr, Recycler(weak_from_this()));
  }
  ++in_use_;
  high_water_ = std::max(high_water_, in_use_);
  if (!m) ++created_;
  lock.unlock();
  if (!m) {
    try {
      m = fresh_message();
    } catch (const std::bad_alloc&) {
      const std::lock_guard<std::mutex> relock(mu_);
      --in_use_;
      --created_;
      return MessagePtr(nullptr, Recycler(weak_from_this()));
    }
  }
  return MessagePtr(m.release(), Recycler(weak_from_this()));
}

std::size_t Pool::get_many(std::size_t n, std::vector<MessagePtr>& out) {
  std::size_t from_idle = 0;
  std::size_t fresh = 0;
  const std::size_t first = out.size();
  out.reserve(first + n);  // nothing below allocates `out` (so nothing taken can leak)
  {
    const std::lock_guard<std::mutex> lock(mu_);
    from_idle = std::min(n, idle_.size());
    fresh = std::min(n - from_idle, max_ - std::min(max_, idle_.size() + in_use_));
    const std::weak_ptr<Pool> self = weak_from_this();
    for (std::size_t i = 0; i < from_idle; ++i) {
      out.emplace_back(idle_.back().release(), Recycler(self));
      idle_.pop_back();
    }
    in_use_ += from_idle + fresh;
    high_water_ = std::max(high_water_, in_use_);
    created_ += fresh;
  }
  std::size_t made = 0;
  try {
    const std::weak_ptr<Pool> self = weak_from_this();
    for (; made < fresh; ++made) out.emplace_back(fresh_message().release(), Recycler(self));
  } catch (const std::bad_alloc&) {
    const std::lock_guard<std::mutex> lock(mu_);
    in_use_ -= fresh - made;
    created_ -= fresh - made;
  }
  return out.size() - first;
}

MessagePtr Pool::get(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(mu_);
  if (!available_locked() && !waits_cancelled_) {
    ++sleepers_;
    returned_.wait_until(lock, deadline, [&] { return available_locked() || waits_cancelled_; });
    --sleepers_;
  }
  return take_locked(lock);
}

void Pool::cancel_waits() {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    waits_cancelled_ = true;
  }
  returned_.notify_all();
}

MessagePtr Pool::clone(const Message& src) {
  MessagePtr m = get();
  if (m) *m = src;
  return m;
}

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
}  // namespace

void Pool::recycle(Message* raw) noexcept {
  std::unique_ptr<Message> m(raw);
  clean(*m, retain_);
  std::vector<std::function<void()>> ready;
  bool wake_sleeper = false;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    --in_use_;
    idle_.push_back(std::move(m));  // capacity reserved in the constructor
    if (!waiters_.empty()) ready.swap(waiters_);
    wake_sleeper = sleepers_ > 0;
  }
  if (wake_sleeper) returned_.notify_one();
  for (auto& cb : ready) cb();
}

void Pool::recycle_all(std::vector<MessagePtr>& msgs) noexcept {
  const std::weak_ptr<Pool> self = weak_from_this();
  std::size_t mine = 0;
  for (MessagePtr& m : msgs) {
    const std::weak_ptr<Pool>& owner = m.get_deleter().pool_;
    if (m && !owner.owner_before(self) && !self.owner_before(owner)) {
      clean(*m, retain_);
      ++mine;
    } else {
      m.reset();  // another pool's (or an orphan): its own deleter
    }
  }
  std::vector<std::function<void()>> ready;
  bool wake_sleeper = false;
  if (mine > 0) {
    const std::lock_guard<std::mutex> lock(mu_);
    for (MessagePtr& m : msgs) {
      if (!m) continue;
      --in_use_;
      idle_.emplace_back(m.release());  // capacity reserved in the constructor
    }
    if (!waiters_.empty()) ready.swap(waiters_);
    wake_sleeper = sleepers_ > 0;
  }
  msgs.clear();
  if (wake_sleeper) returned_.notify_all();
  for (auto& cb : ready) cb();
}

PoolStats Pool::stats() const {
  const std::lock_guard<std::mutex> lock(mu_);
  return {in_use_, idle_.size(), high_water_, created_, max_};
}

void Pool::notify_when_available(std::function<void()> cb) {
  if (!cb) return;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    if (!available_locked()) {
      waiters_.push_back(std::move(cb));
      return;
    }
  }
  cb();
}

}  // namespace tofu
