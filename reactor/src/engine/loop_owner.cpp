// Who runs the reactor loop (D-83). The loop is a token: whoever holds it may touch the engine's
// reactor state (channels, poller, timers, the pool callbacks), one holder at a time, handed over
// under loop_mu_. Holders:
//  - a thread waiting in wait_receive() while the loop is free: it polls, and the kernel wakes the
//    very thread that wants the message (no hand-off through the reactor thread);
//  - a thread in post() while the loop is free: it dispatches its own command and writes it;
//  - the reactor thread otherwise: when work needs a poller and nobody waits in wait_receive()
//    (unwritten output, connects, threads waiting for room or for the pool, several receivers),
//    for timers, and for shutdown.
// The reactor thread parks while others hold the loop or nothing needs it. Commands posted while
// the loop is held go to the mailbox, which every holder empties before it lets go, so the loop is
// free only with an empty mailbox and posting order is kept (D-26).

#include <algorithm>
#include <exception>

#include "engine/engine_impl.hpp"

namespace tofu {

using detail::Clock;

namespace {

// How long the loop may stay free (no receiver in wait_receive(), no poster) before the reactor
// thread takes it back for the background work; also how often the parked reactor thread looks
// while receivers keep taking and releasing the loop (D-83).
constexpr auto kBackgroundGrace = std::chrono::milliseconds(1);

// Milliseconds from now to t, rounded up so a wait never ends just before it; 0 when past.
int ms_until(Clock::time_point t, Clock::time_point now) {
  if (t <= now) return 0;
  constexpr long long kDayNs = 24LL * 3600 * 1'000'000'000;  // clamp first: no overflow near max()
  const long long ns = std::min<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(t - now).count(), kDayNs);
  return static_cast<int>((ns + 999'999) / 1'000'000);
}

}  // namespace

// ---- any thread --------------------------------------------------------------------------------

bool EngineImpl::kick_locked() {
  kicked_ = true;
  if (owner_ == Owner::none) {
    want_reactor_locked();
    return false;
  }
  if (owner_blocked_ && !notified_) {
    notified_ = true;
    return true;  // the holder sleeps in the poller: the caller writes the notifier
  }
  return false;  // the holder is busy and looks at the mailbox and kicked_ before it sleeps or lets go
}

void EngineImpl::want_reactor_locked() {
  reactor_wanted_ = true;
  if (reactor_parked_) reactor_cv_.notify_one();
}

void EngineImpl::notify_poller() noexcept {
  if (auto st = poller_->notifier().notify(); !st.ok()) {
    log_.unexpected(detail::LogLevel::error, st.error(), "waking the reactor failed: ");
  }
}

void EngineImpl::wake() noexcept {
  bool notify = false;
  {
    std::lock_guard lock(loop_mu_);
    notify = kick_locked();
  }
  if (notify) notify_poller();
}

// Queues a command, or runs it here when the loop is free. Refused (the caller keeps the message)
// once the reactor has stopped, or for a group whose destroy() is already queued: after that
// command no other may name the group, which is what keeps Command::group valid (D-81).
Status EngineImpl::submit(Command& c) {
  std::unique_lock lock(loop_mu_);
  if (stopped_ || c.group->destroy_queued) return Status::shutdown_started;
  if (c.kind == Command::Kind::destroy_group) c.group->destroy_queued = true;
  if (owner_ == Owner::none && !stop_) {
    owner_ = Owner::poster;  // the mailbox is empty whenever the loop is free
    lock.unlock();
    role_ = Owner::poster;
    batch_.push_back(std::move(c));
    try {
      now_ = Clock::now();
      dispatch_batch();
      finish_iteration();
    } catch (...) {
      on_owner_failure();
    }
    release_loop();
    return Status::success;
  }
  const bool quiet = waits_for_writable(c);
  mailbox_.push_back(std::move(c));
  if (quiet) return Status::success;
  const bool notify = kick_locked();
  lock.unlock();
  if (notify) notify_poller();
  return Status::success;
}

// A data message for a channel whose socket refuses writes can wait in the mailbox without waking
// the holder: nothing can be sent before the socket becomes writable, and that event wakes the
// holder, which takes the mailbox before it writes (D-98). A stream faster than its peer then costs
// no wake-up per post. Opens, closes, Byes and out-of-band messages always wake it. loop_mu_ held,
// the loop taken.
bool EngineImpl::waits_for_writable(const Command& c) const noexcept {
  if (c.kind != Command::Kind::message || stop_ || !c.msg || c.msg->header.oob) return false;
  const OpCode op = c.msg->header.opcode;
  if (op != OpCode::request && op != OpCode::response && op != OpCode::signal) return false;
  return c.channel.write_blocked();
}

// ---- the holder --------------------------------------------------------------------------------

// Work that needs someone in the poller although no receiver waits: output the kernel has not
// taken yet (and connects), and threads sleeping until a write or a returned message frees room.
bool EngineImpl::needs_poller() const noexcept {
  return write_registered_ > 0 || room_waiters_.load() > 0 || pool_waiters_.load() > 0;
}

void EngineImpl::release_loop() {
  for (;;) {
    // A message came back while we held the loop, or the poller has not been asked for a while (a
    // poster, or receivers that find messages waiting, can keep the loop without polling): one
    // iteration that does not block. Resuming paused channels without polling would let a
    // flooder and a busy application take turns for as long as the flood lasts while every other
    // socket waits unseen (D-94).
    if (Clock::now() - last_poll_ >= kBackgroundGrace) {
      try {
        iterate(0, false);
      } catch (...) {
        on_owner_failure();
      }
    } else if (pool_became_available_.load() || receivers_caught_up_.load()) {
      try {
        now_ = Clock::now();
        if (pool_became_available_.exchange(false)) on_pool_returned();
        if (receivers_caught_up_.exchange(false)) resume_for_receivers();
        finish_iteration();
      } catch (...) {
        on_owner_failure();
      }
    }
    const bool busy = needs_poller();
    const Clock::time_point next_timer = timers_.empty() ? Clock::time_point{} : timers_.next();
    std::unique_lock lock(loop_mu_);
    if (!mailbox_.empty() && !stopped_) {  // posted while we held the loop: ours to run first
      batch_.swap(mailbox_);
      kicked_ = false;
      lock.unlock();
      try {
        now_ = Clock::now();
        dispatch_batch();
        finish_iteration();
      } catch (...) {
        on_owner_failure();
      }
      continue;
    }
    guest_group_ = nullptr;  // the next holder must not deliver into our receiver's own queue
    owner_ = Owner::none;
    park_until_ = next_timer;
    vacant_since_ = now_;
    ++releases_;
    if (busy || kicked_ || stop_ || followers_ > 0) {
      want_reactor_locked();
    } else if (reactor_parked_ && reactor_deep_) {
      reactor_cv_.notify_one();  // it slept without a timeout while the loop was held: watch again
    }
    if (handover_waiters_ > 0) handover_cv_.notify_all();
    return;
  }
}

// One turn of the loop: wait in the poller (not at all when something is pending), then the
// mailbox, the pool's return, the ready sockets, the timers. `marked`: the caller took the loop
// and set owner_blocked_ for this timeout in the same critical section. Returns false when the
// engine is stopping (the holder should let go).
bool EngineImpl::iterate(int timeout_ms, bool marked) {
  if (!marked) {
    std::lock_guard lock(loop_mu_);
    if (!mailbox_.empty() || kicked_ || stop_ || handover_) timeout_ms = 0;
    owner_blocked_ = timeout_ms != 0;
  }
  auto waited = poller_->wait(events_, timeout_ms);
  now_ = Clock::now();
  last_poll_ = now_;
  bool go_on = true;
  {
    std::lock_guard lock(loop_mu_);
    owner_blocked_ = false;
    notified_ = false;
    kicked_ = false;
    go_on = !stop_;
    if (batch_.empty()) {
      batch_.swap(mailbox_);
    } else {
      for (Command& c : mailbox_) batch_.push_back(std::move(c));
      mailbox_.clear();
    }
  }
  if (fault_hook_) fault_hook_("wait");
  if (!waited.ok()) {
    log_.unexpected(detail::LogLevel::error, waited.error());
    throw std::runtime_error(waited.error().message());
  }
  if (pool_became_available_.exchange(false)) on_pool_returned();
  if (receivers_caught_up_.exchange(false)) resume_for_receivers();
  busy_iteration_ = waited.value().count > 0 || !batch_.empty();
  dispatch_batch();
  for (std::size_t i = 0; i < waited.value().count; ++i) handle_event(events_[i]);
  finish_iteration();
  return go_on;
}

void EngineImpl::finish_iteration() {
  expire_due();
  reap_closed();
  for (ChannelNumber n : dirty_) {
    if (detail::Channel* ch = find(n)) {
      ch->dirty = false;
      sync_interest(*ch);
    }
  }
  dirty_.clear();
  recycle_written();
  flush_deliveries();
}

// A failure while an application thread held the loop: the same end as a failing reactor thread
// (D-27): every message comes back with processing_failed, every group closes, the engine stops.
void EngineImpl::on_owner_failure() noexcept {
  try {
    throw;
  } catch (const std::exception& e) {
    log_.error("reactor failed: ", e.what());
  } catch (...) {
    log_.error("reactor failed with an unknown exception");
  }
  try {
    fail_everything(Status::processing_failed);
  } catch (...) {
    log_.critical("reactor could not finish its shutdown");
  }
  std::lock_guard lock(loop_mu_);
  stop_ = true;
  want_reactor_locked();
}

// ---- the reactor thread ------------------------------------------------------------------------

void EngineImpl::loop() {
  std::unique_lock lock(loop_mu_);
  std::uint64_t seen_releases = releases_;
  for (;;) {
    const Clock::time_point now = Clock::now();
    const bool vacant = owner_ == Owner::none;
    const bool timer_due = park_until_ != Clock::time_point{} && now >= park_until_;
    // Free for a while: no receiver or poster came back, so the background work (accepts,
    // hang-ups, reading ahead into the pool) is ours again.
    const bool abandoned = vacant_since_ != Clock::time_point{} && now - vacant_since_ >= kBackgroundGrace;
    if (vacant && (stop_ || reactor_wanted_ || timer_due || abandoned)) {
      owner_ = Owner::reactor;
      reactor_wanted_ = false;
      park_until_ = {};
      vacant_since_ = {};
      if (stop_) return;  // run() finishes as the holder
      lock.unlock();
      role_ = Owner::reactor;
      lead_as_reactor();
      lock.lock();
      if (owner_ == Owner::reactor) return;  // stopping
      continue;
    }
    // Park. While the loop is free: until it has been free for the grace period (or the next
    // timer). While others hold it and keep letting go (a receiver between messages): look again
    // after the grace period. While one holder keeps it (a receiver waiting long): until its
    // release says so (reactor_deep_).
    Clock::time_point until{};
    if (vacant) {
      until = vacant_since_ != Clock::time_point{} ? vacant_since_ + kBackgroundGrace : Clock::time_point{};
      if (park_until_ != Clock::time_point{} && (until == Clock::time_point{} || park_until_ < until)) until = park_until_;
    } else if (releases_ != seen_releases) {
      until = now + kBackgroundGrace;
    }
    seen_releases = releases_;
    reactor_parked_ = true;
    reactor_deep_ = until == Clock::time_point{};
    if (reactor_deep_) {
      reactor_cv_.wait(lock);
    } else {
      reactor_cv_.wait_until(lock, until);
    }
    reactor_deep_ = false;
    reactor_parked_ = false;
  }
}

// Runs the loop until shutdown (returns holding it) or until a receiver asked for it and nothing
// needs the reactor thread (returns having let go).
void EngineImpl::lead_as_reactor() {
  Clock::time_point spin_end{};
  for (;;) {
    int t = timers_.wait_ms(Clock::now());
    if (spin_.count() > 0) {  // after work, more work is likely soon: poll without blocking (D-86)
      if (busy_iteration_) spin_end = now_ + spin_;
      if (now_ < spin_end) t = 0;
    }
    iterate(t, false);
    const bool busy = needs_poller();
    const Clock::time_point next_timer = timers_.empty() ? Clock::time_point{} : timers_.next();
    std::lock_guard lock(loop_mu_);
    if (stop_) return;
    if (!handover_) continue;
    handover_ = false;
    if (!busy && mailbox_.empty() && followers_ == 0) {
      owner_ = Owner::none;
      park_until_ = next_timer;
      vacant_since_ = now_;  // for the receiver waiting for it (taken back if it gave up)
    }
    handover_cv_.notify_all();  // taken over, or refused (the receiver then waits for deliveries)
    if (owner_ == Owner::none) return;
  }
}

// ---- a receiver --------------------------------------------------------------------------------

MessagePtr EngineImpl::receive(detail::GroupState& g, std::chrono::milliseconds timeout, ReceiveEnd* end) {
  if (MessagePtr m = g.try_take()) {
    if (end != nullptr) *end = ReceiveEnd::message;
    return m;
  }
  // now + timeout saturates: milliseconds::max() means "no timeout", not an overflow (D-47).
  const Clock::time_point start = Clock::now();
  const auto room = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - start);
  const Clock::time_point deadline = timeout >= room ? Clock::time_point::max() : start + timeout;
  for (;;) {
    const Clock::time_point now = Clock::now();
    if (g.closed() || now >= deadline) return g.wait(std::chrono::milliseconds(0), end);
    std::unique_lock lock(loop_mu_);
    bool follow = stop_ || stopped_;  // the engine is ending: what is left arrives in the queue
    if (!follow && owner_ == Owner::none) {
      owner_ = Owner::guest;
      // First wait marked here, in the same critical section (the mailbox is empty: the loop was
      // free). timers_ is ours to read from now on.
      int t = ms_until(deadline, now);
      const int timer = timers_.wait_ms(now);
      if (timer >= 0 && timer < t) t = timer;
      // Not blocking when there is something to take: a delivery another holder made between our
      // try_take() and now reached the queue without waking anyone (we were not waiting on it),
      // and the holder's flush happened before it let go, so it is visible here (D-92).
      if (kicked_ || spin_.count() > 0 || g.has_messages() || g.closed()) t = 0;  // spin: D-86
      owner_blocked_ = t != 0;
      lock.unlock();
      role_ = Owner::guest;
      guest_group_ = &g;
      lead(g, deadline, t);
      release_loop();  // clears guest_group_ before it lets go
    } else if (!follow && owner_ == Owner::reactor && followers_ == 0 && !handover_) {
      // The reactor thread holds the loop, most likely asleep in the poller: ask for it.
      handover_ = true;
      const bool notify = owner_blocked_ && !notified_;
      if (notify) notified_ = true;
      ++handover_waiters_;
      lock.unlock();
      if (notify) notify_poller();
      lock.lock();
      // At most a day per wait: `deadline` may be time_point::max() (no timeout); the loop retries.
      handover_cv_.wait_until(lock, std::min(deadline, Clock::now() + std::chrono::hours(24)),
                              [&] { return owner_ != Owner::reactor || !handover_ || stop_; });
      --handover_waiters_;
      if (owner_ == Owner::reactor) {
        handover_ = false;  // refused, or no answer in time: wait for its deliveries
        follow = true;
      }
    } else {
      follow = true;
    }
    if (follow) {
      ++followers_;
      lock.unlock();
      if (spin_.count() > 0) spin_for_delivery(g, std::min(deadline, now + spin_));
      MessagePtr m = g.wait(std::chrono::ceil<std::chrono::milliseconds>(deadline - now), end);
      lock.lock();
      --followers_;
      return m;
    }
    if (lock.owns_lock()) lock.unlock();
    if (MessagePtr m = g.try_take()) {
      if (end != nullptr) *end = ReceiveEnd::message;
      return m;
    }
  }
}

// EngineOptions::spin for a receiver that waits for another holder's deliveries: watch the queue's
// flag (no syscall) until `until` before sleeping on it (D-86).
void EngineImpl::spin_for_delivery(const detail::GroupState& g, Clock::time_point until) {
  for (unsigned i = 0;; ++i) {
    if (g.has_messages() || g.closed()) return;
    if ((i & 63) == 63 && Clock::now() >= until) return;
  }
}

// Holds the loop for a receiver until its group has a message, the group closes, the deadline
// passes or the engine stops. The first wait (`first_timeout`) was marked by receive().
void EngineImpl::lead(detail::GroupState& g, Clock::time_point deadline, int first_timeout) {
  try {
    bool marked = true;
    int t = first_timeout;
    // EngineOptions::spin: the poller is asked without blocking until the spin time is up (D-86).
    const Clock::time_point spin_end = spin_.count() > 0 ? Clock::now() + spin_ : Clock::time_point{};
    for (;;) {
      const bool go_on = iterate(t, marked);
      if (g.has_messages() || g.closed() || now_ >= deadline || !go_on) return;
      marked = false;
      t = ms_until(deadline, now_);
      const int timer = timers_.wait_ms(now_);
      if (timer >= 0 && timer < t) t = timer;
      if (now_ < spin_end) t = 0;
    }
  } catch (...) {
    on_owner_failure();
  }
}

}  // namespace tofu
