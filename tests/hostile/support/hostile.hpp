#pragma once
// Support for the hostile-peer suite (label "hostile", spec section 9): raw-socket peers that
// flood, stall mid-frame, break the protocol or leave at the worst moment, a well-behaved client
// that must be served meanwhile, and the engine's baseline (pool, channels, fds/handles) that must
// come back once they leave.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "raw_socket.hpp"
#include "support/counter.hpp"
#include "support/process_stats.hpp"
#include "tofu/engine.hpp"

namespace tofu::hostile {

using parity::RawSocket;

// What a server engine holds while no peer is connected.
struct Baseline {
  std::size_t pool_in_use = 0;
  std::size_t channels = 0;
  test::HandleCount handles;  // open fds (Linux) or probed handles and wait objects (Windows), process-wide
};
Baseline snapshot(const Engine& engine);
// REQUIREs that the engine gets back to `b` within a generous bound; returns how long it took.
std::chrono::milliseconds wait_baseline(const Engine& engine, const Baseline& b);

// Raises this process's open-file limit to at least `n` when the hard limit allows; returns the
// reason when it cannot (the test then skips).
std::string ensure_fd_limit(std::size_t n);

// Connects a raw TCP socket to 127.0.0.1:port; REQUIREs success (test thread only).
RawSocket connect_raw(std::uint16_t port);
// The same without Catch2 assertions, for other threads (Catch2 v2 is not thread-safe): an
// invalid socket on failure.
RawSocket try_connect_raw(std::uint16_t port);
// A complete HelloRequest frame (channel 1) as a raw peer sends it.
std::vector<std::byte> hello_frame(std::uint16_t port, std::uint64_t id);
// A Request frame with a body of `body` bytes (text headers empty).
std::vector<std::byte> request_frame(std::uint64_t id, std::size_t body);

// A well-behaved client on its own engine: connects to `address` (an EchoServer answers), does
// `echoes` request/response round trips checking each body, then closes its channel locally.
// REQUIREs every step; returns the wall time of the whole session (for the note, not asserted).
std::chrono::microseconds echo_session(Engine& engine, ChannelGroup& group, const std::string& address, int echoes);

// A server engine whose one listener is answered by an EchoServer that tolerates hostile peers,
// a well-behaved client on its own engine, and the server's baseline taken once that is set up.
struct EchoBed {
  explicit EchoBed(const EngineOptions& options = {});
  // hello + `echoes` round trips by the well-behaved client, then its channel closes; REQUIREs
  // every step and that the echo server saw nothing wrong. Returns the session's wall time.
  std::chrono::microseconds serve(int echoes = 20);
  // REQUIREs that the server engine is back at its baseline; returns how long it took.
  std::chrono::milliseconds back_to_baseline() { return wait_baseline(*server_engine, base); }

  std::unique_ptr<Engine> server_engine;
  std::shared_ptr<ChannelGroup> server;
  parity::Listener listener;
  std::unique_ptr<parity::EchoServer> echo;
  std::unique_ptr<Engine> client_engine;
  std::shared_ptr<ChannelGroup> client;
  Baseline base;
};

// An EchoBed whose server engine also has a listener whose peers the test answers itself
// (`raw`, with raw_hello and friends); the baseline is taken again once that is set up.
struct Arena : EchoBed {
  explicit Arena(const EngineOptions& options = {});

  std::shared_ptr<ChannelGroup> raw;
  parity::Listener raw_listener;
};

// A raw peer that sends a HelloRequest and then `count` Requests of `size` bytes as fast as the
// engine reads them, never reading anything itself. Runs on its own thread; uses no Catch2
// assertion, so any thread may create one (check connected()).
class Flooder {
 public:
  Flooder(std::uint16_t port, std::size_t count, std::size_t size);
  [[nodiscard]] bool connected() const noexcept { return connected_; }
  ~Flooder();
  Flooder(const Flooder&) = delete;
  Flooder& operator=(const Flooder&) = delete;
  // Waits for the sending thread; false when it did not finish within `timeout` (the engine
  // stopped reading it for longer than the send timeout).
  bool join(std::chrono::milliseconds timeout);
  [[nodiscard]] std::size_t sent() const { return sent_.value(); }
  // True once `n` requests are sent; false when they were not within `timeout`.
  [[nodiscard]] bool wait_sent(std::size_t n, std::chrono::milliseconds timeout) const {
    return sent_.wait_at_least(n, timeout);
  }
  // Stops sending after the current batch (a flood of unbounded `count`); then join().
  void stop() { stop_.store(true); }
  // Leaves with a reset (SO_LINGER 0) or a FIN. Call after join().
  void reset() { socket_.abort(); }
  void close() { socket_.close(); }

 private:
  RawSocket socket_;
  bool connected_ = false;
  test::Counter sent_;  // requests handed to the kernel
  test::Counter done_;  // 1 once the sending thread is done (or never started)
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tofu::hostile
