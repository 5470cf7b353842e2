#include "common/echo_server.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace poc {

using tofu::platform::win::AfdPollOp;
using tofu::platform::win::base_handle;
using tofu::platform::win::Completion;
using tofu::platform::win::IoCompletionPort;
using tofu::platform::win::kStatusSuccess;
using tofu::platform::win::set_nonblocking;
namespace afd = tofu::platform::win::afd;

struct EchoServer::Conn {
  explicit Conn(std::uint64_t id_) : op(this), id(id_) {}
  AfdPollOp op;  // owner() == this
  UniqueSocket sock;
  SOCKET base = INVALID_SOCKET;
  std::vector<char> out;  // echo backlog: out[out_off..] is still unsent
  std::size_t out_off = 0;
  std::uint64_t id;
  std::uint64_t submits = 0;
  std::uint64_t completions = 0;
  bool first_byte_seen = false;
  bool peer_eof = false;
  bool closing = false;  // being removed: its next completion retires it
  bool closed_with_pending = false;
  bool cancel_requested = false;

  [[nodiscard]] std::size_t buffered() const noexcept { return out.size() - out_off; }
};

Json EchoServerStats::to_json() const {
  auto j = Json::object();
  j["accepted"] = accepted;
  j["retired"] = retired;
  j["bytes_in"] = bytes_in;
  j["bytes_out"] = bytes_out;
  j["polls_submitted"] = polls_submitted;
  j["polls_completed"] = polls_completed;
  j["listener_polls"] = listener_polls;
  j["polls_with_send"] = polls_with_send;
  j["completions_with_send"] = completions_with_send;
  j["submit_failures"] = submit_failures;
  j["duplicate_completions"] = duplicate_completions;
  j["foreign_completions"] = foreign_completions;
  j["status_mismatches"] = status_mismatches;
  j["per_op_mismatches"] = per_op_mismatches;
  j["leaked_pending"] = leaked_pending;
  j["cancels_requested"] = cancels_requested;
  j["cancel_failures"] = cancel_failures;
  j["cancelled_completions"] = cancelled_completions;
  j["cancel_raced"] = cancel_raced;
  j["stop_cancels"] = stop_cancels;
  j["closed_with_poll_pending"] = closed_with_poll_pending;
  j["recv_would_block"] = recv_would_block;
  j["send_would_block"] = send_would_block;
  j["empty_completions"] = empty_completions;
  j["max_accepts_per_completion"] = max_accepts_per_completion;
  j["max_out_buffered"] = max_out_buffered;
  j["wakeups"] = wakeups;
  j["stopped_by_wake"] = stopped_by_wake;
  j["late_completions"] = late_completions;
  j["batches"] = batches;
  j["max_batch"] = max_batch;
  j["live_at_stop"] = live_at_stop;
  j["events_seen"] = poc::to_json(events_seen);
  j["statuses_seen"] = poc::to_json(statuses_seen);
  j["close_reasons"] = poc::to_json(close_reasons);
  j["close_pending_outcomes"] = poc::to_json(close_pending_outcomes);
  auto errs = Json::array();
  for (const auto& e : errors) errs.push_back(e);
  j["errors"] = std::move(errs);
  return j;
}

Result<std::unique_ptr<EchoServer>> EchoServer::create(Listener listener, EchoServerConfig cfg) {
  auto port = IoCompletionPort::create();
  if (!port.ok()) return std::move(port).error();
  auto base = base_handle(listener.sock.get());
  if (!base.ok()) return std::move(base).error();
  if (auto st = port->associate(as_handle(base.value()), kAfdKey); !st.ok()) return st.error();
  return std::unique_ptr<EchoServer>(new EchoServer(std::move(port).value(), std::move(listener), base.value(), cfg));
}

EchoServer::EchoServer(IoCompletionPort port, Listener listener, SOCKET listener_base, EchoServerConfig cfg)
    : port_(std::move(port)),
      listener_(std::move(listener)),
      listener_base_(listener_base),
      listener_op_(nullptr),
      cfg_(cfg),
      rbuf_(64 * 1024) {}

EchoServer::~EchoServer() {
  // Polls that never completed (a drain that timed out) still belong to the kernel: leak their
  // memory on purpose rather than let the kernel write into freed memory.
  for (auto& [p, conn] : live_) {
    if (conn->op.pending()) (void)conn.release();
  }
  if (listener_op_.pending()) {
    // Cannot leak a member; the drain already reported it. Keep the process consistent.
    std::fputs("echo server: listener poll still pending at destruction\n", stderr);
    std::_Exit(1);
  }
}

