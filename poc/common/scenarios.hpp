#pragma once
// Stage scenarios shared by a TCP stage and its AF_UNIX twin (Stage 1U): the same code runs on
// either address family, so a UDS stage proves exactly what its TCP stage proves.
#include "common/net.hpp"
#include "report/report.hpp"

namespace poc {

// Stage 1 / 1U.1: AFD_POLL for ACCEPT on a listener, completed through an event (the socket is
// NOT associated with an IOCP; ApcContext is null). Records checks and metrics into `r`.
void run_accept_event_stage(Report& r, Transport t, int iterations);

struct EchoStageConfig {
  Transport transport = Transport::tcp;
  int clients = 8;
  int messages = 200;
  int min_size = 1;
  int max_size = 16384;
  int pingpong_messages = 500;  // phase 1: one ping-pong client of 64-byte messages (0 = skip)
  bool slow_reader = true;      // client 0 reads late with a small SO_RCVBUF: forces SEND polls
  int sndbuf = 16384;           // server SO_SNDBUF (small, so backpressure appears quickly)
  int io_timeout_ms = 15000;
  double deadline_s = 60;
};

// Stage 2 / 1U.2 / 1U.3: echo server on IOCP + AFD_POLL with one-shot re-arming; N clients x M
// messages, byte-exact, plus exactly-once accounting of every poll. Records into `r`.
void run_echo_stage(Report& r, const EchoStageConfig& cfg);

}  // namespace poc
