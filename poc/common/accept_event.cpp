// Stage 1 / 1U.1: ACCEPT readiness on a listener, waited on with an event (no IOCP).
#include <windows.h>

#include <memory>
#include <vector>

#include "common/scenarios.hpp"
#include "platform/windows/afd_poll.hpp"
#include "platform/windows/winsock.hpp"

namespace poc {

using tofu::platform::win::AfdPollOp;
using tofu::platform::win::base_handle;
using tofu::platform::win::kStatusCancelled;
using tofu::platform::win::kStatusSuccess;
namespace afd = tofu::platform::win::afd;

namespace {

struct EventHandle {
  HANDLE h = nullptr;
  EventHandle() : h(CreateEventW(nullptr, TRUE, FALSE, nullptr)) {}  // manual reset, not signalled
  EventHandle(const EventHandle&) = delete;
  EventHandle& operator=(const EventHandle&) = delete;
  ~EventHandle() {
    if (h != nullptr) CloseHandle(h);
  }
};

// Waits for the poll's event; returns the wait time in µs, or -1 on timeout/failure.
double wait_event(HANDLE ev, DWORD timeout_ms) {
  const double t0 = now_us();
  const DWORD w = WaitForSingleObject(ev, timeout_ms);
  return w == WAIT_OBJECT_0 ? now_us() - t0 : -1.0;
}

}  // namespace

void run_accept_event_stage(Report& r, Transport t, int iterations) {
  if (t == Transport::uds) {
    if (auto why = uds_unavailable_reason()) {
      r.metric("af_unix_probe", *why);
      r.skip(*why);
      return;
    }
    r.metric("af_unix_probe", "socket(AF_UNIX, SOCK_STREAM) succeeded");
  }
  warm_up(t);  // lazily created runtime state first, then the baseline
  const HandleSnapshot handles_before = handle_snapshot();
  Tally events_seen;
  Tally statuses_seen;
  std::vector<double> latency;
  int signalled = 0, accept_bit = 0, accepted_now = 0;
  std::string first_problem;
  auto problem = [&](const std::string& what) {
    if (first_problem.empty()) first_problem = what;
  };
  bool idle_stayed_pending = false;
  double level_wait_us = -1;
  std::uint32_t level_events = 0;
  std::uint32_t cancel_status = 0;
  bool cancel_signalled = false;
  SocketFileRemoval file_removal;  // set when the listener is closed below
  {
    r.phase(strf("listening (%s)", to_string(t)));
    auto listener = listen_on(t, "accept", /*nonblocking=*/true);
    if (!listener.ok()) {
      r.fail("listener: " + listener.error().message());
      return;
    }
    const Endpoint ep = listener->endpoint;
    r.metric("endpoint", ep.text());
    auto base = base_handle(listener->sock.get());
    if (!r.check("SIO_BASE_HANDLE gives the listener's base handle", "a handle",
                 base.ok() ? strf("0x%llx (socket 0x%llx)", static_cast<unsigned long long>(base.value()),
                                  static_cast<unsigned long long>(listener->sock.get()))
                           : base.error().message(),
                 base.ok())) {
      return;
    }
    EventHandle ev;
    if (ev.h == nullptr) {
      r.fail("CreateEvent failed");
      return;
    }
    auto op = std::make_unique<AfdPollOp>();
    const std::uint32_t want = afd::kAccept | afd::events_for({});  // ACCEPT plus the error bits
    r.metric("events_requested", afd::events_to_string(want));

    auto submit = [&]() -> bool {
      ResetEvent(ev.h);
      if (auto st = op->submit_with_event(base.value(), want, ev.h); !st.ok()) {
        r.fail("AFD_POLL with an event: " + st.error().message());
        return false;
      }
      return true;
    };
    auto record = [&](const AfdPollOp::Outcome& o) {
      ++statuses_seen[ntstatus_text(o.status)];
      if (o.status == kStatusSuccess) ++events_seen[afd::events_to_string(o.events)];
    };
    // Gives up on the pending poll: cancel, wait for its completion, or leak it if none comes
    // (the kernel may still write into it). Returns false when it had to leak.
    auto abandon = [&]() -> bool {
      (void)op->cancel();
      if (wait_event(ev.h, 5000) >= 0) {
        record(op->complete());
        return true;
      }
      problem("a cancelled poll never signalled its event: its memory is leaked on purpose");
      (void)op.release();
      return false;
    };

    // 1. Nothing to accept: the poll must stay pending.
    r.phase("idle poll: must not complete");
    if (!submit()) return;
    idle_stayed_pending = WaitForSingleObject(ev.h, 200) == WAIT_TIMEOUT;
    r.check("a poll with no client waiting stays pending", "event not signalled within 200 ms",
            idle_stayed_pending ? "not signalled" : "signalled", idle_stayed_pending);

    // 2. N connects: each signals the event with ACCEPT, and accept() then succeeds at once.
    r.phase(strf("%d connect/accept cycles", iterations));
    for (int i = 0; i < iterations; ++i) {
      if (i > 0 && !submit()) return;
      const double t0 = now_us();
      auto client = connect_to(ep, 5000);
      if (!client.ok()) {
        problem("connect: " + client.error().message());
        if (!abandon()) return;
        break;
      }
      const DWORD w = WaitForSingleObject(ev.h, 5000);
      if (w != WAIT_OBJECT_0) {
        problem(strf("cycle %d: event not signalled within 5 s of the connect", i));
        if (!abandon()) return;
        break;
      }
      latency.push_back(now_us() - t0);
      ++signalled;
      const auto o = op->complete();
      record(o);
      if (o.status == kStatusSuccess && (o.events & afd::kAccept) != 0) {
        ++accept_bit;
      } else {
        problem(strf("cycle %d: %s, events %s", i, ntstatus_text(o.status).c_str(),
                     afd::events_to_string(o.events).c_str()));
      }
      UniqueSocket conn(::accept(listener->sock.get(), nullptr, nullptr));
      if (conn.valid()) {
        ++accepted_now;
      } else {
        problem(strf("cycle %d: accept after ACCEPT failed: %s", i, wsa_text(WSAGetLastError()).c_str()));
      }
    }

    // 3. Level semantics: armed while a connection already waits, the poll completes at once.
    r.phase("poll armed while a connection is already waiting");
    {
      auto client = connect_to(ep, 5000);
      if (client.ok()) {
        Sleep(20);
        if (!submit()) return;
        level_wait_us = wait_event(ev.h, 1000);
        if (level_wait_us < 0) {
          if (!abandon()) return;
        } else {
          const auto o = op->complete();
          record(o);
          level_events = o.events;
        }
        UniqueSocket conn(::accept(listener->sock.get(), nullptr, nullptr));
      } else {
        problem("connect: " + client.error().message());
      }
    }

    // 4. Cancel: an event-based poll cancelled with NtCancelIoFileEx signals with STATUS_CANCELLED.
    r.phase("cancel a pending event-based poll");
    if (!submit()) return;
    const bool cancel_ok = op->cancel().ok();
    cancel_signalled = cancel_ok && wait_event(ev.h, 5000) >= 0;
    if (cancel_signalled) {
      const auto o = op->complete();
      record(o);
      cancel_status = o.status;
    } else {
      problem("the cancelled poll never signalled its event: its memory is leaked on purpose");
      (void)op.release();  // the kernel may still write into it
    }
    listener->sock.reset();
    file_removal = remove_socket_file(ep);
  }

  const LatencySummary lat = summarize(latency);
  r.check_eq("connects that signalled the event within 5 s", iterations, signalled);
  r.check_eq("completions with STATUS_SUCCESS and ACCEPT set", iterations, accept_bit);
  r.check_eq("accept() right after ACCEPT succeeded without blocking", iterations, accepted_now);
  r.check("a poll armed while a connection waits completes at once (level semantics)", "ACCEPT within 1 s",
          level_wait_us < 0 ? "no completion within 1 s"
                            : strf("%s after %s us", afd::events_to_string(level_events).c_str(),
                                   format_number(level_wait_us).c_str()),
          level_wait_us >= 0 && (level_events & afd::kAccept) != 0);
  r.check("NtCancelIoFileEx completes the event-based poll with STATUS_CANCELLED", ntstatus_text(kStatusCancelled),
          cancel_signalled ? ntstatus_text(cancel_status) : "event never signalled",
          cancel_signalled && cancel_status == kStatusCancelled);
  if (t == Transport::uds) {
    r.check("the listener's socket file existed after close and the stage's delete removed it",
            "existed, gone", file_removal.text(), file_removal.existed && file_removal.gone);
  }
  const HandleSnapshot handles_after = handle_snapshot();
  r.check_handles("process handle count back to its value before the stage", handles_before, handles_after);
  if (!first_problem.empty()) r.metric("first_problem", first_problem);
  r.metric("connect_to_event_latency", to_json(lat));
  r.metric("events_seen", to_json(events_seen));
  r.metric("statuses_seen", to_json(statuses_seen));
  r.key_figures(strf("%d/%d connects signalled ACCEPT; connect->event %s; events %s", accept_bit, iterations,
                     to_text(lat).c_str(), text(to_json(events_seen)).c_str()));
}

}  // namespace poc
