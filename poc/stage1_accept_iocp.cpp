// Stage 1 (integrated): ACCEPT readiness from several TCP listeners completing through ONE IOCP.
// Each listener's base handle is associated with the port under its own completion key, and each
// poll's ApcContext is its AfdPollOp whose owner() is the listener: a dequeued completion must
// name exactly the listener a client connected to, by key and by ApcContext.
#include <algorithm>
#include <array>
#include <memory>
#include <utility>
#include <vector>

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
namespace afd = tofu::platform::win::afd;

namespace {

constexpr ULONG_PTR kKeyBase = 0x100;  // listener i is associated under key kKeyBase + i

struct ListenerCtx {
  explicit ListenerCtx(std::size_t i) : op(this), index(i) {}
  AfdPollOp op;  // owner() == this
  std::size_t index;
  Listener listener;
  SOCKET base = INVALID_SOCKET;
  std::uint64_t submits = 0;
  std::uint64_t completions = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int listeners = 4;
  int iterations = 10;
  Cli cli("stage1_accept_iocp",
          "Stage 1 through an IOCP: --listeners TCP listeners on one port, each armed with AFD_POLL for\n"
          "ACCEPT. For --iterations rounds a client connects to each listener in turn (scrambled order):\n"
          "exactly one completion must arrive, naming that listener by completion key and by ApcContext\n"
          "(AfdPollOp::owner); then all listeners at once (one batch); finally every pending poll is\n"
          "cancelled and each must complete once with STATUS_CANCELLED before the sockets are closed.",
          60);
  cli.add_int("--listeners", &listeners, "listeners sharing the port", 1, 64);
  cli.add_int("--iterations", &iterations, "rounds of one connect per listener", 1, 100000);
  if (auto rc = cli.parse(argc, argv)) return *rc;
  Report r("stage1_accept_iocp", "1", "AFD_POLL ACCEPT on several TCP listeners through one IOCP", cli.report_dir());
  r.params(cli.params());
  r.arm_watchdog(cli.timeout_s());

