// The Windows backend of the Poller facade: one IOCP is the single wait point; each socket has one
// pinned AfdPollOp; the notifier posts to the same port with NtSetIoCompletion (spec-v6.1 §6).
//
// One-shot polls with level behaviour: a completed poll is re-armed at the start of the next
// wait(), i.e. after the engine has done its I/O (the port plan's refined rule). Arming while the
// condition still holds completes at once, so nothing is lost when the engine reads only part of
// what is there or pauses reading. Changing interest cancels a poll whose event mask no longer
// fits; the cancelled completion is then re-armed with the new mask. remove() cancels and parks
// the state until the kernel's completion for it has been dequeued (D-12).
#include <atomic>
#include <limits>
#include <unordered_map>
#include <vector>

#include "platform/common/poller.hpp"
#include "platform/windows/afd_poll.hpp"
#include "platform/windows/iocp.hpp"
#include "platform/windows/winsock.hpp"

namespace tofu::platform {
namespace {

using win::AfdPollOp;
using win::Completion;
using win::IoCompletionPort;

constexpr ULONG_PTR kAfdKey = 0;   // completions of AFD polls (ApcContext = the op)
constexpr ULONG_PTR kWakeKey = 1;  // NtSetIoCompletion wake-ups

class IocpNotifier final : public Notifier {
 public:
  explicit IocpNotifier(IoCompletionPort& port) : port_(port) {}
  // Coalescing: only the first notify() after the reactor consumed the last wake posts a packet.
  SysStatus notify() noexcept override {
    if (pending_.exchange(true)) return {};
    auto st = port_.post(kWakeKey);
    if (!st.ok()) pending_.store(false);
    return st;
  }
  void consumed() noexcept { pending_.store(false); }

 private:
  IoCompletionPort& port_;
  std::atomic<bool> pending_{false};
};

struct SocketState {
  explicit SocketState(NativeSocket s) : sock(s), op(this) {}
  NativeSocket sock;
  SOCKET base = INVALID_SOCKET;
  Interest interest{};
  std::uint64_t key = 0;
  std::uint32_t armed_events = 0;  // the mask of the pending poll
  bool removed = false;
  bool queued_for_arm = false;
  AfdPollOp op;  // pinned: SocketState lives in a unique_ptr and never moves
};

class AfdPoller final : public Poller {
 public:
  explicit AfdPoller(IoCompletionPort port) : port_(std::move(port)), notifier_(port_) {}

  ~AfdPoller() override {
    // Cancel what is still pending and wait (bounded) for the kernel to let go of each op.
    for (auto& [s, st] : sockets_) {
      if (st->op.pending()) (void)st->op.cancel();
    }
    for (auto& st : zombies_) {
      if (st->op.pending()) (void)st->op.cancel();
    }
    std::array<Completion, 64> done{};
    for (int i = 0; i < 100 && pending_ops() > 0; ++i) {
      auto n = port_.dequeue(done, 50);
      if (!n.ok()) break;
      for (std::size_t k = 0; k < n.value(); ++k) {
        if (done[k].key == kAfdKey) AfdPollOp::from(done[k])->complete();
      }
    }
    if (pending_ops() > 0) {
      // The kernel still holds them: leaking is the only memory-safe choice left.
      for (auto& [s, st] : sockets_) if (st->op.pending()) (void)st.release();
      for (auto& st : zombies_) if (st->op.pending()) (void)st.release();
    }
  }

  SysStatus add(NativeSocket s, Interest interest, std::uint64_t key) override {
    if (sockets_.contains(s)) return internal_error("AfdPoller::add: socket already registered");
    auto base = win::base_handle(static_cast<SOCKET>(s));
    if (!base.ok()) return std::move(base).error();
    if (auto st = port_.associate(reinterpret_cast<HANDLE>(base.value()), kAfdKey); !st.ok()) return st;
    auto state = std::make_unique<SocketState>(s);
    state->base = base.value();
    state->interest = interest;
    state->key = key;
    queue_arm(*state);
    sockets_.emplace(s, std::move(state));
    return {};
  }

  SysStatus modify(NativeSocket s, Interest interest, std::uint64_t key) override {
    const auto it = sockets_.find(s);
    if (it == sockets_.end()) return internal_error("AfdPoller::modify: socket not registered");
    SocketState& st = *it->second;
    st.interest = interest;
    st.key = key;
    if (st.op.pending()) {
      // A pending poll asking for the wrong events: cancel; its completion re-arms with the new mask.
      if (st.armed_events != win::afd::events_for(interest)) return st.op.cancel();
      return {};
    }
    queue_arm(st);
    return {};
  }

