#include "tofu/pool.hpp"

#include "core/saturating_deadline.hpp"

#include <algorithm>
#include <new>
#include <utility>

namespace tofu {
namespace {

std::unique_ptr<Message> fresh_message() {
  auto m = std::make_unique<Message>();
  m->text_headers.reserve(kInitialTextHeadersCapacity);
  m->reserve_body(kInitialBodyCapacity);
  return m;
}

}  // namespace

void Recycler::operator()(Message* m) const noexcept {
  if (m == nullptr) return;
  if (const std::shared_ptr<Pool> pool = pool_.lock()) {
    pool->recycle(m);
  } else {
    delete m;
  }
}

std::shared_ptr<Pool> Pool::create(PoolOptions options) { return std::make_shared<Pool>(Key{}, options); }

Pool::Pool(Key, PoolOptions options)
    : max_(std::max(options.max, options.initial)),
      retain_(std::max(options.retain_capacity, kInitialBodyCapacity)) {
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

MessagePtr Pool::get(std::chrono::milliseconds timeout) {
  const auto deadline = detail::saturating_deadline(timeout);
  std::unique_lock<std::mutex> lock(mu_);
  if (!available_locked() && !waits_cancelled_) {
    ++sleepers_;
    detail::wait_until_saturating(returned_, lock, deadline, [&] { return available_locked() || waits_cancelled_; });
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

void Pool::recycle(Message* raw) noexcept {
  std::unique_ptr<Message> m(raw);
  m->reset();
  try {
    m->trim_capacity(retain_);
  } catch (const std::bad_alloc&) {
    // Keeping the larger buffer is harmless.
  }
  std::vector<std::function<void()>> ready;
  bool wake_sleeper = false;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    --in_use_;
    idle_.push_back(std::move(m));  // capacity reserved in the constructor
    ready.swap(waiters_);
    wake_sleeper = sleepers_ > 0;
  }
  if (wake_sleeper) returned_.notify_one();
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
