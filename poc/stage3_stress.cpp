// Stage 3: stress with cancellation. Proves that every AFD poll completes exactly once whatever
// happens to it (completed, cancelled with NtCancelIoFileEx, cancelled after it had already
// completed, its socket closed under it, its peer gone), and that connect/disconnect churn leaves
// no handle and no memory behind.
#include <windows.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/echo_server.hpp"
#include "common/net.hpp"
#include "platform/windows/afd_poll.hpp"
#include "platform/windows/iocp.hpp"
#include "report/cli.hpp"
#include "report/report.hpp"

using namespace poc;
using tofu::platform::win::AfdPollOp;
using tofu::platform::win::base_handle;
using tofu::platform::win::Completion;
using tofu::platform::win::IoCompletionPort;
using tofu::platform::win::kStatusCancelled;
using tofu::platform::win::kStatusSuccess;
using tofu::platform::win::set_nonblocking;
namespace afd = tofu::platform::win::afd;

namespace {

const std::uint32_t kReadEvents = afd::events_for({true, false});

// A connected loopback pair whose server side is non-blocking and associated with `port`.
struct Pair {
  UniqueSocket client;
  UniqueSocket server;
  SOCKET base = INVALID_SOCKET;
};

Result<Pair> make_pair(IoCompletionPort& port, const Listener& l) {
  Pair p;
  auto c = connect_to(l.endpoint, 5000);
  if (!c.ok()) return std::move(c).error();
  p.client = std::move(c).value();
  // The listener is non-blocking: the connection may take a moment to be acceptable.
  const Deadline d(5);
  while (!p.server.valid() && !d.passed()) {
    p.server.reset(::accept(l.sock.get(), nullptr, nullptr));
    if (!p.server.valid()) Sleep(1);
  }
  if (!p.server.valid()) return tofu::platform::last_winsock_error("accept");
  if (auto st = set_nonblocking(p.server.get()); !st.ok()) return st.error();
  auto base = base_handle(p.server.get());
  if (!base.ok()) return std::move(base).error();
  p.base = base.value();
  if (auto st = port.associate(as_handle(p.base), kAfdKey); !st.ok()) return st.error();
  return p;
}

// Waits (up to 5 s) for the completion of `op`. Returns false when none came or a foreign one
// did; counts entries for other ops in *foreign.
bool await(IoCompletionPort& port, AfdPollOp& op, AfdPollOp::Outcome* out, std::uint64_t* foreign) {
  std::array<Completion, 8> batch{};
  const Deadline d(5);
  while (!d.passed()) {
    auto n = port.dequeue(batch, d.remaining_ms());
    if (!n.ok() || n.value() == 0) return false;
    bool mine = false;
    for (std::size_t i = 0; i < n.value(); ++i) {
      if (AfdPollOp::from(batch[i]) == &op && op.pending()) {
        *out = op.complete();
        mine = true;
      } else {
        ++*foreign;
      }
    }
    if (mine) return true;
  }
  return false;
}

// A dequeue that fails shows nothing about silence: it counts as a failure, not as "0 late".
constexpr std::size_t kDequeueFailed = std::numeric_limits<std::size_t>::max();

std::size_t stale(IoCompletionPort& port, int ms) {
  std::array<Completion, 8> batch{};
  auto n = port.dequeue(batch, ms);
  return n.ok() ? n.value() : kDequeueFailed;
}

std::string count_text(std::size_t n) { return n == kDequeueFailed ? "(dequeue failed)" : std::to_string(n); }

std::string outcome_text(const AfdPollOp::Outcome& o) {
  return ntstatus_text(o.status) + " events " + afd::events_to_string(o.events);
}

// ---- A. explicit cancels --------------------------------------------------------------------
void cancel_test(Report& r, int iterations) {
  r.phase(strf("cancel test: %d polls cancelled with NtCancelIoFileEx", iterations));
  auto port_r = IoCompletionPort::create();
  auto l = listen_on(Transport::tcp, "cancel", true);
  if (!port_r.ok() || !l.ok()) {
    r.fail("cancel test setup: " + (!port_r.ok() ? port_r.error().message() : l.error().message()));
    return;
  }
  IoCompletionPort port = std::move(port_r).value();
  auto pair_r = make_pair(port, l.value());
  if (!pair_r.ok()) {
    r.fail("cancel test pair: " + pair_r.error().message());
    return;
  }
  Pair& p = pair_r.value();
  auto op = std::make_unique<AfdPollOp>();
  std::uint64_t submits = 0, completions = 0, foreign = 0;
  int plain = 0, plain_cancelled = 0, pre = 0;
  Tally plain_outcomes, pre_outcomes;
  std::vector<double> lat;
  std::string problem;
  for (int i = 0; i < iterations && problem.empty(); ++i) {
    // Every 10th poll: data is already waiting, so the poll completes at once and the cancel
    // that follows finds nothing to cancel (NtCancelIoFileEx: STATUS_NOT_FOUND).
    const bool already = i % 10 == 9;
    if (already) {
      int err = 0;
      if (!send_all(p.client.get(), "x", 1, &err)) {
        problem = "send: " + wsa_text(err);
        break;
      }
      u_long avail = 0;
      const Deadline d(2);
      while (avail == 0 && !d.passed()) {
        ioctlsocket(p.server.get(), static_cast<long>(FIONREAD), &avail);
        if (avail == 0) Sleep(1);
      }
    }
    if (auto st = op->submit(p.base, kReadEvents); !st.ok()) {
      problem = st.error().message();
      break;
    }
    ++submits;
    const double t0 = now_us();
    if (auto st = op->cancel(); !st.ok()) problem = st.error().message();
    AfdPollOp::Outcome o;
    if (!await(port, *op, &o, &foreign)) {
      problem = strf("poll %d: no completion within 5 s of the cancel; leaked on purpose", i);
      (void)op.release();
      break;
    }
    ++completions;
    if (already) {
      ++pre;
      ++pre_outcomes[outcome_text(o)];
      char c = 0;
      ::recv(p.server.get(), &c, 1, 0);
    } else {
      ++plain;
      ++plain_outcomes[outcome_text(o)];
      if (o.cancelled()) {
        ++plain_cancelled;
        lat.push_back(now_us() - t0);
      }
    }
  }
  const std::size_t late = op ? stale(port, 200) : 0;
  // The cancelled polls must stay dead: a new poll gets the next RECEIVE, and only it does.
  bool fresh_ok = false;
  std::string fresh_text = "not run";
  if (op && problem.empty()) {
    int err = 0;
    if (send_all(p.client.get(), "y", 1, &err) && op->submit(p.base, kReadEvents).ok()) {
      ++submits;
      AfdPollOp::Outcome o;
      if (await(port, *op, &o, &foreign)) {
        ++completions;
        const std::size_t after = stale(port, 200);
        fresh_ok = o.status == kStatusSuccess && (o.events & afd::kReceive) != 0 && after == 0;
        fresh_text = outcome_text(o) + ", then " + count_text(after) + " more";
      } else {
        fresh_text = "no completion; leaked on purpose";
        (void)op.release();
      }
    }
  }
  if (!problem.empty()) r.metric("cancel_test_problem", problem);
  r.check("cancel test: every submitted poll completed exactly once",
          strf("%llu completions, 0 foreign, 0 late", static_cast<unsigned long long>(submits)),
          strf("%llu completions, %llu foreign, %s late", static_cast<unsigned long long>(completions),
               static_cast<unsigned long long>(foreign), count_text(late).c_str()),
          problem.empty() && completions == submits && foreign == 0 && late == 0);
  r.check_eq("cancel test: a pending poll cancelled completes with STATUS_CANCELLED", plain, plain_cancelled);
  r.check("cancel test: a poll that had completed before the cancel keeps its result",
          strf("%d x success with RECEIVE", pre), text(to_json(pre_outcomes)),
          pre_outcomes.size() == 1 && pre_outcomes.count(outcome_text({kStatusSuccess, afd::kReceive})) == 1);
  r.check("cancel test: after the cancels a new poll gets the next RECEIVE, nothing else arrives",
          "STATUS_SUCCESS events RECEIVE, then 0 more", fresh_text, fresh_ok);
  auto j = Json::object();
  j["polls"] = submits;
  j["cancelled_while_pending"] = plain_outcomes.empty() ? Json(nullptr) : to_json(plain_outcomes);
  j["cancelled_after_completion"] = to_json(pre_outcomes);
  j["cancel_to_completion_latency"] = to_json(summarize(lat));
  r.metric("cancel_test", j);
}

// ---- B. what a pending poll reports when its socket or its peer goes away -------------------
void close_test(Report& r, int repeats) {
  r.phase(strf("close test: sockets closed (and peers gone) with a poll pending, %d x 4 cases", repeats));
  auto port_r = IoCompletionPort::create();
  auto l = listen_on(Transport::tcp, "close", true);
  if (!port_r.ok() || !l.ok()) {
    r.fail("close test setup: " + (!port_r.ok() ? port_r.error().message() : l.error().message()));
    return;
  }
  IoCompletionPort port = std::move(port_r).value();
  auto results = Json::object();
  const char* cases[] = {"local closesocket of a listener with an ACCEPT poll pending",
                         "local closesocket of a connection with a RECEIVE poll pending",
                         "peer closes (FIN) with a RECEIVE poll pending",
                         "peer resets (RST) with a RECEIVE poll pending"};
  for (int k = 0; k < 4; ++k) {
    Tally outcomes;
    std::uint64_t foreign = 0;
    int done = 0;
    std::string problem;
    for (int i = 0; i < repeats && problem.empty(); ++i) {
      auto op = std::make_unique<AfdPollOp>();
      if (k == 0) {
        auto lk = listen_on(Transport::tcp, "close", true);
        if (!lk.ok()) {
          problem = lk.error().message();
          break;
        }
        auto base = base_handle(lk->sock.get());
        if (!base.ok() || !port.associate(as_handle(base.value()), kAfdKey).ok() ||
            !op->submit(base.value(), afd::kAccept | afd::events_for({})).ok()) {
          problem = "listener poll setup failed";
          break;
        }
        lk->sock.reset();  // closesocket with the poll pending
      } else {
        auto pr = make_pair(port, l.value());
        if (!pr.ok()) {
          problem = pr.error().message();
          break;
        }
        if (!op->submit(pr->base, kReadEvents).ok()) {
          problem = "poll submit failed";
          break;
        }
        if (k == 1) pr->server.reset();
        if (k == 2) pr->client.reset();
        if (k == 3) {
          set_abortive_close(pr->client.get());
          pr->client.reset();
        }
        AfdPollOp::Outcome o;
        if (!await(port, *op, &o, &foreign)) {
          problem = "no completion within 5 s; leaked on purpose";
          (void)op.release();
          break;
        }
        ++outcomes[outcome_text(o)];
        ++done;
        continue;  // the pair closes here, after its poll completed
      }
      AfdPollOp::Outcome o;
      if (!await(port, *op, &o, &foreign)) {
        problem = "no completion within 5 s; leaked on purpose";
        (void)op.release();
        break;
      }
      ++outcomes[outcome_text(o)];
      ++done;
    }
    const std::size_t late = stale(port, 100);
    r.check(strf("close test: %s -> one completion each", cases[k]), strf("%d, then nothing", repeats),
            strf("%d, then %s more; %llu foreign%s", done, count_text(late).c_str(), static_cast<unsigned long long>(foreign),
                 problem.empty() ? "" : ("; " + problem).c_str()),
            done == repeats && late == 0 && foreign == 0);
    results[cases[k]] = to_json(outcomes);
  }
  r.metric("close_test_outcomes", results);
}

// ---- C. connect/disconnect churn through the echo server ------------------------------------
struct ChurnResult {
  std::uint64_t connect_failures = 0;
  std::uint64_t echo_ok = 0;
  std::uint64_t echo_failed = 0;
  std::uint64_t abortive_closes = 0;
  std::uint64_t close_requests = 0;
  std::uint64_t close_seen = 0;
  Tally close_observed;  // what the client saw when it asked the server to close
  std::string first_error;
  EchoServerStats server;
  double seconds = 0;
  std::size_t live_before_stop = 0;
};

ChurnResult churn(Report& r, int connections, int clients, unsigned cancel_every, bool quiet) {
  ChurnResult res;
  auto l = listen_on(Transport::tcp, "churn", true);
  if (!l.ok()) {
    res.first_error = "listener: " + l.error().message();
    return res;
  }
  const Endpoint ep = l->endpoint;
  EchoServerConfig cfg;
  cfg.cancel_every = cancel_every;
  cfg.close_on_request = true;
  cfg.deadline_s = 600;
  auto created = EchoServer::create(std::move(l).value(), cfg);
  if (!created.ok()) {
    res.first_error = "server: " + created.error().message();
    return res;
  }
  std::unique_ptr<EchoServer> server = std::move(created).value();
  std::thread server_thread([&server] { server->run(); });

  std::atomic<int> next{0};
  std::atomic<int> finished_threads{0};
  std::atomic<std::uint64_t> connect_failures{0}, echo_ok{0}, echo_failed{0}, aborts{0}, close_requests{0},
      close_seen{0};
  std::mutex mu;
  const double t0 = now_us();
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&] {
      for (int i = next.fetch_add(1); i < connections; i = next.fetch_add(1)) {
        auto s = connect_to(ep, 5000);
        if (!s.ok()) {
          connect_failures.fetch_add(1);
          std::lock_guard lock(mu);
          if (res.first_error.empty()) res.first_error = s.error().message();
          continue;
        }
        const SOCKET fd = s->get();
        char msg[32];
        for (int b = 0; b < 32; ++b) msg[b] = static_cast<char>('a' + (i + b) % 26);
        msg[0] = 'E';
        int err = 0;
        switch (i % 5) {
          case 0:    // echo, then a graceful close
          case 1: {  // echo, then an abortive close (RST)
            char back[32];
            if (send_all(fd, msg, sizeof msg, &err) && recv_exact(fd, back, sizeof back, &err) &&
                std::memcmp(msg, back, sizeof msg) == 0) {
              echo_ok.fetch_add(1);
            } else {
              echo_failed.fetch_add(1);
              std::lock_guard lock(mu);
              if (res.first_error.empty())
                res.first_error =
                    strf("echo on connection %d: %s", i, err == 0 ? "closed or differs" : wsa_text(err).c_str());
            }
            if (i % 5 == 1) {
              set_abortive_close(fd);
              aborts.fetch_add(1);
            }
            break;
          }
          case 2:  // connect and close at once
            break;
          case 3:  // send, then close without reading the echo
            send_all(fd, msg, sizeof msg, &err);
            break;
          default: {  // ask the server to close with its poll pending; expect FIN or reset
            close_requests.fetch_add(1);
            char c = 'C';
            std::string seen;
            if (!send_all(fd, &c, 1, &err)) {
              seen = "send failed: " + wsa_text(err);
            } else {
              const int n = ::recv(fd, &c, 1, 0);
              if (n == 0) {
                seen = "FIN (recv returned 0)";
                close_seen.fetch_add(1);
              } else if (n < 0) {
                err = WSAGetLastError();
                seen = "recv: " + wsa_text(err);
                if (err == WSAECONNRESET || err == WSAECONNABORTED) close_seen.fetch_add(1);
              } else {
                seen = "data (the server did not close)";
              }
            }
            std::lock_guard lock(mu);
            ++res.close_observed[seen];
            break;
          }
        }
      }
      finished_threads.fetch_add(1);
    });
  }
  double next_progress = now_us() + 1e6;
  while (finished_threads.load() < clients) {
    Sleep(50);
    if (!quiet && now_us() >= next_progress) {
      next_progress += 1e6;
      progress(r.binary(), strf("churn: %d/%d connections", std::min(next.load(), connections), connections));
    }
  }
  for (auto& t : threads) t.join();
  res.seconds = (now_us() - t0) / 1e6;
  // Every client is gone; give the server time to see the last FINs/resets, then stop it.
  const Deadline d(5);
  while (server->live_connections() > 0 && !d.passed()) Sleep(5);
  res.live_before_stop = server->live_connections();
  server->stop();
  server_thread.join();
  res.server = server->stats();
  server.reset();  // frees every retired connection
  res.connect_failures = connect_failures.load();
  res.echo_ok = echo_ok.load();
  res.echo_failed = echo_failed.load();
  res.abortive_closes = aborts.load();
  res.close_requests = close_requests.load();
  res.close_seen = close_seen.load();
  return res;
}