  warm_up(Transport::tcp);  // lazily created runtime state first, then the baseline
  const HandleSnapshot handles_before = handle_snapshot();
  const auto n = static_cast<std::size_t>(listeners);
  Tally events_seen, statuses_seen, keys_seen;
  std::vector<double> latency;
  std::uint64_t right = 0, wrong = 0, extra = 0, missing = 0, accepted_now = 0, max_batch = 0;
  std::uint64_t burst_distinct = 0;
  std::uint64_t cancelled = 0, teardown_completions = 0, stale = 0, duplicates = 0;
  std::uint64_t bad_outcomes = 0;  // before the teardown: a completion without SUCCESS + ACCEPT
  std::string stale_error;
  std::string first_problem;
  auto problem = [&](const std::string& what) {
    if (first_problem.empty()) first_problem = what;
  };
  bool teardown_ok = true;
  {
    auto port_r = IoCompletionPort::create();
    if (!port_r.ok()) {
      r.fail(port_r.error().message());
      return r.finish();
    }
    IoCompletionPort port = std::move(port_r).value();
    std::vector<std::unique_ptr<ListenerCtx>> ctx;
    for (std::size_t i = 0; i < n; ++i) {
      auto c = std::make_unique<ListenerCtx>(i);
      auto l = listen_on(Transport::tcp, "iocp", true);
      if (!l.ok()) {
        r.fail("listener: " + l.error().message());
        return r.finish();
      }
      c->listener = std::move(l).value();
      auto base = base_handle(c->listener.sock.get());
      if (!base.ok()) {
        r.fail(base.error().message());
        return r.finish();
      }
      c->base = base.value();
      if (auto st = port.associate(as_handle(c->base), kKeyBase + i); !st.ok()) {
        r.fail(st.error().message());
        return r.finish();
      }
      ctx.push_back(std::move(c));
    }
    auto arm = [&](ListenerCtx& c) -> bool {
      if (auto st = c.op.submit(c.base, afd::kAccept | afd::events_for({})); !st.ok()) {
        problem("submit: " + st.error().message());
        return false;
      }
      ++c.submits;
      return true;
    };
    // Takes one dequeued completion; returns the listener its ApcContext names (nullptr when
    // foreign). `good`: it came under that listener's key with SUCCESS and the ACCEPT bit.
    auto take = [&](const Completion& c, bool* good = nullptr) -> ListenerCtx* {
      if (good != nullptr) *good = false;
      ++keys_seen[strf("0x%llX", static_cast<unsigned long long>(c.key))];
      AfdPollOp* op = AfdPollOp::from(c);
      ListenerCtx* owner = nullptr;
      for (auto& p : ctx) {
        if (&p->op == op) owner = p.get();
      }
      if (owner == nullptr) return nullptr;
      if (!owner->op.pending()) {
        ++duplicates;
        return nullptr;
      }
      const auto o = owner->op.complete();
      ++owner->completions;
      ++statuses_seen[ntstatus_text(o.status)];
      if (o.status == kStatusSuccess) ++events_seen[afd::events_to_string(o.events)];
      const bool key_ok = c.key == kKeyBase + owner->index;
      const bool outcome_ok = o.status == kStatusSuccess && (o.events & afd::kAccept) != 0;
      if (good != nullptr) *good = key_ok && outcome_ok;
      if ((!key_ok || !outcome_ok) && o.status != kStatusCancelled) {
        problem(strf("listener %zu: key 0x%llX, %s, events %s", owner->index, static_cast<unsigned long long>(c.key),
                     ntstatus_text(o.status).c_str(), afd::events_to_string(o.events).c_str()));
      }
      return owner;
    };
    auto accept_one = [&](ListenerCtx& c) {
      UniqueSocket s(::accept(c.listener.sock.get(), nullptr, nullptr));
      if (s.valid()) {
        ++accepted_now;
      } else {
        problem("accept after ACCEPT: " + wsa_text(WSAGetLastError()));
      }
    };

    for (auto& c : ctx) {
      if (!arm(*c)) {
        r.fail(first_problem);
        return r.finish();
      }
    }
    std::array<Completion, 64> out{};
    r.phase("armed listeners with no client: nothing may complete");
    {
      auto q = port.dequeue(out, 100);
      r.check("armed listeners with no client produce no completion", "0 within 100 ms",
              q.ok() ? strf("%zu", q.value()) : q.error().message(), q.ok() && q.value() == 0);
    }

    r.phase(strf("%d rounds x %d listeners: one connect, one completion naming that listener", iterations, listeners));
    // A stride coprime with n visits every listener once per round, in a different order each round.
    std::size_t stride = 1;
    for (std::size_t s = n / 2 + 1; s < n; ++s) {
      std::size_t a = s, b = n;
      while (b != 0) a = std::exchange(b, a % b);
      if (a == 1) {
        stride = s;
        break;
      }
    }
    for (int round = 0; round < iterations; ++round) {
      for (std::size_t j = 0; j < n; ++j) {
        ListenerCtx& target = *ctx[(j * stride + static_cast<std::size_t>(round)) % n];
        const double t0 = now_us();
        auto client = connect_to(target.listener.endpoint, 5000);
        if (!client.ok()) {
          problem("connect: " + client.error().message());
          ++missing;
          continue;
        }
        auto q = port.dequeue(out, 5000);
        if (!q.ok() || q.value() == 0) {
          problem(strf("round %d: no completion within 5 s for listener %zu", round, target.index));
          ++missing;
          continue;
        }
        latency.push_back(now_us() - t0);
        max_batch = std::max<std::uint64_t>(max_batch, q.value());
        for (std::size_t k = 0; k < q.value(); ++k) {
          bool good = false;
          ListenerCtx* who = take(out[k], &good);
          if (k > 0) ++extra;
          if (!good) ++bad_outcomes;
          if (who == &target && good) {
            ++right;
          } else {
            ++wrong;
          }
          if (who != nullptr) {
            accept_one(*who);
            arm(*who);
          }
        }
      }
    }

    r.phase("burst: a client on every listener at once");
    {
      std::vector<UniqueSocket> clients;
      for (auto& c : ctx) {
        auto s = connect_to(c->listener.endpoint, 5000);
        if (s.ok()) clients.push_back(std::move(s).value());
      }
      std::vector<bool> seen(n, false);
      std::size_t got = 0;
      const Deadline d(5);
      while (got < n && !d.passed()) {
        auto q = port.dequeue(out, d.remaining_ms());
        if (!q.ok() || q.value() == 0) break;
        max_batch = std::max<std::uint64_t>(max_batch, q.value());
        for (std::size_t k = 0; k < q.value(); ++k) {
          bool good = false;
          ListenerCtx* who = take(out[k], &good);
          ++got;
          if (!good) ++bad_outcomes;
          if (who != nullptr && !seen[who->index] && good) {
            seen[who->index] = true;
            ++burst_distinct;
          }
          if (who != nullptr) {
            accept_one(*who);
            arm(*who);
          }
        }
      }
    }

    r.phase("teardown: cancel every pending poll, wait for each completion, then close");
    for (auto& c : ctx) {
      if (c->op.pending()) {
        if (auto st = c->op.cancel(); !st.ok()) problem(st.error().message());
      }
    }
    const Deadline d(5);
    auto pending = [&] { return std::count_if(ctx.begin(), ctx.end(), [](const auto& c) { return c->op.pending(); }); };
    while (pending() > 0 && !d.passed()) {
      auto q = port.dequeue(out, d.remaining_ms());
      if (!q.ok() || q.value() == 0) break;
      for (std::size_t k = 0; k < q.value(); ++k) {
        const bool was = out[k].status == kStatusCancelled;
        if (take(out[k]) != nullptr) {
          ++teardown_completions;
          if (was) ++cancelled;
        }
      }
    }
    if (pending() > 0) {
      teardown_ok = false;
      problem(strf("%lld poll(s) never completed after cancel: leaked on purpose", static_cast<long long>(pending())));
      for (auto& c : ctx) {
        if (c->op.pending()) (void)c.release();
      }
    }
    {
      auto q = port.dequeue(out, 200);
      if (q.ok()) {
        stale = q.value();
      } else {
        stale_error = q.error().message();  // a failed dequeue proves nothing about silence
      }
    }
    std::uint64_t mismatched = 0;
    for (auto& c : ctx) {
      if (c && c->submits != c->completions) ++mismatched;
    }
    r.check_eq("listeners whose polls completed exactly once each (submits == completions)", 0,
               static_cast<std::int64_t>(mismatched + duplicates));
  }

