#pragma once
// Echo clients for the stages: blocking sockets with I/O timeouts (so a client never hangs), a
// deterministic pseudo-random payload per client, and byte-exact verification of every echoed byte.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "common/net.hpp"

namespace poc {

struct EchoClientConfig {
  Endpoint endpoint;
  int messages = 100;
  int min_size = 1;
  int max_size = 4096;
  // true: a sender thread streams every message while this thread reads the echo (the server
  // meets backpressure); false: ping-pong, one message at a time (latency = round trip).
  bool pipelined = true;
  int rcvbuf = 0;         // SO_RCVBUF for this client (0 = OS default)
  int read_delay_ms = 0;  // pipelined: start reading this late, so the server's sends block
  int io_timeout_ms = 10000;
  std::uint32_t seed = 1;
};

struct EchoClientResult {
  bool ok = false;
  std::string error;  // the first failure, empty when ok
  std::uint64_t bytes_expected = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t mismatched_bytes = 0;
  std::int64_t first_mismatch = -1;  // offset of the first wrong byte
  int messages_echoed = 0;
  bool eof_after_echo = false;     // the server closed after echoing everything (it saw our FIN)
  std::vector<double> latency_us;  // per message: send start -> last byte of its echo received
};

// Connects, sends cfg.messages messages of random size in [min_size, max_size] (the first byte is
// 'E'), half-closes, verifies the echo byte for byte and waits for the server's FIN.
// `messages_done` (optional) is bumped per verified message, for progress output.
EchoClientResult run_echo_client(const EchoClientConfig& cfg, std::atomic<std::uint64_t>* messages_done);

}  // namespace poc