void EchoServer::error(const std::string& what) {
  if (stats_.errors.size() < 20) stats_.errors.push_back(what);
}

void EchoServer::stop() {
  stop_requested_.store(true);
  if (auto st = port_.post(kWakeKey); !st.ok()) {
    // The loop then stops on the flag alone (and records that it was not woken).
    std::fprintf(stderr, "echo server: wake-up post failed: %s\n", st.error().message().c_str());
    wake_post_failed_.store(true);
  }
}

void EchoServer::run() {
  const Deadline deadline(cfg_.deadline_s);
  arm_listener();
  std::array<Completion, 64> batch{};
  double drain_until_us = 0;
  double stop_seen_us = 0;  // when the loop first saw the stop flag
  while (true) {
    if (!stopping_ && wake_seen_) {
      stats_.stopped_by_wake = true;
      begin_stop("stop requested");
    }
    if (!stopping_ && stop_requested_.load()) {
      if (stop_seen_us == 0) stop_seen_us = now_us();
      if (wake_post_failed_.load()) {
        error("stop(): the wake-up post failed; stopped on the flag");
        begin_stop("stop requested");
      } else if (now_us() > stop_seen_us + cfg_.stop_wake_timeout_ms * 1000.0) {
        error(strf("stop(): no wake-up completion within %d ms", cfg_.stop_wake_timeout_ms));
        begin_stop("stop requested");
      }
    }
    if (!stopping_ && deadline.passed()) {
      error(strf("server deadline of %g s passed with %zu connection(s) open", cfg_.deadline_s, live_.size()));
      begin_stop("deadline");
    }
    if (stopping_ && drain_until_us == 0) drain_until_us = now_us() + cfg_.drain_timeout_ms * 1000.0;
    if (stopping_ && pending_polls_ == 0) {
      // Every poll completed once. A second completion for one of them would come now: watch.
      const Deadline late(cfg_.late_window_ms / 1000.0);
      while (!late.passed()) {
        auto n = port_.dequeue(batch, late.remaining_ms());
        if (!n.ok()) {
          error("late window: " + n.error().message());
          break;
        }
        stats_.late_completions += n.value();
        for (std::size_t i = 0; i < n.value(); ++i) handle(batch[i]);
      }
      break;
    }
    if (stopping_ && now_us() > drain_until_us) {
      stats_.leaked_pending = pending_polls_;
      error(strf("drain timed out: %llu poll(s) never completed after cancel",
                 static_cast<unsigned long long>(pending_polls_)));
      break;
    }
    auto n = port_.dequeue(batch, 100);
    if (!n.ok()) {
      error(n.error().message());
      if (!stopping_) begin_stop("dequeue failed");
      stats_.leaked_pending = pending_polls_;
      break;
    }
    if (n.value() == 0) continue;
    ++stats_.batches;
    stats_.max_batch = std::max<std::uint64_t>(stats_.max_batch, n.value());
    for (std::size_t i = 0; i < n.value(); ++i) handle(batch[i]);
  }
  listener_.sock.reset();
  // Connections that are still open here were never armed (cannot happen) or leaked on drain.
}

void EchoServer::handle(const Completion& c) {
  if (c.key == kWakeKey) {
    ++stats_.wakeups;
    if (stop_requested_.load()) wake_seen_ = true;
    return;
  }
  auto* op = AfdPollOp::from(c);
  if (c.key != kAfdKey || op == nullptr) {
    ++stats_.foreign_completions;
    error(strf("foreign completion: key %llu, apc_context %p", static_cast<unsigned long long>(c.key), c.apc_context));
    return;
  }
  if (!op->pending()) {
    ++stats_.duplicate_completions;
    error("a second completion for a poll that had already completed");
    return;
  }
  const auto o = op->complete();
  --pending_polls_;
  ++stats_.polls_completed;
  if (o.status != c.status) ++stats_.status_mismatches;
  ++stats_.statuses_seen[ntstatus_text(o.status)];
  if (o.status == kStatusSuccess) {
    ++stats_.events_seen[afd::events_to_string(o.events)];
    if ((o.events & afd::kSend) != 0) ++stats_.completions_with_send;
    if (o.events == 0) ++stats_.empty_completions;
  }
  if (op == &listener_op_) {
    on_listener(o);
  } else {
    on_conn(static_cast<Conn*>(op->owner()), o);
  }
}

void EchoServer::arm_listener() {
  if (auto st = listener_op_.submit(listener_base_, afd::kAccept | afd::events_for({})); !st.ok()) {
    ++stats_.submit_failures;
    error("listener poll: " + st.error().message());
    begin_stop("listener poll failed");
    return;
  }
  ++pending_polls_;
  ++stats_.polls_submitted;
  ++stats_.listener_polls;
}

