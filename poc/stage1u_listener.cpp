// Stage 1U.1: Stage 1 on an AF_UNIX listener (afunix.h, sockaddr_un, a socket file in the temp
// directory deleted before bind and after close). Skips with the reason when the host has no
// AF_UNIX (Windows before 10 1803; Wine 8, where socket() fails with WSAEAFNOSUPPORT).
#include "common/scenarios.hpp"
#include "report/cli.hpp"

int main(int argc, char** argv) {
  int iterations = 20;
  poc::Cli cli("stage1u_listener",
               "Stage 1U.1: AFD_POLL for ACCEPT on an AF_UNIX listener, completed through an Event (no\n"
               "IOCP): the checks of stage1_accept on a Unix domain socket. Reports skip, with the reason,\n"
               "when socket(AF_UNIX) fails (Wine 8: WSAEAFNOSUPPORT).",
               60);
  cli.add_int("--iterations", &iterations, "connect/accept cycles", 1, 100000);
  if (auto rc = cli.parse(argc, argv)) return *rc;
  poc::Report r("stage1u_listener", "1U.1",
                "AFD_POLL ACCEPT on an AF_UNIX listener, completed through an event (no IOCP)", cli.report_dir());
  r.params(cli.params());
  r.arm_watchdog(cli.timeout_s());
  poc::run_accept_event_stage(r, poc::Transport::uds, iterations);
  return r.finish();
}
