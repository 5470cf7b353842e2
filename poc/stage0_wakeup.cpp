// Stage 0: the reactor's wake-up. NtSetIoCompletion (IoCompletionPort::post) must wake a thread
// blocked in NtRemoveIoCompletionEx (IoCompletionPort::dequeue) at once, delivering the key,
// ApcContext, status and information it was given; wakes must work from any thread.
#include <windows.h>

#include <array>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "common/net.hpp"
#include "platform/windows/iocp.hpp"
#include "platform/windows/ntdll.hpp"
#include "report/cli.hpp"
#include "report/report.hpp"

using namespace poc;
using tofu::platform::win::Completion;
using tofu::platform::win::IoCompletionPort;
using tofu::platform::win::nt_api;

namespace {

constexpr ULONG_PTR kFirstKey = 0xDEADBEEF;
constexpr std::uint32_t kFirstStatus = 0x12345678;  // any value: NtSetIoCompletion passes it through
constexpr ULONG_PTR kFirstInfo = 0xC0FFEE;
constexpr ULONG_PTR kPingKey = 2;
constexpr ULONG_PTR kAckKey = 3;
constexpr ULONG_PTR kPosterKeyBase = 100;

// Spins (yielding) for `us` microseconds: long enough for the other thread to block in the kernel,
// without the 1-15 ms granularity of Sleep().
void pause_us(double us) {
  const double until = now_us() + us;
  while (now_us() < until) std::this_thread::yield();
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = 1000;
  int threads = 4;
  int gap_us = 200;
  Cli cli("stage0_wakeup",
          "Stage 0: NtSetIoCompletion wakes a thread blocked in NtRemoveIoCompletionEx.\n"
          "1) an empty port times out; 2) a blocked waiter is woken with the posted key, ApcContext,\n"
          "status and information intact; 3) wake latency over --iterations wakes (each waiter is\n"
          "blocked first); 4) --threads threads post --iterations completions each to one consumer:\n"
          "all must arrive, in order per thread, none twice.",
          60);
  cli.add_int("--iterations", &iterations, "wakes measured, and posts per thread in the cross-thread test", 1,
              10000000);
  cli.add_int("--threads", &threads, "posting threads in the cross-thread test", 1, 64);
  cli.add_int("--gap-us", &gap_us, "pause before each measured wake so the waiter is blocked (us)", 0, 1000000);
  if (auto rc = cli.parse(argc, argv)) return *rc;
  Report r("stage0_wakeup", "0", "NtSetIoCompletion wakes a thread blocked in NtRemoveIoCompletionEx",
           cli.report_dir());
  r.params(cli.params());
  r.arm_watchdog(cli.timeout_s());

  warm_up();  // lazily created runtime state (threads, ports) first, then the baseline
  const HandleSnapshot handles_before = handle_snapshot();
  std::string wake_figures;
  auto api = nt_api();
  if (!r.check("ntdll exports resolved", "NtCreateIoCompletion, NtSetIoCompletion, NtRemoveIoCompletionEx, ...",
               api.ok() ? "all resolved" : api.error().message(), api.ok())) {
    return r.finish();
  }
  {
    auto port_r = IoCompletionPort::create();
    if (!r.check("NtCreateIoCompletion", "a port", port_r.ok() ? "created" : port_r.error().message(), port_r.ok())) {
      return r.finish();
    }
    IoCompletionPort port = std::move(port_r).value();

    // 1. An empty port: the timed dequeue returns nothing after about its timeout.
    r.phase("empty port: timed dequeue");
    {
      std::array<Completion, 4> out{};
      const double t0 = now_us();
      auto n = port.dequeue(out, 50);
      const double waited_ms = (now_us() - t0) / 1000.0;
      r.check(
          "an empty port times out (STATUS_TIMEOUT after the 50 ms timeout)", "0 entries after 40..1000 ms",
          n.ok() ? strf("%zu entries after %s ms", n.value(), format_number(waited_ms).c_str()) : n.error().message(),
          n.ok() && n.value() == 0 && waited_ms >= 40 && waited_ms < 1000);
      r.metric("empty_dequeue_wait_ms", waited_ms);
    }

    // 2. One blocked waiter, woken by a post from this thread.
    r.phase("first wake: key/ApcContext/status/information round trip");
    {
      int marker = 0;
      Completion got{};
      std::size_t got_n = 0;
      std::string wait_error;
      std::atomic<double> t_enter{0};
      std::atomic<double> t_return{0};
      std::thread waiter([&] {
        std::array<Completion, 4> out{};
        t_enter.store(now_us());  // the last thing before the dequeue
        auto n = port.dequeue(out, 5000);
        t_return.store(now_us());
        if (!n.ok()) {
          wait_error = n.error().message();
          return;
        }
        got_n = n.value();
        if (got_n > 0) got = out[0];
      });
      while (t_enter.load() == 0) Sleep(1);  // the waiter's thread is running and about to dequeue
      Sleep(100);
      const double t_post = now_us();
      const auto posted = port.post(kFirstKey, &marker, kFirstStatus, kFirstInfo);
      waiter.join();
      // Measured from the waiter's own entry into the dequeue: it must still be inside when the
      // post comes >= 90 ms later (an early return, even an empty one, fails), then return with it.
      const double blocked_ms = (t_post - t_enter.load()) / 1000.0;
      const double wake_us = t_return.load() - t_post;
      r.check("NtSetIoCompletion wakes the blocked waiter",
              "1 entry; the waiter stayed in the dequeue >= 90 ms until the post, then woke in < 1 s",
              !posted.ok()          ? posted.error().message()
              : !wait_error.empty() ? wait_error
                                    : strf("%zu entry, in the dequeue %s ms before the post, returned %s us after it",
                                           got_n, format_number(blocked_ms).c_str(), format_number(wake_us).c_str()),
              posted.ok() && wait_error.empty() && got_n == 1 && blocked_ms >= 90 && wake_us >= 0 && wake_us < 1e6);
      r.check("key, ApcContext, status and information arrive unchanged",
              strf("key 0x%llX, ctx %p, status 0x%08X, info 0x%llX", static_cast<unsigned long long>(kFirstKey),
                   static_cast<void*>(&marker), kFirstStatus, static_cast<unsigned long long>(kFirstInfo)),
              strf("key 0x%llX, ctx %p, status 0x%08X, info 0x%llX", static_cast<unsigned long long>(got.key),
                   got.apc_context, got.status, static_cast<unsigned long long>(got.information)),
              got.key == kFirstKey && got.apc_context == &marker && got.status == kFirstStatus &&
                  got.information == kFirstInfo);
      r.metric("first_wake_latency_us", wake_us);
    }

    // 3. Wake latency: ping (this thread -> blocked waiter) and ack (waiter -> this thread).
    r.phase(strf("wake latency over %d wakes", iterations));
    {
      auto ack_r = IoCompletionPort::create();
      if (!ack_r.ok()) {
        r.fail("second port: " + ack_r.error().message());
        return r.finish();
      }
      IoCompletionPort ack = std::move(ack_r).value();
      const auto n_iter = static_cast<std::size_t>(iterations);
      auto t_post = std::make_unique<std::atomic<double>[]>(n_iter);
      auto t_enter = std::make_unique<std::atomic<double>[]>(n_iter);  // the waiter entered dequeue i
      std::vector<double> wake(n_iter, -1.0), round(n_iter, -1.0);
      std::atomic<int> waiter_errors{0};
      std::string waiter_error;
      std::thread waiter([&] {
        std::array<Completion, 4> out{};
        for (std::size_t i = 0; i < n_iter; ++i) {
          t_enter[i].store(now_us());
          auto n = port.dequeue(out, 5000);
          const double now = now_us();
          if (!n.ok() || n.value() != 1 || out[0].key != kPingKey || out[0].information != i) {
            waiter_error = !n.ok()          ? n.error().message()
                           : n.value() == 0 ? strf("wake %zu: nothing within 5 s", i)
                                            : strf("wake %zu: got key %llu info %llu", i,
                                                   static_cast<unsigned long long>(out[0].key),
                                                   static_cast<unsigned long long>(out[0].information));
            waiter_errors.fetch_add(1);
            (void)ack.post(kAckKey, nullptr, 1, i);  // tell the main thread to stop
            return;
          }
          wake[i] = now - t_post[i].load();
          (void)ack.post(kAckKey, nullptr, 0, i);
        }
      });
      std::array<Completion, 4> out{};
      std::size_t done = 0;
      double next_progress = now_us() + 1e6;
      for (std::size_t i = 0; i < n_iter; ++i) {
        // Post only once the waiter is inside dequeue i (entered, then the gap for it to block).
        const double give_up = now_us() + 5e6;
        while (t_enter[i].load() == 0 && now_us() < give_up) std::this_thread::yield();
        pause_us(gap_us);
        t_post[i].store(now_us());
        if (auto st = port.post(kPingKey, nullptr, 0, i); !st.ok()) {
          r.fail(st.error().message());
          break;
        }
        auto n = ack.dequeue(out, 10000);
        if (!n.ok() || n.value() != 1 || out[0].status != 0) break;
        round[i] = now_us() - t_post[i].load();
        ++done;
        if (now_us() >= next_progress) {
          next_progress += 1e6;
          progress(r.binary(), strf("%zu/%zu wakes", done, n_iter));
        }
      }
      waiter.join();
      std::vector<double> w, rt;
      for (std::size_t i = 0; i < done; ++i) {
        w.push_back(wake[i]);
        rt.push_back(round[i]);
      }
      const LatencySummary ws = summarize(w), rs = summarize(rt);
      r.check_eq("wakes delivered in order, none lost (each within 5 s)", iterations, static_cast<std::int64_t>(done));
      if (!waiter_error.empty()) r.metric("waiter_error", waiter_error);
      r.check("wake latency: every wake well before the waiter's 5 s timeout", "max < 1000000 us",
              strf("max %s us", format_number(ws.max).c_str()), ws.count > 0 && ws.max < 1e6);
      r.check("wake latency: the median wake is immediate", "p50 < 5000 us",
              strf("p50 %s us", format_number(ws.p50).c_str()), ws.count > 0 && ws.p50 < 5000);
      r.metric("wake_latency", to_json(ws));
      r.metric("post_wake_ack_round_trip", to_json(rs));
      wake_figures = strf("wake p50 %s us, p99 %s us, max %s us (n=%zu)", format_number(ws.p50).c_str(),
                          format_number(ws.p99).c_str(), format_number(ws.max).c_str(), ws.count);
      r.key_figures(wake_figures);
    }

    // 4. Cross-thread: several threads post at once; one consumer drains in batches.
    r.phase(strf("cross-thread: %d threads x %d posts", threads, iterations));
    {
      const auto n_threads = static_cast<std::size_t>(threads);
      std::vector<int> tags(n_threads);
      std::atomic<bool> go{false};
      std::atomic<int> post_failures{0};
      std::vector<std::thread> posters;
      for (std::size_t t = 0; t < n_threads; ++t) {
        posters.emplace_back([&, t] {
          while (!go.load()) std::this_thread::yield();
          for (int i = 0; i < iterations; ++i) {
            if (!port.post(kPosterKeyBase + t, &tags[t], 0, static_cast<ULONG_PTR>(i)).ok()) post_failures.fetch_add(1);
          }
        });
      }
      std::vector<ULONG_PTR> next(n_threads, 0);
      std::uint64_t received = 0, out_of_order = 0, wrong_ctx = 0, foreign = 0, batches = 0, max_batch = 0;
      const std::uint64_t expected = static_cast<std::uint64_t>(threads) * static_cast<std::uint64_t>(iterations);
      std::array<Completion, 64> out{};
      const double t0 = now_us();
      go.store(true);
      while (received < expected) {
        auto n = port.dequeue(out, 5000);
        if (!n.ok() || n.value() == 0) break;
        ++batches;
        max_batch = std::max<std::uint64_t>(max_batch, n.value());
        for (std::size_t k = 0; k < n.value(); ++k) {
          const Completion& c = out[k];
          if (c.key < kPosterKeyBase || c.key >= kPosterKeyBase + n_threads) {
            ++foreign;
            continue;
          }
          const std::size_t t = c.key - kPosterKeyBase;
          if (c.apc_context != &tags[t]) ++wrong_ctx;
          if (c.information != next[t]) ++out_of_order;
          next[t] = c.information + 1;
          ++received;
        }
      }
      const double elapsed_s = (now_us() - t0) / 1e6;
      for (auto& p : posters) p.join();
      std::array<Completion, 4> rest{};
      auto extra = port.dequeue(rest, 100);
      r.check("every cross-thread post arrives exactly once",
              strf("%llu, then nothing", static_cast<unsigned long long>(expected)),
              strf("%llu, then %zu more", static_cast<unsigned long long>(received), extra.ok() ? extra.value() : 0),
              received == expected && extra.ok() && extra.value() == 0 && post_failures.load() == 0);
      r.check("per-thread order kept, ApcContext matches the key", "0 out of order, 0 wrong, 0 foreign",
              strf("%llu out of order, %llu wrong, %llu foreign", static_cast<unsigned long long>(out_of_order),
                   static_cast<unsigned long long>(wrong_ctx), static_cast<unsigned long long>(foreign)),
              out_of_order == 0 && wrong_ctx == 0 && foreign == 0);
      auto x = Json::object();
      x["threads"] = threads;
      x["posts"] = expected;
      x["received"] = received;
      x["batches"] = batches;
      x["max_batch"] = max_batch;
      x["mean_batch"] = batches > 0 ? static_cast<double>(received) / static_cast<double>(batches) : 0.0;
      x["posts_per_s"] = elapsed_s > 0 ? static_cast<double>(received) / elapsed_s : 0.0;
      r.metric("cross_thread", x);
      r.key_figures(strf("%s; %d threads x %d posts: %llu received, max batch %llu", wake_figures.c_str(), threads,
                         iterations, static_cast<unsigned long long>(received),
                         static_cast<unsigned long long>(max_batch)));
    }
  }
  const HandleSnapshot handles_after = handle_snapshot();
  r.check_handles("process handle count back to its value before the stage (ports closed, threads joined)",
                  handles_before, handles_after);
  return r.finish();
}
