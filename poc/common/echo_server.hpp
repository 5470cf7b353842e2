#pragma once
// The Phase I echo server: a single-threaded reactor on ONE I/O completion port, readiness from
// IOCTL_AFD_POLL on each socket's base handle (spec-v6.1 §6, windows-port-plan §1).
//
// - Every socket's base handle is associated with the port under key kAfdKey (0); a poll's
//   ApcContext is its AfdPollOp, whose owner() is the connection: dispatch needs no lookup.
// - stop() wakes the loop with NtSetIoCompletion under key kWakeKey (1), from any thread.
// - Polls are one-shot. After handling each completion the server does the I/O (recv until
//   WSAEWOULDBLOCK or the high-water mark, send until WSAEWOULDBLOCK), recomputes its interest
//   (read unless the peer sent FIN or the echo backlog is at high water; write while a backlog
//   remains) and re-arms when interest remains. Level semantics make that safe: a poll armed while
//   the condition already holds completes at once.
// - A connection leaves only through a completion: either the one that showed the hang-up or EOF,
//   or - when the server removes it (stop, close-on-request) - the completion of the poll it
//   cancelled or orphaned. Its memory is kept until the server is destroyed, so a second
//   completion for a retired op is counted (duplicate_completions) instead of touching freed memory.
// The counters prove the exactly-once rule: polls_submitted == polls_completed at the end, no
// duplicate and no foreign completion, and each connection's own submits == completions. After the
// last poll completed the loop keeps dequeuing for late_window_ms, so a duplicate arriving late is
// seen too. The loop stops only on stop()'s wake-up completion (stopped_by_wake); if none arrives
// within stop_wake_timeout_ms it stops anyway and records the error.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/net.hpp"
#include "platform/windows/afd_poll.hpp"
#include "platform/windows/iocp.hpp"
#include "report/json.hpp"
#include "report/util.hpp"

namespace poc {

inline constexpr ULONG_PTR kAfdKey = 0;   // completions of AFD polls
inline constexpr ULONG_PTR kWakeKey = 1;  // NtSetIoCompletion wake-ups (the Notifier's key)

struct EchoServerConfig {
  std::size_t high_water = 256 * 1024;  // stop reading while this much echo is still unsent
  int sndbuf = 0;                       // SO_SNDBUF for accepted sockets (0 = OS default)
  unsigned cancel_every = 0;            // cancel every Nth connection poll right after issuing it
  bool close_on_request = false;        // first byte 'C': re-arm, then closesocket with the poll pending
  int drain_timeout_ms = 5000;          // after stop(): how long cancelled polls may take to complete
  int late_window_ms = 200;             // after the last poll completed: how long to watch for late completions
  int stop_wake_timeout_ms = 5000;      // after stop(): how long its wake-up completion may take
  double deadline_s = 60;               // run() stops by itself after this (counted as an error)
};

struct EchoServerStats {
  std::uint64_t accepted = 0;
  std::uint64_t retired = 0;  // connections whose last completion was dequeued
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t polls_submitted = 0;
  std::uint64_t polls_completed = 0;
  std::uint64_t polls_with_send = 0;        // polls that asked for SEND (an echo backlog existed)
  std::uint64_t completions_with_send = 0;  // completions that reported SEND
  std::uint64_t listener_polls = 0;
  std::uint64_t submit_failures = 0;
  std::uint64_t duplicate_completions = 0;  // a completion for an op with no poll pending
  std::uint64_t foreign_completions = 0;    // unknown key or null ApcContext
  std::uint64_t status_mismatches = 0;      // dequeued status != the op's IO_STATUS_BLOCK
  std::uint64_t per_op_mismatches = 0;      // a retired connection with submits != completions
  std::uint64_t leaked_pending = 0;         // polls still pending when the drain timed out
  std::uint64_t cancels_requested = 0;      // explicit NtCancelIoFileEx on a live connection
  std::uint64_t cancel_failures = 0;
  std::uint64_t cancelled_completions = 0;  // ... that completed with STATUS_CANCELLED
  std::uint64_t cancel_raced = 0;           // ... that had already completed (success) instead
  std::uint64_t stop_cancels = 0;           // cancels issued by stop()
  std::uint64_t closed_with_poll_pending = 0;
  std::uint64_t recv_would_block = 0;
  std::uint64_t send_would_block = 0;
  std::uint64_t empty_completions = 0;  // success with no event bit
  std::uint64_t max_accepts_per_completion = 0;
  std::uint64_t max_out_buffered = 0;
  std::uint64_t wakeups = 0;
  bool stopped_by_wake = false;        // the loop began stopping on stop()'s key-1 completion
  std::uint64_t late_completions = 0;  // dequeued in the late window after the last poll completed
  std::uint64_t batches = 0;
  std::uint64_t max_batch = 0;
  std::size_t live_at_stop = 0;
  Tally events_seen;                // AFD event masks reported by successful polls
  Tally statuses_seen;              // completion NTSTATUS values
  Tally close_reasons;              // why connections were closed
  Tally close_pending_outcomes;     // what a poll reported when its socket was closed under it
  std::vector<std::string> errors;  // unexpected failures (first 20)

  [[nodiscard]] Json to_json() const;
};

class EchoServer {
 public:
  // Takes the (non-blocking) listener; its base handle is associated with a new port.
  static Result<std::unique_ptr<EchoServer>> create(Listener listener, EchoServerConfig cfg);
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;
  ~EchoServer();

  // Runs the loop on the calling thread until stop() (or the deadline), then cancels every poll
  // still pending, waits for their completions and closes everything.
  void run();
  // Thread-safe: posts a wake-up (key kWakeKey) that makes run() stop.
  void stop();
  // Valid after run() returned.
  [[nodiscard]] const EchoServerStats& stats() const noexcept { return stats_; }
  // Connections open right now (thread-safe): lets a stage wait until the server has seen every
  // client's close before it calls stop().
  [[nodiscard]] std::size_t live_connections() const noexcept { return live_count_.load(); }

 private:
  struct Conn;
  EchoServer(tofu::platform::win::IoCompletionPort port, Listener listener, SOCKET listener_base, EchoServerConfig cfg);

  void handle(const tofu::platform::win::Completion& c);
  void on_listener(const tofu::platform::win::AfdPollOp::Outcome& o);
  void on_conn(Conn* conn, const tofu::platform::win::AfdPollOp::Outcome& o);
  void arm_listener();
  void accept_all();
  void add_conn(SOCKET s);
  void arm(Conn* conn, bool allow_cancel);
  bool do_read(Conn* conn);
  bool do_send(Conn* conn);
  void close_with_poll_pending(Conn* conn);
  void close_and_retire(Conn* conn, const std::string& reason);
  void retire(Conn* conn);
  void begin_stop(const std::string& why);
  void error(const std::string& what);

  tofu::platform::win::IoCompletionPort port_;
  Listener listener_;
  SOCKET listener_base_;
  tofu::platform::win::AfdPollOp listener_op_;
  EchoServerConfig cfg_;
  EchoServerStats stats_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> wake_post_failed_{false};
  bool wake_seen_ = false;  // a key-1 completion arrived after stop() was requested
  std::atomic<std::size_t> live_count_{0};
  bool stopping_ = false;
  std::uint64_t pending_polls_ = 0;
  std::uint64_t next_id_ = 0;
  std::unordered_map<Conn*, std::unique_ptr<Conn>> live_;
  std::vector<std::unique_ptr<Conn>> retired_;
  std::vector<char> rbuf_;
};

}  // namespace poc
