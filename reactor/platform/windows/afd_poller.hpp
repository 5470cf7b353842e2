#pragma once
// The Windows backend of the Poller facade: one IOCP is the single wait point; each socket has one
// pinned AfdPollOp, issued on an AFD helper handle the poller owns (never on the socket's own
// handle, which stays unbound: D-60); the notifier posts to the same port with NtSetIoCompletion
// (spec-v6.1 §6).
//
// Declared here (not hidden in the .cpp) so that tests can reach what the facade does not show:
// the port, the completion keys and the counters.
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "platform/common/poller.hpp"
#include "platform/windows/afd_device.hpp"
#include "platform/windows/afd_poll.hpp"
#include "platform/windows/iocp.hpp"

namespace tofu::platform::win {

// Completion keys on the poller's port. Neither is 0, the key a foreign poster most likely uses;
// a packet with any other key is not ours and is dropped unread (D-61).
inline constexpr ULONG_PTR kAfdPollKey = 0x7466'0001;  // polls issued on the poller's AFD helpers
inline constexpr ULONG_PTR kWakeKey = 0x7466'0002;     // Notifier::notify()

// Sockets per AFD helper handle. wepoll and mio both stop at 32 per helper; more handles per
// helper lengthen the per-handle list of polls the driver keeps (and walks on cancel).
inline constexpr std::size_t kSocketsPerAfdHelper = 32;

// What the poller did, for tests and diagnostics (reactor thread only).
struct AfdPollerStats {
  std::uint64_t submits = 0;             // polls issued
  std::uint64_t completions = 0;         // polls completed (cancelled ones included)
  std::uint64_t cancels = 0;             // NtCancelIoFileEx calls
  std::uint64_t foreign_completions = 0;  // packets on the port that were not ours: ignored
  std::uint64_t empty_completions = 0;    // successful completions that reported no handle
};

class IocpNotifier final : public Notifier {
 public:
  explicit IocpNotifier(IoCompletionPort& port) : port_(port) {}
  // Coalescing: only the first notify() after the reactor consumed the last wake posts a packet.
  SysStatus notify() noexcept override;
  void consumed() noexcept { pending_.store(false); }

 private:
  IoCompletionPort& port_;
  std::atomic<bool> pending_{false};
};

class AfdPoller final : public Poller {
 public:
  static Result<std::unique_ptr<AfdPoller>> create();
  explicit AfdPoller(IoCompletionPort port);
  AfdPoller(const AfdPoller&) = delete;
  AfdPoller& operator=(const AfdPoller&) = delete;
  ~AfdPoller() override;

  SysStatus add(NativeSocket s, Interest interest, std::uint64_t key) override;
  SysStatus modify(NativeSocket s, Interest interest, std::uint64_t key) override;
  SysStatus remove(NativeSocket s) override;
  Result<Wait> wait(std::span<ReadyEvent> out, int timeout_ms) override;
  Notifier& notifier() noexcept override { return notifier_; }
  [[nodiscard]] PollerKind kind() const noexcept override { return PollerKind::afd; }

  [[nodiscard]] const AfdPollerStats& stats() const noexcept { return stats_; }
  [[nodiscard]] HANDLE port_handle() const noexcept { return port_.handle(); }
  [[nodiscard]] std::size_t helper_count() const noexcept { return helpers_.size(); }

 private:
  struct Helper {
    AfdDevice device;
    std::size_t users = 0;  // sockets on it, removed ones included until their poll completed
  };
  struct SocketState {
    explicit SocketState(NativeSocket s) : sock(s), op(this) {}
    NativeSocket sock;
    SOCKET base = INVALID_SOCKET;
    Helper* helper = nullptr;
    Interest interest{};
    std::uint64_t key = 0;
    std::uint32_t armed_events = 0;  // the mask of the pending poll
    Readiness unreported{};          // an event that found `out` full: reported at the next wait
    bool cancel_requested = false;   // one cancel per pending poll is enough
    bool stalled = false;            // arming failed: not retried until modify()
    bool local_closed = false;       // LOCAL_CLOSE seen: the handle is gone, never re-armed
    bool removed = false;
    bool queued_for_arm = false;
    AfdPollOp op;  // pinned: SocketState lives in a unique_ptr and never moves
  };

  Result<Helper*> acquire_helper();
  void release(std::unique_ptr<SocketState> st);
  SysStatus cancel(SocketState& st);
  void queue_arm(SocketState& st);
  void forget_arm(SocketState& st);
  void arm_queued(std::span<ReadyEvent> out, Wait& w);
  void on_completion(const Completion& c, std::span<ReadyEvent> out, Wait& w);
  static bool report(SocketState& st, Readiness r, std::span<ReadyEvent> out, Wait& w);

  // Declared first, destroyed last: helpers and ops go before the port they complete to.
  IoCompletionPort port_;
  IocpNotifier notifier_;
  std::vector<std::unique_ptr<Helper>> helpers_;  // [0] opened by create() and kept; others on demand
  std::unordered_map<NativeSocket, std::unique_ptr<SocketState>> sockets_;
  std::unordered_map<SocketState*, std::unique_ptr<SocketState>> zombies_;  // removed, poll still pending
  std::unordered_set<const AfdPollOp*> in_flight_;  // the only ApcContexts a packet may carry
  std::vector<SocketState*> to_arm_;
  AfdPollerStats stats_;
};

}  // namespace tofu::platform::win
