// Stage 1U.2: the Stage 2 echo server on an AF_UNIX listener, fully integrated with the IOCP loop.
// Skips with the reason when the host has no AF_UNIX (Wine 8: WSAEAFNOSUPPORT).
#include "common/scenarios.hpp"
#include "report/cli.hpp"

int main(int argc, char** argv) {
  poc::EchoStageConfig cfg;
  cfg.transport = poc::Transport::uds;
  cfg.clients = 2;
  cfg.messages = 200;
  cfg.min_size = 1;
  cfg.max_size = 4096;
  cfg.pingpong_messages = 500;
  cfg.slow_reader = false;
  poc::Cli cli("stage1u_echo",
               "Stage 1U.2: echo over AF_UNIX through the IOCP + AFD_POLL loop of stage2_echo: one\n"
               "ping-pong client (round-trip latency) and a few streaming clients, byte-exact, every poll\n"
               "completing exactly once. Reports skip, with the reason, when socket(AF_UNIX) fails.",
               60);
  cli.add_int("--clients", &cfg.clients, "concurrent streaming clients", 1, 256);
  cli.add_int("--messages", &cfg.messages, "messages per streaming client", 1, 1000000);
  cli.add_int("--pingpong", &cfg.pingpong_messages, "ping-pong messages of 64 bytes (0 = none)", 0, 1000000);
  if (auto rc = cli.parse(argc, argv)) return *rc;
  cfg.deadline_s = cli.timeout_s();
  poc::Report r("stage1u_echo", "1U.2", "AF_UNIX echo integrated with the IOCP + AFD_POLL loop", cli.report_dir());
  r.params(cli.params());
  r.arm_watchdog(cli.timeout_s());
  poc::run_echo_stage(r, cfg);
  return r.finish();
}
