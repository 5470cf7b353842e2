// Stage 2 / 1U.2 / 1U.3: echo over IOCP + AFD_POLL, byte-exact, with exactly-once poll accounting.
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "common/echo_client.hpp"
#include "common/echo_server.hpp"
#include "common/scenarios.hpp"

namespace poc {

void run_echo_stage(Report& r, const EchoStageConfig& cfg) {
  if (cfg.transport == Transport::uds) {
    if (auto why = uds_unavailable_reason()) {
      r.metric("af_unix_probe", *why);
      r.skip(*why);
      return;
    }
    r.metric("af_unix_probe", "socket(AF_UNIX, SOCK_STREAM) succeeded");
  }
  warm_up(cfg.transport);  // lazily created runtime state first, then the baseline
  const HandleSnapshot handles_before = handle_snapshot();
  const Deadline deadline(cfg.deadline_s);

  r.phase(strf("starting the echo server (%s)", to_string(cfg.transport)));
  auto listener = listen_on(cfg.transport, "echo", /*nonblocking=*/true);
  if (!listener.ok()) {
    r.fail("listener: " + listener.error().message());
    return;
  }
  const Endpoint ep = listener->endpoint;
  r.metric("endpoint", ep.text());
  EchoServerConfig scfg;
  scfg.sndbuf = cfg.sndbuf;
  scfg.deadline_s = cfg.deadline_s > 10 ? cfg.deadline_s - 5 : cfg.deadline_s * 0.8;  // before the watchdog
  auto created = EchoServer::create(std::move(listener).value(), scfg);
  if (!created.ok()) {
    r.fail("echo server: " + created.error().message());
    return;
  }
  std::unique_ptr<EchoServer> server = std::move(created).value();
  std::thread server_thread([&server] { server->run(); });

  // Phase 1: one ping-pong client, small messages: the round-trip latency of the loop.
  EchoClientResult pp;
  if (cfg.pingpong_messages > 0) {
    r.phase(strf("ping-pong: 1 client x %d messages of 64 bytes", cfg.pingpong_messages));
    EchoClientConfig c;
    c.endpoint = ep;
    c.messages = cfg.pingpong_messages;
    c.min_size = c.max_size = 64;
    c.pipelined = false;
    c.io_timeout_ms = cfg.io_timeout_ms;
    c.seed = 1000;
    pp = run_echo_client(c, nullptr);
  }

  // Phase 2: N concurrent pipelined clients, random sizes; client 0 may be a slow reader.
  r.phase(strf("concurrent: %d clients x %d messages of %d..%d bytes", cfg.clients, cfg.messages, cfg.min_size,
               cfg.max_size));
  std::vector<EchoClientResult> results(static_cast<std::size_t>(cfg.clients));
  std::atomic<std::uint64_t> done{0};
  std::atomic<int> finished{0};
  const double t0 = now_us();
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < cfg.clients; ++i) {
      threads.emplace_back([&, i] {
        EchoClientConfig c;
        c.endpoint = ep;
        c.messages = cfg.messages;
        c.min_size = cfg.min_size;
        c.max_size = cfg.max_size;
        c.pipelined = true;
        c.io_timeout_ms = cfg.io_timeout_ms;
        c.seed = static_cast<std::uint32_t>(i + 1);
        if (cfg.slow_reader && i == 0) {
          c.rcvbuf = 8192;
          c.read_delay_ms = 300;
        }
        results[static_cast<std::size_t>(i)] = run_echo_client(c, &done);
        finished.fetch_add(1);
      });
    }
    const auto total_msgs = static_cast<std::uint64_t>(cfg.clients) * static_cast<std::uint64_t>(cfg.messages);
    double next_progress = now_us() + 1e6;
    while (finished.load() < cfg.clients) {
      Sleep(50);
      if (finished.load() < cfg.clients && now_us() >= next_progress) {
        next_progress += 1e6;
        progress(r.binary(),
                 strf("%llu/%llu messages echoed, %d/%d clients done", static_cast<unsigned long long>(done.load()),
                      static_cast<unsigned long long>(total_msgs), finished.load(), cfg.clients));
      }
      if (deadline.passed()) break;  // the clients' own I/O timeouts end them soon; the watchdog is the backstop
    }
    for (auto& t : threads) t.join();
  }
  const double elapsed_s = (now_us() - t0) / 1e6;

  r.phase("stopping the server (NtSetIoCompletion wake-up) and draining its polls");
  server->stop();
  server_thread.join();
  const EchoServerStats st = server->stats();
  server.reset();
  const SocketFileRemoval file_removal = remove_socket_file(ep);
  const HandleSnapshot handles_after = handle_snapshot();

  // Client side.
  int ok_clients = 0, eof_clients = 0;
  std::uint64_t sent = 0, received = 0, expected = 0, mismatched = 0;
  std::vector<double> lat;
  std::string first_error;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& c = results[i];
    ok_clients += c.ok ? 1 : 0;
    eof_clients += c.eof_after_echo ? 1 : 0;
    sent += c.bytes_sent;
    received += c.bytes_received;
    expected += c.bytes_expected;
    mismatched += c.mismatched_bytes;
    lat.insert(lat.end(), c.latency_us.begin(), c.latency_us.end());
    if (!c.error.empty() && first_error.empty()) first_error = strf("client %zu: %s", i, c.error.c_str());
  }
  const LatencySummary echo_lat = summarize(lat);
  const LatencySummary rtt = summarize(pp.latency_us);
  const int expected_conns = cfg.clients + (cfg.pingpong_messages > 0 ? 1 : 0);

  if (cfg.pingpong_messages > 0) {
    r.check("ping-pong client: every 64-byte message echoed byte-exact, then FIN",
            strf("%d messages", cfg.pingpong_messages), pp.ok ? strf("%d messages", pp.messages_echoed) : pp.error,
            pp.ok && pp.messages_echoed == cfg.pingpong_messages);
  }
  r.check("concurrent clients finished without error", strf("%d of %d", cfg.clients, cfg.clients),
          strf("%d of %d", ok_clients, cfg.clients) + (first_error.empty() ? "" : "; " + first_error),
          ok_clients == cfg.clients);
  r.check("bytes echoed back byte-exact", strf("%llu bytes, 0 differing", static_cast<unsigned long long>(expected)),
          strf("%llu bytes, %llu differing", static_cast<unsigned long long>(received),
               static_cast<unsigned long long>(mismatched)),
          received == expected && sent == expected && mismatched == 0);
  r.check_eq("clients that saw the server's FIN after the full echo", cfg.clients, eof_clients);
  r.check_eq("connections accepted by the server", expected_conns, static_cast<std::int64_t>(st.accepted));
  r.check_eq("connections the server closed on EOF before stop (open at stop)", 0,
             static_cast<std::int64_t>(st.live_at_stop));
  r.check(
      "every submitted poll completed exactly once (also watched for 200 ms after the last one)",
      "submitted == completed; 0 duplicates, 0 per-connection mismatches, 0 left pending, 0 late",
      strf("submitted %llu, completed %llu; %llu duplicates, %llu mismatches, %llu left pending, %llu late",
           static_cast<unsigned long long>(st.polls_submitted), static_cast<unsigned long long>(st.polls_completed),
           static_cast<unsigned long long>(st.duplicate_completions),
           static_cast<unsigned long long>(st.per_op_mismatches), static_cast<unsigned long long>(st.leaked_pending),
           static_cast<unsigned long long>(st.late_completions)),
      st.polls_submitted == st.polls_completed && st.duplicate_completions == 0 && st.per_op_mismatches == 0 &&
          st.late_completions == 0 &&
          st.leaked_pending == 0);
  r.check("every completion is ours and its status matches the IO_STATUS_BLOCK", "0 foreign, 0 mismatched",
          strf("%llu foreign, %llu mismatched", static_cast<unsigned long long>(st.foreign_completions),
               static_cast<unsigned long long>(st.status_mismatches)),
          st.foreign_completions == 0 && st.status_mismatches == 0);
  r.check("server ran without unexpected errors", "none",
          st.errors.empty() ? "none" : strf("%zu, first: %s", st.errors.size(), st.errors.front().c_str()),
          st.errors.empty());
  if (cfg.slow_reader) {
    r.check(
        "backpressure: send() hit WSAEWOULDBLOCK, the server polled for SEND and got SEND", "each count > 0",
        strf("WSAEWOULDBLOCK on send %llu, SEND polls %llu, SEND completions %llu",
             static_cast<unsigned long long>(st.send_would_block), static_cast<unsigned long long>(st.polls_with_send),
             static_cast<unsigned long long>(st.completions_with_send)),
        st.send_would_block > 0 && st.polls_with_send > 0 && st.completions_with_send > 0);
  }
  r.check("stop() woke the loop through NtSetIoCompletion (key 1)", "the loop stopped on the key-1 completion",
          strf("stopped on it: %s; %llu wake-up(s)", st.stopped_by_wake ? "yes" : "no",
               static_cast<unsigned long long>(st.wakeups)),
          st.stopped_by_wake);
  if (cfg.transport == Transport::uds) {
    r.check("the listener's socket file existed after close and the stage's delete removed it", "existed, gone",
            file_removal.text(), file_removal.existed && file_removal.gone);
  }
  r.check_handles("process handle count back to its value before the stage", handles_before, handles_after);

  if (cfg.pingpong_messages > 0) r.metric("pingpong_rtt_64B", to_json(rtt));
  r.metric("echo_latency_pipelined", to_json(echo_lat));
  r.metric("bytes_echoed", received);
  r.metric("throughput_MiB_per_s", elapsed_s > 0 ? static_cast<double>(received) / (1024.0 * 1024.0) / elapsed_s : 0.0);
  r.metric("concurrent_phase_s", elapsed_s);
  r.metric("events_seen", to_json(st.events_seen));
  r.metric("statuses_seen", to_json(st.statuses_seen));
  r.metric("server", st.to_json());
  if (!first_error.empty()) r.metric("first_client_error", first_error);
  std::string figures = strf("%d+%d conns, %.1f MiB byte-exact", cfg.clients, cfg.pingpong_messages > 0 ? 1 : 0,
                             static_cast<double>(received) / (1024.0 * 1024.0));
  if (cfg.pingpong_messages > 0)
    figures += strf("; RTT p50 %s us p99 %s us", format_number(rtt.p50).c_str(), format_number(rtt.p99).c_str());
  figures +=
      strf("; polls %llu/%llu done; SEND polls %llu", static_cast<unsigned long long>(st.polls_completed),
           static_cast<unsigned long long>(st.polls_submitted), static_cast<unsigned long long>(st.polls_with_send));
  r.key_figures(figures);
}

}  // namespace poc