void add(EchoServerStats& a, const EchoServerStats& b) {
  a.accepted += b.accepted;
  a.retired += b.retired;
  a.polls_submitted += b.polls_submitted;
  a.polls_completed += b.polls_completed;
  a.duplicate_completions += b.duplicate_completions;
  a.late_completions += b.late_completions;
  a.wakeups += b.wakeups;
  a.stopped_by_wake = a.stopped_by_wake && b.stopped_by_wake;
  a.foreign_completions += b.foreign_completions;
  a.status_mismatches += b.status_mismatches;
  a.per_op_mismatches += b.per_op_mismatches;
  a.leaked_pending += b.leaked_pending;
  a.cancels_requested += b.cancels_requested;
  a.cancel_failures += b.cancel_failures;
  a.cancelled_completions += b.cancelled_completions;
  a.cancel_raced += b.cancel_raced;
  a.closed_with_poll_pending += b.closed_with_poll_pending;
  a.live_at_stop += b.live_at_stop;
  for (const auto& [k, v] : b.events_seen) a.events_seen[k] += v;
  for (const auto& [k, v] : b.statuses_seen) a.statuses_seen[k] += v;
  for (const auto& [k, v] : b.close_reasons) a.close_reasons[k] += v;
  for (const auto& [k, v] : b.close_pending_outcomes) a.close_pending_outcomes[k] += v;
  for (const auto& e : b.errors) {
    if (a.errors.size() < 20) a.errors.push_back(e);
  }
}