  const auto expected = static_cast<std::int64_t>(iterations) * listeners;
  r.check_eq("connects whose single completion named the right listener (key and ApcContext) with SUCCESS + ACCEPT",
             expected,
             static_cast<std::int64_t>(right));
  r.check("no completion for a listener nobody connected to", "0 wrong, 0 extra, 0 missing",
          strf("%llu wrong, %llu extra, %llu missing", static_cast<unsigned long long>(wrong),
               static_cast<unsigned long long>(extra), static_cast<unsigned long long>(missing)),
          wrong == 0 && extra == 0 && missing == 0);
  r.check_eq("burst: one connect on every listener at once -> one completion per listener", listeners,
             static_cast<std::int64_t>(burst_distinct));
  r.check_eq("accept() after each ACCEPT succeeded without blocking", expected + listeners,
             static_cast<std::int64_t>(accepted_now));
  r.check("teardown: each pending poll cancelled completes once with STATUS_CANCELLED",
          strf("%d of %d", listeners, listeners),
          strf("%llu cancelled of %llu completions", static_cast<unsigned long long>(cancelled),
               static_cast<unsigned long long>(teardown_completions)),
          teardown_ok && cancelled == n && teardown_completions == n);
  r.check("no completion after the teardown (200 ms)", "0",
          stale_error.empty() ? strf("%llu", static_cast<unsigned long long>(stale)) : "dequeue failed: " + stale_error,
          stale_error.empty() && stale == 0);
  r.check_eq("completions before the teardown without SUCCESS + ACCEPT under their listener's key", 0,
             static_cast<std::int64_t>(bad_outcomes));
  const HandleSnapshot handles_after = handle_snapshot();
  r.check_handles("process handle count back to its value before the stage", handles_before, handles_after);

  const LatencySummary lat = summarize(latency);
  r.metric("connect_to_completion_latency", to_json(lat));
  r.metric("events_seen", to_json(events_seen));
  r.metric("statuses_seen", to_json(statuses_seen));
  r.metric("completion_keys_seen", to_json(keys_seen));
  r.metric("max_batch", max_batch);
  if (!first_problem.empty()) r.metric("first_problem", first_problem);
  r.key_figures(strf("%llu/%lld connects named the right listener of %d; connect->completion %s",
                     static_cast<unsigned long long>(right), static_cast<long long>(expected), listeners,
                     to_text(lat).c_str()));
  return r.finish();
}