void EchoServer::on_listener(const AfdPollOp::Outcome& o) {
  if (stopping_) return;  // the cancel issued by begin_stop(), or a last ACCEPT: no re-arm
  if (o.status != kStatusSuccess) {
    error("listener poll completed with " + ntstatus_text(o.status));
  } else if ((o.events & afd::kAccept) != 0) {
    accept_all();
  } else if (o.events != 0) {
    error("listener poll reported " + afd::events_to_string(o.events));
  }
  if (!stopping_) arm_listener();
}

void EchoServer::accept_all() {
  std::uint64_t accepted = 0;
  while (true) {
    const SOCKET s = ::accept(listener_.sock.get(), nullptr, nullptr);
    if (s == INVALID_SOCKET) {
      const int err = WSAGetLastError();
      if (err != WSAEWOULDBLOCK) error("accept: " + wsa_text(err));
      break;
    }
    ++accepted;
    add_conn(s);
  }
  stats_.max_accepts_per_completion = std::max(stats_.max_accepts_per_completion, accepted);
}

void EchoServer::add_conn(SOCKET s) {
  auto conn = std::make_unique<Conn>(++next_id_);
  conn->sock.reset(s);
  if (auto st = set_nonblocking(s); !st.ok()) {
    error(st.error().message());
    return;
  }
  if (cfg_.sndbuf > 0) {
    ::setsockopt(s, SOL_SOCKET, SO_SNDBUF, reinterpret_cast<const char*>(&cfg_.sndbuf), sizeof cfg_.sndbuf);
  }
  auto base = base_handle(s);
  if (!base.ok()) {
    error(base.error().message());
    return;
  }
  conn->base = base.value();
  if (auto st = port_.associate(as_handle(conn->base), kAfdKey); !st.ok()) {
    error(st.error().message());
    return;
  }
  ++stats_.accepted;
  Conn* p = conn.get();
  live_.emplace(p, std::move(conn));
  live_count_.store(live_.size());
  arm(p, true);
}

void EchoServer::arm(Conn* conn, bool allow_cancel) {
  tofu::platform::Interest in;
  in.read = !conn->peer_eof && conn->buffered() < cfg_.high_water;
  in.write = conn->buffered() > 0;
  if (!in.read && !in.write) {
    close_and_retire(conn, "nothing left to wait for");
    return;
  }
  if (auto st = conn->op.submit(conn->base, afd::events_for(in)); !st.ok()) {
    ++stats_.submit_failures;
    error("poll: " + st.error().message());
    close_and_retire(conn, "poll submit failed");
    return;
  }
  ++conn->submits;
  ++pending_polls_;
  ++stats_.polls_submitted;
  if (in.write) ++stats_.polls_with_send;
  if (allow_cancel && cfg_.cancel_every != 0 && stats_.polls_submitted % cfg_.cancel_every == 0) {
    conn->cancel_requested = true;
    ++stats_.cancels_requested;
    if (auto st = conn->op.cancel(); !st.ok()) {
      ++stats_.cancel_failures;
      error(st.error().message());
    }
  }
}

void EchoServer::on_conn(Conn* conn, const AfdPollOp::Outcome& o) {
  ++conn->completions;
  const bool cancel_was_requested = std::exchange(conn->cancel_requested, false);
  if (conn->closing) {
    if (conn->closed_with_pending) {
      ++stats_.close_pending_outcomes[ntstatus_text(o.status) + " events " + afd::events_to_string(o.events)];
    }
    retire(conn);
    return;
  }
  if (o.cancelled()) {
    if (!cancel_was_requested) {
      error("a poll nobody cancelled completed with STATUS_CANCELLED");
      close_and_retire(conn, "unexpected cancel");
      return;
    }
    ++stats_.cancelled_completions;
    arm(conn, false);  // cancelled while interest remains: issue it again
    return;
  }
  if (cancel_was_requested) ++stats_.cancel_raced;
  if (o.status != kStatusSuccess) {
    close_and_retire(conn, "poll failed: " + ntstatus_text(o.status));
    return;
  }
  const std::uint32_t ev = o.events;
  if ((ev & (afd::kAbort | afd::kConnectFail | afd::kLocalClose)) != 0) {
    close_and_retire(conn,
                     "hang-up: " + afd::events_to_string(ev & (afd::kAbort | afd::kConnectFail | afd::kLocalClose)));
    return;
  }
  if ((ev & (afd::kReceive | afd::kReceiveExpedited | afd::kDisconnect)) != 0 && !do_read(conn)) return;
  if (conn->buffered() > 0 && !do_send(conn)) return;
  if (conn->peer_eof && conn->buffered() == 0) {
    close_and_retire(conn, "peer finished, echo complete");
    return;
  }
  arm(conn, true);
}