std::uint64_t sum(const Tally& t) {
  std::uint64_t n = 0;
  for (const auto& [k, v] : t) n += v;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  int connections = 10000;
  int clients = 4;
  int iterations = 500;
  int cancel_every = 7;
  int memory_tolerance_kib = 512;
  Cli cli("stage3_stress",
          "Stage 3: stress with cancellation.\n"
          "A) --iterations polls cancelled with NtCancelIoFileEx (every 10th after it had already\n"
          "   completed): each completes exactly once; cancelled polls never fire later.\n"
          "B) sockets closed with a poll pending (listener, connection) and peers gone (FIN, RST):\n"
          "   each poll completes exactly once; what it reports is recorded.\n"
          "C) --connections connect/disconnect cycles from --clients threads through the IOCP +\n"
          "   AFD_POLL echo server, in two equal rounds: echo + close, echo + reset, connect + close,\n"
          "   send + close unread, and 'close on request' (the server closes with a poll pending);\n"
          "   every --cancel-every th poll is cancelled and re-armed. Every poll must complete exactly\n"
          "   once; handles must be back to the baseline after each round and the second round must\n"
          "   not grow memory by more than --memory-tolerance-kib.",
          240);
  cli.add_int("--connections", &connections, "connections in the churn (two rounds of half each)", 10, 10000000);
  cli.add_int("--clients", &clients, "client threads in the churn", 1, 64);
  cli.add_int("--iterations", &iterations, "polls in the cancel test (the close test runs iterations/25 per case)", 10,
              1000000);
  cli.add_int("--cancel-every", &cancel_every, "cancel every Nth poll of the echo server (0 = never)", 0, 1000000);
  cli.add_int("--memory-tolerance-kib", &memory_tolerance_kib, "allowed commit growth of the second churn round", 0,
              1 << 20);
  if (auto rc = cli.parse(argc, argv)) return *rc;
  Report r("stage3_stress", "3", "Stress with cancellation: churn, cancels, close with polls pending, no leaks",
           cli.report_dir());
  r.params(cli.params());
  r.arm_watchdog(cli.timeout_s());

  // Warm-up: Winsock, the Wine server's objects, thread stacks and heap arenas come into being on
  // first use; the baseline is taken after them so it measures the stage, not the runtime.
  r.phase("warm-up churn (200 connections)");
  const ChurnResult warm = churn(r, 200, clients, static_cast<unsigned>(cancel_every), true);
  // The warm-up is the same churn: a failure there is a failure of the stage, not a metric.
  r.check("warm-up churn (200 connections) ran without error", "no error",
          warm.first_error.empty() ? "no error" : warm.first_error, warm.first_error.empty());
  const HandleSnapshot h0 = handle_snapshot();
  const MemoryUsage m0 = memory_usage();

  cancel_test(r, iterations);
  close_test(r, std::max(4, iterations / 25));

  const int half = connections / 2;
  r.phase(strf("churn round 1: %d connections, %d client threads", half, clients));
  const ChurnResult c1 = churn(r, half, clients, static_cast<unsigned>(cancel_every), false);
  const HandleSnapshot h1 = handle_snapshot();
  const MemoryUsage m1 = memory_usage();
  r.phase(strf("churn round 2: %d connections", connections - half));
  const ChurnResult c2 = churn(r, connections - half, clients, static_cast<unsigned>(cancel_every), false);
  const HandleSnapshot h2 = handle_snapshot();
  const MemoryUsage m2 = memory_usage();

  EchoServerStats s = c1.server;
  add(s, c2.server);
  const std::uint64_t total = static_cast<std::uint64_t>(connections);
  std::string first_error = !c1.first_error.empty() ? c1.first_error : c2.first_error;
  r.check("churn: every connect succeeded and the server accepted it",
          strf("%llu connects, %llu accepted", static_cast<unsigned long long>(total),
               static_cast<unsigned long long>(total)),
          strf("%llu failed, %llu accepted", static_cast<unsigned long long>(c1.connect_failures + c2.connect_failures),
               static_cast<unsigned long long>(s.accepted)) +
              (first_error.empty() ? "" : "; " + first_error),
          c1.connect_failures + c2.connect_failures == 0 && s.accepted == total);
  r.check("churn: every echo came back byte-exact",
          strf("%llu ok, 0 failed",
               static_cast<unsigned long long>(c1.echo_ok + c1.echo_failed + c2.echo_ok + c2.echo_failed)),
          strf("%llu ok, %llu failed", static_cast<unsigned long long>(c1.echo_ok + c2.echo_ok),
               static_cast<unsigned long long>(c1.echo_failed + c2.echo_failed)),
          c1.echo_failed + c2.echo_failed == 0 && c1.echo_ok + c2.echo_ok > 0);
  r.check("churn: each close request was served by closesocket with a poll pending, and the client saw the close",
          strf("%llu requests = closes with a poll pending = closes seen",
               static_cast<unsigned long long>(c1.close_requests + c2.close_requests)),
          strf("%llu closes with a poll pending, %llu seen by clients",
               static_cast<unsigned long long>(s.closed_with_poll_pending),
               static_cast<unsigned long long>(c1.close_seen + c2.close_seen)),
          s.closed_with_poll_pending == c1.close_requests + c2.close_requests &&
              c1.close_seen + c2.close_seen == c1.close_requests + c2.close_requests);
  r.check("churn: each poll pending at closesocket completed exactly once",
          strf("%llu", static_cast<unsigned long long>(s.closed_with_poll_pending)),
          strf("%llu", static_cast<unsigned long long>(sum(s.close_pending_outcomes))),
          sum(s.close_pending_outcomes) == s.closed_with_poll_pending);
  r.check("churn: every cancelled poll completed once (cancelled, or its result if it had won the race)",
          strf("%llu cancels > 0 = cancelled + raced, 0 failed", static_cast<unsigned long long>(s.cancels_requested)),
          strf("%llu cancelled + %llu raced, %llu failed", static_cast<unsigned long long>(s.cancelled_completions),
               static_cast<unsigned long long>(s.cancel_raced), static_cast<unsigned long long>(s.cancel_failures)),
          (cancel_every == 0 || s.cancels_requested > 0) &&
              s.cancelled_completions + s.cancel_raced == s.cancels_requested && s.cancel_failures == 0);
  r.check(
      "churn: every submitted poll completed exactly once (also watched for 200 ms after the last one)",
      "submitted == completed; 0 duplicates, 0 per-connection mismatches, 0 foreign, 0 left pending, 0 late",
      strf("submitted %llu, completed %llu; %llu duplicates, %llu mismatches, %llu foreign, %llu left pending, %llu late",
           static_cast<unsigned long long>(s.polls_submitted), static_cast<unsigned long long>(s.polls_completed),
           static_cast<unsigned long long>(s.duplicate_completions),
           static_cast<unsigned long long>(s.per_op_mismatches), static_cast<unsigned long long>(s.foreign_completions),
           static_cast<unsigned long long>(s.leaked_pending), static_cast<unsigned long long>(s.late_completions)),
      s.polls_submitted == s.polls_completed && s.duplicate_completions == 0 && s.per_op_mismatches == 0 &&
          s.foreign_completions == 0 && s.leaked_pending == 0 && s.status_mismatches == 0 && s.late_completions == 0);
  r.check("churn: the server closed every connection itself before stop (EOF, reset or request)", "0 open at stop",
          strf("%zu open at stop", c1.live_before_stop + c2.live_before_stop),
          c1.live_before_stop + c2.live_before_stop == 0 && s.live_at_stop == 0);
  r.check("churn: server ran without unexpected errors", "none",
          s.errors.empty() ? "none" : strf("%zu, first: %s", s.errors.size(), s.errors.front().c_str()),
          s.errors.empty());
  const HandleVerdict v1 = judge_handles(h0, h1);
  const HandleVerdict v2 = judge_handles(h0, h2);
  r.check("handles after churn round 1 = baseline after warm-up", v1.expected, v1.observed, v1.ok);
  r.check("handles after churn round 2 = baseline after warm-up", v2.expected, v2.observed, v2.ok);
  const auto commit_growth =
      static_cast<std::int64_t>(m2.pagefile_bytes) - static_cast<std::int64_t>(m1.pagefile_bytes);
  r.check("memory: the second churn round does not grow the commit charge (PagefileUsage)",
          strf("<= %d KiB", memory_tolerance_kib), strf("%+lld KiB", static_cast<long long>(commit_growth / 1024)),
          m1.ok && m2.ok && commit_growth <= static_cast<std::int64_t>(memory_tolerance_kib) * 1024);

  auto mem = Json::object();
  mem["baseline_after_warm_up"] = to_json(m0);
  mem["after_round_1"] = to_json(m1);
  mem["after_round_2"] = to_json(m2);
  mem["round_1_commit_growth_bytes"] =
      static_cast<std::int64_t>(m1.pagefile_bytes) - static_cast<std::int64_t>(m0.pagefile_bytes);
  mem["round_2_commit_growth_bytes"] = commit_growth;
  r.metric("memory", mem);
  auto handles = Json::object();
  handles["baseline_after_warm_up"] = to_json(h0);
  handles["after_round_1"] = to_json(h1);
  handles["after_round_2"] = to_json(h2);
  handles["added_by_round_1"] = v1.added;
  handles["added_by_both_rounds"] = v2.added;
  r.metric("handles", handles);
  auto ch = Json::object();
  ch["connections"] = total;
  ch["seconds"] = c1.seconds + c2.seconds;
  ch["connections_per_s"] =
      c1.seconds + c2.seconds > 0 ? static_cast<double>(total) / (c1.seconds + c2.seconds) : 0.0;
  ch["echo_ok"] = c1.echo_ok + c2.echo_ok;
  ch["abortive_closes"] = c1.abortive_closes + c2.abortive_closes;
  ch["close_requests"] = c1.close_requests + c2.close_requests;
  Tally observed = c1.close_observed;
  for (const auto& [k, v] : c2.close_observed) observed[k] += v;
  ch["client_saw_on_close_request"] = to_json(observed);
  r.metric("churn", ch);
  r.metric("events_seen", to_json(s.events_seen));
  r.metric("statuses_seen", to_json(s.statuses_seen));
  r.metric("close_pending_outcomes", to_json(s.close_pending_outcomes));
  r.metric("close_reasons", to_json(s.close_reasons));
  auto server = Json::object();
  server["round_1"] = c1.server.to_json();
  server["round_2"] = c2.server.to_json();
  r.metric("server", server);
  r.key_figures(
      strf("%llu conns in %.1f s; polls %llu/%llu completed; %llu cancels; %llu closes w/ poll pending; "
           "handles %lld->%lld; commit round 2 %+lld KiB",
           static_cast<unsigned long long>(total), c1.seconds + c2.seconds,
           static_cast<unsigned long long>(s.polls_completed), static_cast<unsigned long long>(s.polls_submitted),
           static_cast<unsigned long long>(s.cancels_requested),
           static_cast<unsigned long long>(s.closed_with_poll_pending), static_cast<long long>(h0.probed()),
           static_cast<long long>(h2.probed()), static_cast<long long>(commit_growth / 1024)));
  return r.finish();
}
