// tofu_perf: latency and throughput between two processes or machines (docs/perf-tool.md).
//   tofu_perf lat-server ADDR                      echoes Requests
//   tofu_perf lat-client ADDR --size N --count N   round trips: p50 / p99 / mean in microseconds
//   tofu_perf thr-server ADDR                      counts Signals: msg/s and MB/s
//   tofu_perf thr-client ADDR --size N --count N   sends Signals: msg/s and MB/s
// ADDR: tcp://HOST:PORT (tcp://*:PORT = all interfaces, port 0 = any), uds:///PATH, or tofu's own
// tcp|HOST|PORT and uds|PATH.
#include <CLI/CLI.hpp>

#include <string>

#include "perf.hpp"

int main(int argc, char** argv) {
  perf::Options o;
  CLI::App app{"tofu_perf: latency and throughput of tofu between two processes or machines"};
  app.require_subcommand(1);
  const auto common = [&](CLI::App* sub) {
    sub->add_option("address", o.address, "tcp://HOST:PORT, uds:///PATH, tcp|HOST|PORT or uds|PATH")->required();
    sub->add_option("--backend", o.backend, "poll, epoll (Linux), afd (Windows) or best")
        ->check(CLI::IsMember({"best", "poll", "epoll", "afd"}))
        ->capture_default_str();
    sub->add_option("--pool", o.pool, "messages in the engine's pool")->check(CLI::Range(16, 1 << 20))->capture_default_str();
    sub->add_option("--timeout", o.timeout_s, "seconds any single wait may take")->check(CLI::PositiveNumber)->capture_default_str();
  };
  const auto server = [&](CLI::App* sub) {
    common(sub);
    sub->add_option("--sessions", o.sessions, "clients to serve before exiting (0 = forever)")->capture_default_str();
  };
  const auto client = [&](CLI::App* sub) {
    common(sub);
    sub->add_option("--size", o.size, "payload bytes per message")->check(CLI::Range(0, 65535))->capture_default_str();
    sub->add_option("--count", o.count, "messages (round trips) measured")->check(CLI::Range(1, 1000000000))->capture_default_str();
  };
  CLI::App* lat_server = app.add_subcommand("lat-server", "echo every Request as a Response");
  server(lat_server);
  CLI::App* lat_client = app.add_subcommand("lat-client", "round trips, one at a time: p50/p99/mean latency");
  client(lat_client);
  lat_client->add_option("--warmup", o.warmup, "round trips before measuring")->capture_default_str();
  CLI::App* thr_server = app.add_subcommand("thr-server", "count the Signals a client sends: msg/s and MB/s");
  server(thr_server);
  CLI::App* thr_client = app.add_subcommand("thr-client", "send Signals as fast as the engine takes them: msg/s and MB/s");
  client(thr_client);
  CLI11_PARSE(app, argc, argv);

  tofu::Backend b{};
  if (!tofu::parse_backend(o.backend, b) || !tofu::backend_available(b)) {
    std::fprintf(stderr, "tofu_perf: backend %s is not available here\n", o.backend.c_str());
    return 2;
  }
  if (lat_server->parsed()) return perf::lat_server(o);
  if (lat_client->parsed()) return perf::lat_client(o);
  if (thr_server->parsed()) return perf::thr_server(o);
  return perf::thr_client(o);
}
