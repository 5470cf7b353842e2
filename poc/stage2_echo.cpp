// Stage 2: a concurrent TCP echo server on one IOCP + IOCTL_AFD_POLL with one-shot re-arming,
// N clients x M messages verified byte for byte (see common/echo_server.hpp for the loop).
#include "common/scenarios.hpp"
#include "report/cli.hpp"

int main(int argc, char** argv) {
  poc::EchoStageConfig cfg;
  cfg.transport = poc::Transport::tcp;
  cfg.clients = 8;
  cfg.messages = 300;
  cfg.min_size = 1;
  cfg.max_size = 16384;
  cfg.pingpong_messages = 1000;
  int slow = 1;
  poc::Cli cli("stage2_echo",
               "Stage 2: a single-threaded echo server on one IOCP, readiness from AFD_POLL on each\n"
               "socket's base handle, polls re-armed after each completion while interest remains.\n"
               "Phase 1: one ping-pong client (64-byte messages, round-trip latency). Phase 2: N\n"
               "concurrent clients each streaming M messages of random size; client 0 reads late with a\n"
               "small receive buffer so the server's send() hits WSAEWOULDBLOCK and it must poll for\n"
               "SEND. Every byte is verified; every poll must complete exactly once.",
               90);
  cli.add_int("--clients", &cfg.clients, "concurrent streaming clients", 1, 256);
  cli.add_int("--messages", &cfg.messages, "messages per streaming client", 1, 1000000);
  cli.add_int("--max-size", &cfg.max_size, "largest message in bytes (sizes are random in 1..max)", 1, 1 << 20);
  cli.add_int("--pingpong", &cfg.pingpong_messages, "ping-pong messages of 64 bytes (0 = no ping-pong phase)", 0,
              1000000);
  cli.add_int("--slow-reader", &slow, "1 = client 0 reads late to force SEND polls, 0 = off", 0, 1);
  if (auto rc = cli.parse(argc, argv)) return *rc;
  cfg.slow_reader = slow != 0;
  cfg.deadline_s = cli.timeout_s();
  poc::Report r("stage2_echo", "2", "Concurrent TCP echo on IOCP + AFD_POLL with one-shot re-arming", cli.report_dir());
  r.params(cli.params());
  r.arm_watchdog(cli.timeout_s());
  poc::run_echo_stage(r, cfg);
  return r.finish();
}
