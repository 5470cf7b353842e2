#include "hostile.hpp"

#include <catch2/catch.hpp>

#include "support/host.hpp"
#include "wire.hpp"

#ifndef _WIN32
#include <sys/resource.h>
#endif

namespace tofu::hostile {

using namespace std::chrono_literals;
using parity::kWait;

Baseline snapshot(const Engine& engine) {
  return {engine.pool_stats().in_use, engine.channel_count(), test::handle_count()};
}

std::chrono::milliseconds wait_baseline(const Engine& engine, const Baseline& b) {
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  };
  // The pool and the channels first: cheap to read, so polled. The engine closes a channel's socket
  // before it stops counting the channel, so the handles are counted only once they are back: under
  // Wine a count probes 16,384 handle values one by one (~2 s with 2,000 sockets open), which would
  // otherwise be measured instead of the engine.
  std::size_t in_use = engine.pool_stats().in_use;
  std::size_t channels = engine.channel_count();
  while ((in_use != b.pool_in_use || channels != b.channels) && elapsed() < kWait) {
    std::this_thread::sleep_for(5ms);  // polling counters that have no wait primitive
    in_use = engine.pool_stats().in_use;
    channels = engine.channel_count();
  }
  auto back = elapsed();
  test::HandleCount handles = test::handle_count();
  if (handles.known() && handles.handles > b.handles.handles) {
    while (handles.handles > b.handles.handles && elapsed() < kWait) {
      std::this_thread::sleep_for(5ms);
      handles = test::handle_count();
    }
    back = elapsed();  // they lagged: the time includes counting them
  }
  INFO("baseline: pool in use " << b.pool_in_use << ", channels " << b.channels << ", handles "
                                << test::to_string(b.handles) << "; now " << in_use << ", " << channels << ", "
                                << test::to_string(handles));
  CHECK(in_use == b.pool_in_use);
  CHECK(channels == b.channels);
  REQUIRE(handles.known());
  // Sockets and other handles; not the wait objects, which the engine's locks create on first
  // contention during these runs (their cap is judged by the churn and traffic tests, D-50).
  CHECK(handles.handles <= b.handles.handles);
  return back;
}

std::string ensure_fd_limit(std::size_t n) {
#ifdef _WIN32
  (void)n;
  return {};
#else
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return "getrlimit(RLIMIT_NOFILE) failed";
  if (rl.rlim_cur >= n) return {};
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < n) {
    return "the open-file hard limit is " + std::to_string(rl.rlim_max) + ", this test needs " + std::to_string(n);
  }
  rl.rlim_cur = n;
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) return "setrlimit(RLIMIT_NOFILE) failed";
  return {};
#endif
}

RawSocket connect_raw(std::uint16_t port) {
  std::string error;
  RawSocket s = RawSocket::connect_tcp(std::string(parity::kLoopback), port, &error);
  INFO(error);
  REQUIRE(s.valid());
  return s;
}

RawSocket try_connect_raw(std::uint16_t port) {
  return RawSocket::connect_tcp(std::string(parity::kLoopback), port, nullptr);
}

std::vector<std::byte> hello_frame(std::uint16_t port, std::uint64_t id) {
  parity::wire::Frame f;
  f.channel = 1;
  f.proto = parity::wire::kHelloRequest;
  f.message_id = id;
  f.text_headers = "~connect_to:tcp|127.0.0.1|" + std::to_string(port) + "\r\n";
  return parity::wire::encode(f);
}

std::vector<std::byte> request_frame(std::uint64_t id, std::size_t body) {
  parity::wire::Frame f;
  f.channel = 1;
  f.proto = parity::wire::kRequest;
  f.message_id = id;
  f.body = parity::pattern(body, id);
  return parity::wire::encode(f);
}

std::chrono::microseconds echo_session(Engine& engine, ChannelGroup& group, const std::string& address, int echoes) {
  const auto start = std::chrono::steady_clock::now();
  const parity::Link link = parity::start_connect(engine, group, address);
  parity::expect_hello_response(group, link);
  for (int i = 0; i < echoes; ++i) {
    const std::string body = parity::pattern(64, static_cast<std::size_t>(i));
    MessagePtr req = parity::make_message(engine, OpCode::request, link.client, body);
    const BinaryHeader sent = parity::post_ok(group, req);
    MessagePtr resp = parity::receive(group);
    INFO("echo " << i << ": " << parity::describe(*resp));
    REQUIRE(resp->header.opcode == OpCode::response);
    REQUIRE(resp->header.status == Status::success);
    REQUIRE(resp->header.message_id == sent.message_id);
    REQUIRE(resp->body_text() == body);
  }
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  MessagePtr bye = parity::make_message(engine, OpCode::bye_signal, link.client);  // close locally
  parity::post_ok(group, bye);
  MessagePtr back = parity::receive(group);
  REQUIRE(back->header.opcode == OpCode::bye_signal);
  parity::expect_closed_signal(group, link.client, {Status::channel_closed});
  return took;
}

EchoBed::EchoBed(const EngineOptions& options)
    : server_engine(parity::make_engine(options)),
      server(parity::make_group(*server_engine)),
      listener(parity::open_listener(*server_engine, *server)),
      echo(std::make_unique<parity::EchoServer>(server, /*hostile_peers=*/true)),
      client_engine(parity::make_engine()),
      client(parity::make_group(*client_engine)),
      base(snapshot(*server_engine)) {}

std::chrono::microseconds EchoBed::serve(int echoes) {
  const auto took = echo_session(*client_engine, *client, listener.address, echoes);
  INFO("echo server: " << echo->error());
  CHECK(echo->error().empty());
  return took;
}

Arena::Arena(const EngineOptions& options)
    : EchoBed(options), raw(parity::make_group(*server_engine)), raw_listener(parity::open_listener(*server_engine, *raw)) {
  base = snapshot(*server_engine);
}

Flooder::Flooder(std::uint16_t port, std::size_t count, std::size_t size) : socket_(try_connect_raw(port)) {
  connected_ = socket_.valid() && socket_.set_send_timeout(kWait) && socket_.send_all(hello_frame(port, 1));
  if (!connected_) {
    done_.add();
    return;
  }
  thread_ = std::thread([this, count, size] {
    // Frames are built up front in batches so the engine, not the test, is the bottleneck.
    std::vector<std::byte> batch;
    std::size_t reported = 0;
    for (std::size_t i = 0; i < count && !stop_.load(); ++i) {
      const auto f = request_frame(i + 2, size);
      batch.insert(batch.end(), f.begin(), f.end());
      if (batch.size() >= 64 * 1024 || i + 1 == count) {
        if (!socket_.send_all(batch)) break;
        sent_.add(i + 1 - reported);
        reported = i + 1;
        batch.clear();
      }
    }
    done_.add();
  });
}

Flooder::~Flooder() {
  if (thread_.joinable()) {
    socket_.abort();
    thread_.join();
  }
}

bool Flooder::join(std::chrono::milliseconds timeout) {
  if (!thread_.joinable()) return connected_;
  if (!done_.wait_at_least(1, timeout)) return false;
  thread_.join();
  return true;
}

}  // namespace tofu::hostile
