// Stage 1U.3: UDS stress: many AF_UNIX clients, many messages, nothing lost, backpressure included.
// Skips with the reason when the host has no AF_UNIX (Wine 8: WSAEAFNOSUPPORT).
#include "common/scenarios.hpp"
#include "report/cli.hpp"

int main(int argc, char** argv) {
  poc::EchoStageConfig cfg;
  cfg.transport = poc::Transport::uds;
  cfg.clients = 32;
  cfg.messages = 500;
  cfg.min_size = 1;
  cfg.max_size = 16384;
  cfg.pingpong_messages = 0;
  cfg.slow_reader = true;
  poc::Cli cli("stage1u_stress",
               "Stage 1U.3: many AF_UNIX clients stream many messages of random size through the IOCP +\n"
               "AFD_POLL echo server at once (client 0 reads late, forcing SEND polls). Nothing may be lost\n"
               "or altered, and every poll must complete exactly once. Reports skip, with the reason, when\n"
               "socket(AF_UNIX) fails.",
               120);
  cli.add_int("--clients", &cfg.clients, "concurrent streaming clients", 1, 512);
  cli.add_int("--messages", &cfg.messages, "messages per client", 1, 1000000);
  cli.add_int("--max-size", &cfg.max_size, "largest message in bytes", 1, 1 << 20);
  if (auto rc = cli.parse(argc, argv)) return *rc;
  cfg.deadline_s = cli.timeout_s();
  poc::Report r("stage1u_stress", "1U.3", "AF_UNIX stress: many clients, many messages, nothing lost",
                cli.report_dir());
  r.params(cli.params());
  r.arm_watchdog(cli.timeout_s());
  poc::run_echo_stage(r, cfg);
  return r.finish();
}