  SysStatus remove(NativeSocket s) override {
    const auto it = sockets_.find(s);
    if (it == sockets_.end()) return internal_error("AfdPoller::remove: socket not registered");
    std::unique_ptr<SocketState> st = std::move(it->second);
    sockets_.erase(it);
    st->removed = true;
    if (!st->op.pending()) {
      forget_arm(*st);
      return {};
    }
    auto cancelled = st->op.cancel();
    zombies_.push_back(std::move(st));  // freed when its completion is dequeued
    return cancelled;
  }

  Result<Wait> wait(std::span<ReadyEvent> out, int timeout_ms) override {
    Wait w;
    arm_queued(out, w);
    if (w.count > 0) timeout_ms = 0;  // arming failures are events too: report them now
    std::array<Completion, 256> done{};
    auto n = port_.dequeue(std::span(done.data(), std::min(done.size(), out.size() + 1)), timeout_ms);
    if (!n.ok()) return std::move(n).error();
    for (std::size_t i = 0; i < n.value(); ++i) {
      const Completion& c = done[i];
      if (c.key == kWakeKey) {
        notifier_.consumed();
        w.woken = true;
        continue;
      }
      AfdPollOp* op = AfdPollOp::from(c);
      auto* st = static_cast<SocketState*>(op->owner());
      const AfdPollOp::Outcome outcome = op->complete();
      if (st->removed) {
        std::erase_if(zombies_, [st](const auto& z) { return z.get() == st; });
        continue;
      }
      queue_arm(*st);  // one-shot: re-armed at the next wait(), after the engine's I/O
      if (outcome.cancelled()) continue;  // cancelled by modify(): nothing happened
      Readiness r = outcome.status == win::kStatusSuccess ? win::afd::to_readiness(outcome.events) : Readiness{};
      if (outcome.status != win::kStatusSuccess) r.error = true;
      if (r.any() && w.count < out.size()) out[w.count++] = ReadyEvent{st->key, r};
    }
    return w;
  }

  Notifier& notifier() noexcept override { return notifier_; }
  [[nodiscard]] PollerKind kind() const noexcept override { return PollerKind::afd; }

 private:
  void queue_arm(SocketState& st) {
    if (st.queued_for_arm) return;
    st.queued_for_arm = true;
    to_arm_.push_back(&st);
  }
  void forget_arm(SocketState& st) {
    if (st.queued_for_arm) std::erase(to_arm_, &st);
  }

  void arm_queued(std::span<ReadyEvent> out, Wait& w) {
    std::vector<SocketState*> batch;
    batch.swap(to_arm_);
    for (SocketState* st : batch) {
      st->queued_for_arm = false;
      if (st->op.pending() || st->removed) continue;
      const std::uint32_t events = win::afd::events_for(st->interest);
      if (auto r = st->op.submit(st->base, events); !r.ok()) {
        // A socket AFD refuses to poll (e.g. already reset) is reported as an error event; the
        // engine closes it. Not re-queued, so a dead socket cannot spin the loop.
        if (w.count < out.size()) out[w.count++] = ReadyEvent{st->key, Readiness{false, false, true, true}};
        continue;
      }
      st->armed_events = events;
    }
  }

  [[nodiscard]] std::size_t pending_ops() const {
    std::size_t n = 0;
    for (const auto& [s, st] : sockets_) n += st->op.pending() ? 1u : 0u;
    for (const auto& st : zombies_) n += st->op.pending() ? 1u : 0u;
    return n;
  }

  IoCompletionPort port_;
  IocpNotifier notifier_;
  std::unordered_map<NativeSocket, std::unique_ptr<SocketState>> sockets_;
  std::vector<std::unique_ptr<SocketState>> zombies_;
  std::vector<SocketState*> to_arm_;
};

}  // namespace

Result<std::unique_ptr<Poller>> make_poller(PollerKind kind) {
  if (kind != PollerKind::afd) return internal_error("only the afd backend exists on Windows");
  if (auto st = win::ensure_winsock(); !st.ok()) return std::move(st).error();
  auto port = IoCompletionPort::create();
  if (!port.ok()) return std::move(port).error();
  return std::unique_ptr<Poller>(std::make_unique<AfdPoller>(std::move(port).value()));
}

bool poller_available(PollerKind kind) noexcept { return kind == PollerKind::afd; }

}  // namespace tofu::platform