bool EchoServer::do_read(Conn* conn) {
  while (conn->buffered() < cfg_.high_water) {
    const int n = ::recv(conn->sock.get(), rbuf_.data(), static_cast<int>(rbuf_.size()), 0);
    if (n > 0) {
      if (!conn->first_byte_seen) {
        conn->first_byte_seen = true;
        if (cfg_.close_on_request && rbuf_[0] == 'C') {
          close_with_poll_pending(conn);
          return false;
        }
      }
      conn->out.insert(conn->out.end(), rbuf_.data(), rbuf_.data() + n);
      stats_.bytes_in += static_cast<std::uint64_t>(n);
      continue;
    }
    if (n == 0) {
      conn->peer_eof = true;
      break;
    }
    const int err = WSAGetLastError();
    if (err == WSAEWOULDBLOCK) {
      ++stats_.recv_would_block;
      break;
    }
    close_and_retire(conn, "recv failed: " + wsa_text(err));
    return false;
  }
  stats_.max_out_buffered = std::max<std::uint64_t>(stats_.max_out_buffered, conn->buffered());
  return true;
}

bool EchoServer::do_send(Conn* conn) {
  while (conn->buffered() > 0) {
    const std::size_t chunk = std::min<std::size_t>(conn->buffered(), 1u << 20);
    const int n = ::send(conn->sock.get(), conn->out.data() + conn->out_off, static_cast<int>(chunk), 0);
    if (n > 0) {
      conn->out_off += static_cast<std::size_t>(n);
      stats_.bytes_out += static_cast<std::uint64_t>(n);
      continue;
    }
    const int err = WSAGetLastError();
    if (err == WSAEWOULDBLOCK) {
      ++stats_.send_would_block;
      break;
    }
    close_and_retire(conn, "send failed: " + wsa_text(err));
    return false;
  }
  if (conn->out_off == conn->out.size()) {
    conn->out.clear();
    conn->out_off = 0;
  } else if (conn->out_off >= 64 * 1024) {
    conn->out.erase(conn->out.begin(), conn->out.begin() + static_cast<std::ptrdiff_t>(conn->out_off));
    conn->out_off = 0;
  }
  return true;
}

void EchoServer::close_with_poll_pending(Conn* conn) {
  arm(conn, false);                 // a fresh poll...
  if (!conn->op.pending()) return;  // arm() failed and already retired it
  conn->closing = true;
  conn->closed_with_pending = true;
  conn->sock.reset();  // ...then closesocket while it is pending; its completion retires the conn
  ++stats_.closed_with_poll_pending;
  ++stats_.close_reasons["closed by the server with a poll pending (client asked)"];
}

void EchoServer::close_and_retire(Conn* conn, const std::string& reason) {
  ++stats_.close_reasons[reason];
  conn->sock.reset();
  retire(conn);
}

void EchoServer::retire(Conn* conn) {
  if (conn->op.pending()) {
    error("retire() with a poll pending (bug in the echo server)");
    return;
  }
  if (conn->submits != conn->completions) ++stats_.per_op_mismatches;
  conn->sock.reset();
  std::vector<char>().swap(conn->out);
  auto it = live_.find(conn);
  if (it == live_.end()) {
    error("retire() of an unknown connection");
    return;
  }
  retired_.push_back(std::move(it->second));
  live_.erase(it);
  live_count_.store(live_.size());
  ++stats_.retired;
}

void EchoServer::begin_stop(const std::string& why) {
  if (stopping_) return;
  stopping_ = true;
  stats_.live_at_stop = live_.size();
  if (why != "stop requested") error("stopping: " + why);
  // Cancel, then wait for each cancellation's completion before closing anything (spec §6).
  if (listener_op_.pending()) {
    ++stats_.stop_cancels;
    if (auto st = listener_op_.cancel(); !st.ok()) error(st.error().message());
  }
  std::vector<Conn*> conns;
  conns.reserve(live_.size());
  for (auto& [p, c] : live_) conns.push_back(p);
  for (Conn* c : conns) {
    if (c->op.pending()) {
      c->closing = true;
      ++stats_.stop_cancels;
      ++stats_.close_reasons["still open at stop: cancelled, then closed"];
      if (auto st = c->op.cancel(); !st.ok()) error(st.error().message());
    } else {
      close_and_retire(c, "still open at stop (no poll pending)");
    }
  }
}

}  // namespace poc
