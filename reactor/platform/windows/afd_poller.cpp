// One-shot polls with level behaviour: a completed poll is re-armed at the start of the next
// wait(), i.e. after the engine has done its I/O (the port plan's refined rule). Arming while the
// condition still holds completes at once, so nothing is lost when the engine reads only part of
// what is there or pauses reading. What a completion reports is cut down to the interest in force
// when it is dequeued (D-62). Changing interest cancels a pending poll only when it does not cover
// the new events, once (D-62); the completion then re-arms with the new mask. remove() cancels and
// parks the state until the kernel's completion for it has been dequeued (D-12).
#include "platform/windows/afd_poller.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "platform/windows/winsock.hpp"

namespace tofu::platform::win {

SysStatus IocpNotifier::notify() noexcept {
  if (pending_.exchange(true)) return {};
  auto st = port_.post(kWakeKey);
  if (!st.ok()) pending_.store(false);
  return st;
}

Result<std::unique_ptr<AfdPoller>> AfdPoller::create() {
  if (auto st = ensure_winsock(); !st.ok()) return std::move(st).error();
  auto port = IoCompletionPort::create();
  if (!port.ok()) return std::move(port).error();
  auto poller = std::make_unique<AfdPoller>(std::move(port).value());
  // The first helper is opened now and kept for the poller's life: a poller's handles are then
  // the same whether it watches 0 or 32 sockets, and a failure to open one shows at creation.
  if (auto first = poller->acquire_helper(); !first.ok()) return std::move(first).error();
  return poller;
}

AfdPoller::AfdPoller(IoCompletionPort port) : port_(std::move(port)), notifier_(port_) {}

AfdPoller::~AfdPoller() {
  // Cancel the polls of sockets still registered, through the helpers this poller owns. Removed
  // sockets were cancelled in remove() and their handles may be closed by now: not touched (D-60).
  for (auto& [s, st] : sockets_) (void)cancel(*st);
  std::array<Completion, 64> done{};
  for (int i = 0; i < 100 && !in_flight_.empty(); ++i) {  // bounded: at most ~5 s
    auto n = port_.dequeue(done, 50);
    if (!n.ok()) break;
    for (std::size_t k = 0; k < n.value(); ++k) {
      auto* op = static_cast<AfdPollOp*>(done[k].apc_context);
      if (done[k].key == kAfdPollKey && in_flight_.erase(op) == 1) (void)op->complete();
    }
  }
  if (!in_flight_.empty()) {
    // The kernel still holds them: leaking is the only memory-safe choice left. Closing the helpers
    // below cancels those polls; the kernel then writes into the leaked ops, never into freed memory.
    for (auto& [s, st] : sockets_) if (st->op.pending()) (void)st.release();
    for (auto& [p, st] : zombies_) if (st->op.pending()) (void)st.release();
  }
}

Result<AfdPoller::Helper*> AfdPoller::acquire_helper() {
  for (auto it = helpers_.rbegin(); it != helpers_.rend(); ++it) {  // the newest is the likeliest to have room
    if ((*it)->users < kSocketsPerAfdHelper) return it->get();
  }
  auto device = AfdDevice::open(port_, kAfdPollKey);
  if (!device.ok()) return std::move(device).error();
  helpers_.push_back(std::make_unique<Helper>(Helper{std::move(device).value()}));
  return helpers_.back().get();
}

void AfdPoller::release(std::unique_ptr<SocketState> st) {
  Helper* h = st->helper;
  st.reset();
  if (--h->users > 0 || h == helpers_.front().get()) return;  // the first helper is kept
  // No socket uses it, so no poll is pending on it: closing it cancels nothing.
  std::erase_if(helpers_, [h](const auto& p) { return p.get() == h; });
}

SysStatus AfdPoller::cancel(SocketState& st) {
  if (!st.op.pending() || st.cancel_requested) return {};
  st.cancel_requested = true;
  ++stats_.cancels;
  return st.op.cancel();
}

SysStatus AfdPoller::add(NativeSocket s, Interest interest, std::uint64_t key) {
  if (sockets_.contains(s)) return internal_error("AfdPoller::add: socket already registered");
  auto base = base_handle(static_cast<SOCKET>(s));
  if (!base.ok()) return std::move(base).error();
  auto helper = acquire_helper();
  if (!helper.ok()) return std::move(helper).error();
  auto state = std::make_unique<SocketState>(s);
  state->base = base.value();
  state->helper = helper.value();
  ++state->helper->users;
  state->interest = interest;
  state->key = key;
  queue_arm(*state);
  sockets_.emplace(s, std::move(state));
  return {};
}

SysStatus AfdPoller::modify(NativeSocket s, Interest interest, std::uint64_t key) {
  const auto it = sockets_.find(s);
  if (it == sockets_.end()) return internal_error("AfdPoller::modify: socket not registered");
  SocketState& st = *it->second;
  st.interest = interest;
  st.key = key;
  st.stalled = false;  // a new interest is a new chance for a socket whose arming failed
  if (!st.op.pending()) {
    queue_arm(st);
    return {};
  }
  // The pending poll already covers every event now wanted: keep it. Events it reports that are
  // no longer wanted are masked on completion, and the re-arm uses the new mask.
  if ((afd::events_for(interest) & ~st.armed_events) == 0) return {};
  return cancel(st);  // its completion re-arms with the new mask
}

SysStatus AfdPoller::remove(NativeSocket s) {
  const auto it = sockets_.find(s);
  if (it == sockets_.end()) return internal_error("AfdPoller::remove: socket not registered");
  std::unique_ptr<SocketState> st = std::move(it->second);
  sockets_.erase(it);
  st->removed = true;
  forget_arm(*st);
  if (!st->op.pending()) {
    release(std::move(st));
    return {};
  }
  auto cancelled = cancel(*st);
  SocketState* raw = st.get();
  zombies_.emplace(raw, std::move(st));  // freed when its completion is dequeued
  return cancelled;
}

Result<Poller::Wait> AfdPoller::wait(std::span<ReadyEvent> out, int timeout_ms) {
  Wait w;
  arm_queued(out, w);
  if (w.count > 0) timeout_ms = 0;  // events found while arming: report them now
  std::array<Completion, IoCompletionPort::kMaxBatch> done{};
  auto n = port_.dequeue(std::span(done.data(), std::min(done.size(), out.size() + 1)), timeout_ms);
  if (!n.ok()) return std::move(n).error();
  for (std::size_t i = 0; i < n.value(); ++i) {
    const Completion& c = done[i];
    if (c.key == kWakeKey) {
      notifier_.consumed();
      w.woken = true;
    } else {
      on_completion(c, out, w);
    }
  }
  return w;
}

void AfdPoller::on_completion(const Completion& c, std::span<ReadyEvent> out, Wait& w) {
  auto* op = static_cast<AfdPollOp*>(c.apc_context);
  // Only a poll we issued and that has not completed yet may be dereferenced: anything else was
  // posted by someone else (NtSetIoCompletion on our port) and is dropped unread (D-61).
  if (c.key != kAfdPollKey || in_flight_.erase(op) == 0) {
    ++stats_.foreign_completions;
    return;
  }
  auto* st = static_cast<SocketState*>(op->owner());
  const AfdPollOp::Outcome outcome = op->complete();
  ++stats_.completions;
  st->cancel_requested = false;
  if (st->removed) {
    auto zombie = zombies_.extract(st);
    if (!zombie.empty()) release(std::move(zombie.mapped()));
    return;
  }
  if (outcome.cancelled()) {  // cancelled by modify(): nothing happened, re-arm with the new mask
    queue_arm(*st);
    return;
  }
  Readiness r;
  if (outcome.status == kStatusSuccess) {
    if (outcome.events == 0) ++stats_.empty_completions;
    // Only what is wanted NOW: the poll may have been issued under a wider interest (D-62).
    const std::uint32_t events = outcome.events & afd::events_for(st->interest);
    r = afd::to_readiness(events);
    // The socket was closed while registered (misuse: remove() comes first). Its handle value may
    // already name another object: report the hang-up once and never poll it again.
    if ((events & afd::kLocalClose) != 0) st->local_closed = true;
  } else {
    r.error = true;  // the poll itself failed (e.g. the socket went away)
  }
  queue_arm(*st);  // one-shot: re-armed at the next wait(), after the engine's I/O
  if (r.any()) (void)report(*st, r, out, w);
}

bool AfdPoller::report(SocketState& st, Readiness r, std::span<ReadyEvent> out, Wait& w) {
  if (w.count < out.size()) {
    out[w.count++] = ReadyEvent{st.key, r};
    return true;
  }
  // No room: keep it for the next wait() (st is queued for arming, which reports it first).
  st.unreported.readable |= r.readable;
  st.unreported.writable |= r.writable;
  st.unreported.hangup |= r.hangup;
  st.unreported.error |= r.error;
  return false;
}

void AfdPoller::queue_arm(SocketState& st) {
  if (st.queued_for_arm) return;
  st.queued_for_arm = true;
  to_arm_.push_back(&st);
}

void AfdPoller::forget_arm(SocketState& st) {
  if (st.queued_for_arm) std::erase(to_arm_, &st);
  st.queued_for_arm = false;
}

void AfdPoller::arm_queued(std::span<ReadyEvent> out, Wait& w) {
  std::vector<SocketState*> batch;
  batch.swap(to_arm_);
  for (SocketState* st : batch) {
    st->queued_for_arm = false;
    if (st->unreported.any()) {
      if (!report(*st, std::exchange(st->unreported, Readiness{}), out, w)) {
        queue_arm(*st);  // still no room: next time
        continue;
      }
    }
    if (st->op.pending() || st->stalled || st->local_closed) continue;
    const std::uint32_t events = afd::events_for(st->interest);
    if (auto r = st->op.submit(st->helper->device.handle(), st->base, events); !r.ok()) {
      // A socket AFD refuses to poll (e.g. already closed) is reported as an error event; the
      // engine closes it. Not retried until modify(), so a dead socket cannot spin the loop; the
      // report waits for room in `out` if there is none now.
      st->stalled = true;
      if (!report(*st, Readiness{false, false, true, true}, out, w)) queue_arm(*st);
      continue;
    }
    ++stats_.submits;
    in_flight_.insert(&st->op);
    st->armed_events = events;
  }
}

}  // namespace tofu::platform::win

namespace tofu::platform {

Result<std::unique_ptr<Poller>> make_poller(PollerKind kind) {
  if (kind != PollerKind::afd) return internal_error("only the afd backend exists on Windows");
  auto poller = win::AfdPoller::create();
  if (!poller.ok()) return std::move(poller).error();
  return std::unique_ptr<Poller>(std::move(poller).value());
}

bool poller_available(PollerKind kind) noexcept { return kind == PollerKind::afd; }

}  // namespace tofu::platform
