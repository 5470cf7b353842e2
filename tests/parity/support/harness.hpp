#pragma once
// What every parity test uses: the engine under test (backend from TOFU_BACKEND), message helpers,
// the listen/connect handshake, checks for engine reports, and an echo server thread.
//
// Catch2 v2 assertions are not thread-safe: the helpers that REQUIRE run on the test's main thread
// only; EchoServer (its own thread) records the first unexpected event and the test checks it.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/counter.hpp"
#include "tofu/engine.hpp"
#include "tofu/message.hpp"
#include "tofu/status.hpp"

namespace tofu::parity {

// Generous bound for anything that must happen: only there to turn a hang into a failure.
inline constexpr std::chrono::milliseconds kWait{10000};
inline constexpr std::string_view kReasonHeader = "~reason";
inline constexpr std::string_view kLoopback = "127.0.0.1";

// The backend named by TOFU_BACKEND (best when unset). Skips the test when this host cannot run it.
Backend backend_under_test();
// An engine on the backend under test. REQUIREs that creation worked and the backend is the one asked for.
std::unique_ptr<Engine> make_engine(EngineOptions options = {});
std::shared_ptr<ChannelGroup> make_group(Engine& engine);

std::string describe(const BinaryHeader& h);
std::string describe(const Message& m);
// The `~reason` text header of an engine report ("" when absent).
std::string reason_of(const Message& m);

// A clean message from the pool with make_header(op), the channel and the body set. REQUIREs one.
MessagePtr make_message(Engine& engine, OpCode op, ChannelNumber channel = 0, std::string_view body = {});
// Deterministic printable bytes of length n (seed varies the content).
std::string pattern(std::size_t n, std::size_t seed = 0);

// Next message of the group; REQUIREs one within `timeout`.
MessagePtr receive(ChannelGroup& group, std::chrono::milliseconds timeout = kWait);
// REQUIREs that the group reports end of stream (drained and shut down) within `timeout`.
void expect_shutdown_end(ChannelGroup& group, std::chrono::milliseconds timeout = kWait);

// Checks an engine channel_closed Signal: opcode signal, origin engine, status channel_closed, the
// channel, and a `~reason` that is the name of one of `reasons` (which must not be empty: a test
// says which reasons are right).
void check_closed_signal(const Message& m, ChannelNumber channel, std::initializer_list<Status> reasons);
// receive() + check_closed_signal().
MessagePtr expect_closed_signal(ChannelGroup& group, ChannelNumber channel, std::initializer_list<Status> reasons);
// Checks a message the engine handed back: origin engine, the status, the channel.
void check_returned(const Message& m, OpCode op, Status status, ChannelNumber channel);

// Posts a WelcomeRequest / HelloRequest with the address as its `~listen_on` / `~connect_to` text header.
PostResult post_welcome(Engine& engine, ChannelGroup& group, std::string_view listen_on);
PostResult post_hello(Engine& engine, ChannelGroup& group, std::string_view connect_to);

struct Listener {
  ChannelNumber channel = 0;
  MessageId message_id = 0;
  std::string address;    // the bound address from the WelcomeResponse, e.g. "tcp|127.0.0.1|40123"
  std::uint16_t port = 0;  // tcp only
};
// Posts a WelcomeRequest and REQUIREs the matching successful WelcomeResponse with `~listen_on`.
Listener open_listener(Engine& engine, ChannelGroup& group, std::string_view listen_on = "tcp|127.0.0.1|0");

struct Link {
  ChannelNumber client = 0;  // the channel number on the connecting side
  ChannelNumber server = 0;  // the accepted channel's number on the listening side
  MessageId hello_id = 0;
};
// Connects `client` to `address` and completes the handshake with the server group's application
// answering on this thread: HelloRequest seen by the server (its channel, same id), HelloResponse
// seen by the client (its channel, same id, origin application, success).
Link handshake(Engine& client_engine, ChannelGroup& client, ChannelGroup& server, std::string_view address);
// Posts a HelloRequest only (server answered by someone else, e.g. an EchoServer); returns channel and id.
Link start_connect(Engine& client_engine, ChannelGroup& client, std::string_view address);
// REQUIREs the HelloResponse for `link` on the client group.
void expect_hello_response(ChannelGroup& client, const Link& link);
// The same, after any pool_empty Signals for that channel: when the engine's pool is exhausted
// (a busy engine), reading on the new channel pauses and that is reported before the response.
void expect_hello_response_after_pool_empty(ChannelGroup& client, const Link& link);

// Posts m and REQUIREs success; returns the final header.
BinaryHeader post_ok(ChannelGroup& group, MessagePtr& m);

EngineOptions pool_options(std::size_t initial, std::size_t max);

// REQUIREs that engine.channel_count() becomes n within kWait. The engine reports a close (the
// channel_closed Signal) before it drops the channel from its table at the end of the reactor
// iteration, so a count read right after the Signal may still include it.
void wait_channel_count(const Engine& engine, std::size_t n);

// One Request/Response exchange over `link`, the server application answering on this thread:
// the server sees the Request on its channel with the same id and body, the client gets the
// Response on its channel with the same id and the body reversed.
void round_trip(Engine& client_engine, ChannelGroup& client, ChannelGroup& server, const Link& link,
                std::string_view body);

// Answers HelloRequest with HelloResponse, echoes every Request as a Response (same body and
// headers), answers ByeRequest with ByeResponse, counts channel_closed signals. Runs on its own
// thread until stop() or the group's end. Anything else it sees is an error, kept in full.
// With `hostile_peers`, what hostile peers cause is counted instead of failing: a Response refused
// with send_queue_full (dropped, as an application would), pool_empty reports, and messages handed
// back with a close status.
class EchoServer {
 public:
  explicit EchoServer(std::shared_ptr<ChannelGroup> group, bool hostile_peers = false);
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  void stop();
  [[nodiscard]] std::size_t echoed() const { return echoed_.value(); }
  // True once `n` requests were answered; false when they were not within `timeout`.
  [[nodiscard]] bool wait_echoed(std::size_t n, std::chrono::milliseconds timeout) const {
    return echoed_.wait_at_least(n, timeout);
  }
  [[nodiscard]] std::size_t hellos() const { return hellos_.value(); }
  [[nodiscard]] std::size_t closed() const { return closed_.value(); }
  // Wait until that many HelloRequests were answered / channel closes seen; false on timeout.
  [[nodiscard]] bool wait_hellos(std::size_t n, std::chrono::milliseconds timeout) const {
    return hellos_.wait_at_least(n, timeout);
  }
  [[nodiscard]] bool wait_closed(std::size_t n, std::chrono::milliseconds timeout) const {
    return closed_.wait_at_least(n, timeout);
  }
  [[nodiscard]] std::size_t dropped_full() const noexcept { return dropped_full_.load(); }
  [[nodiscard]] std::size_t pool_signals() const noexcept { return pool_signals_.load(); }
  [[nodiscard]] std::size_t returned() const noexcept { return returned_.load(); }
  // Every unexpected thing the server saw ("" when none): the first 10 in full, then how many more.
  [[nodiscard]] std::string error() const;

 private:
  void run();
  void fail(std::string what);

  std::shared_ptr<ChannelGroup> group_;
  const bool hostile_peers_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> dropped_full_{0};
  std::atomic<std::size_t> pool_signals_{0};
  std::atomic<std::size_t> returned_{0};
  test::Counter echoed_;
  test::Counter hellos_;
  test::Counter closed_;
  mutable std::mutex mu_;
  std::vector<std::string> errors_;
  std::size_t error_count_ = 0;
  std::thread thread_;
};

// Two engines, the server side answered by an EchoServer thread.
struct EchoSetup {
  explicit EchoSetup(EngineOptions options = pool_options(16, 512))
      : server_engine(make_engine(options)), client_engine(make_engine(options)) {}
  std::unique_ptr<Engine> server_engine;
  std::unique_ptr<Engine> client_engine;
  std::shared_ptr<ChannelGroup> server = make_group(*server_engine);
  std::shared_ptr<ChannelGroup> client = make_group(*client_engine);
  Listener listener = open_listener(*server_engine, *server);
  EchoServer echo{server};
};

}  // namespace tofu::parity
