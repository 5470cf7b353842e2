// Stage 1: ACCEPT readiness on a loopback TCP listener through IOCTL_AFD_POLL, completed by
// signalling an Event: the socket is NOT associated with any IOCP and ApcContext is null.
#include "common/scenarios.hpp"
#include "report/cli.hpp"

int main(int argc, char** argv) {
  int iterations = 20;
  poc::Cli cli("stage1_accept",
               "Stage 1: one AFD_POLL for ACCEPT on a loopback TCP listener, issued with an Event and a\n"
               "null ApcContext (no IOCP). Proves: an idle poll stays pending; each connect signals the\n"
               "event with STATUS_SUCCESS and ACCEPT; accept() then succeeds without blocking; a poll\n"
               "armed while a connection already waits completes at once; NtCancelIoFileEx completes a\n"
               "pending poll with STATUS_CANCELLED.",
               60);
  cli.add_int("--iterations", &iterations, "connect/accept cycles", 1, 100000);
  if (auto rc = cli.parse(argc, argv)) return *rc;
  poc::Report r("stage1_accept", "1", "AFD_POLL ACCEPT on a TCP listener, completed through an event (no IOCP)",
                cli.report_dir());
  r.params(cli.params());
  r.arm_watchdog(cli.timeout_s());
  poc::run_accept_event_stage(r, poc::Transport::tcp, iterations);
  return r.finish();
}
