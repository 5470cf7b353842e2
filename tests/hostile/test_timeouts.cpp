// Time a peer can make the engine hold (spec 9.5): a handshake that never comes, a frame that never
// completes (even when it trickles), a peer that stops reading. Short configured times here; the
// defaults are 10 s, 30 s and 60 s.
#include <catch2/catch.hpp>

#include "hostile.hpp"
#include "raw_peer.hpp"
#include "wire.hpp"

using namespace tofu;
using namespace tofu::parity;
using namespace tofu::hostile;
using namespace std::chrono_literals;

namespace {

EngineOptions short_times(std::chrono::milliseconds handshake, std::chrono::milliseconds frame,
                          std::chrono::milliseconds send) {
  EngineOptions o;
  o.flow.handshake_timeout = handshake;
  o.flow.frame_timeout = frame;
  o.flow.send_timeout = send;
  return o;
}

// The next channel_closed Signal on `g` (any channel: the application may never have seen it).
MessagePtr next_close(ChannelGroup& g) {
  for (;;) {
    MessagePtr m = receive(g);
    if (m->header.opcode == OpCode::signal && m->header.status == Status::channel_closed) return m;
    INFO("before the close: " << describe(*m));
    CHECK(m->header.origin == Origin::engine);
  }
}

}  // namespace

TEST_CASE("hostile: an accepted connection that never sends its HelloRequest closes with handshake_timeout",
          "[hostile]") {
  Arena s(short_times(300ms, 60s, 60s));
  RawSocket silent = connect_raw(s.raw_listener.port);
  MessagePtr sig = next_close(*s.raw);
  CHECK(sig->header.origin == Origin::engine);
  CHECK(reason_of(*sig) == "handshake_timeout");
  CHECK(silent.wait_closed(kWait));
  silent.close();
  s.serve();
  s.back_to_baseline();
}

TEST_CASE("hostile: a HelloRequest cut off after 7 bytes closes with handshake_timeout", "[hostile]") {
  Arena s(short_times(300ms, 60s, 60s));
  RawSocket peer = connect_raw(s.raw_listener.port);
  auto hello = hello_frame(s.raw_listener.port, 5);
  hello.resize(7);
  REQUIRE(peer.send_all(hello));
  MessagePtr sig = next_close(*s.raw);
  CHECK(reason_of(*sig) == "handshake_timeout");
  CHECK(peer.wait_closed(kWait));
  peer.close();
  s.serve();
  s.back_to_baseline();
}

TEST_CASE("hostile: a frame that stalls mid-header after the handshake closes with frame_timeout", "[hostile]") {
  Arena s(short_times(60s, 300ms, 60s));
  RawClient raw = raw_hello(*s.raw, s.raw_listener.port);
  auto req = request_frame(9, 100);
  req.resize(5);
  REQUIRE(raw.socket.send_all(req));
  expect_closed_signal(*s.raw, raw.server_channel, {Status::frame_timeout});
  CHECK(raw.socket.wait_closed(kWait));
  raw.socket.close();
  s.serve();
  s.back_to_baseline();
}

TEST_CASE("hostile: a frame that stalls mid-body closes with frame_timeout", "[hostile]") {
  Arena s(short_times(60s, 300ms, 60s));
  RawClient raw = raw_hello(*s.raw, s.raw_listener.port);
  auto req = request_frame(9, 4000);
  req.resize(16 + 1000);
  REQUIRE(raw.socket.send_all(req));
  expect_closed_signal(*s.raw, raw.server_channel, {Status::frame_timeout});
  CHECK(raw.socket.wait_closed(kWait));
  raw.socket.close();
  s.serve();
  s.back_to_baseline();
}

TEST_CASE("hostile: a frame trickling in a byte at a time is closed with frame_timeout although it progresses",
          "[hostile]") {
  Arena s(short_times(60s, 300ms, 60s));
  RawClient raw = raw_hello(*s.raw, s.raw_listener.port);
  const auto req = request_frame(9, 2000);
  // 2016 bytes at one byte per 10 ms would take 20 s: far past the 300 ms a frame may take.
  bool closed = false;
  for (std::size_t i = 0; i < req.size() && !closed; ++i) {
    closed = !raw.socket.send_all(std::span(req).subspan(i, 1));
    std::this_thread::sleep_for(10ms);  // the trickle itself is the test's input
    MessagePtr m = s.raw->wait_receive(0ms);
    if (m) {
      INFO(describe(*m));
      check_closed_signal(*m, raw.server_channel, {Status::frame_timeout});
      closed = true;
    }
  }
  CHECK(closed);
  raw.socket.close();
  s.serve();
  s.back_to_baseline();
}

TEST_CASE("hostile: complete frames keep a channel alive however long it lives", "[hostile]") {
  Arena s(short_times(60s, 200ms, 60s));
  EchoServer echo(s.raw, true);
  RawSocket peer = connect_raw(s.raw_listener.port);
  REQUIRE(peer.send_all(hello_frame(s.raw_listener.port, 1)));
  REQUIRE(wire::read_frame(peer, kWait).has_value());
  // Ten whole frames, 100 ms apart: one second in all, five times the frame timeout.
  for (std::uint64_t i = 0; i < 10; ++i) {
    REQUIRE(peer.send_all(request_frame(i + 2, 64)));
    const auto echoed = wire::read_frame(peer, kWait);
    REQUIRE(echoed.has_value());
    CHECK(echoed->message_id == i + 2);
    std::this_thread::sleep_for(100ms);  // idle between frames: never a frame timeout
  }
  CHECK(echo.closed() == 0);
  INFO("echo server: " << echo.error());
  CHECK(echo.error().empty());
}

TEST_CASE("hostile: a peer that stops reading closes with send_timeout and its queued messages come back",
          "[hostile]") {
  Arena s(short_times(60s, 60s, 300ms));
  RawClient raw = raw_hello(*s.raw, s.raw_listener.port);
  const std::string body = pattern(kMaxBodyLen, 7);
  std::size_t posted = 0;
  std::size_t returned = 0;
  bool closed = false;
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    MessagePtr m = make_message(*s.server_engine, OpCode::signal, raw.server_channel, body);
    const PostResult r = s.raw->post(m, 20ms);
    if (r.status == Status::success) ++posted;
    for (MessagePtr got = s.raw->wait_receive(0ms); got; got = s.raw->wait_receive(0ms)) {
      INFO(describe(*got));
      if (got->header.opcode == OpCode::signal && got->header.status == Status::channel_closed) {
        check_closed_signal(*got, raw.server_channel, {Status::send_timeout});
        closed = true;
        break;
      }
      CHECK(got->header.status == Status::send_timeout);
      ++returned;
    }
  }
  CHECK(closed);
  // A post that was still in the engine's mailbox when the channel closed comes back after the
  // close Signal (channel_closed): every message is handed back, none is held.
  for (MessagePtr late = s.raw->wait_receive(500ms); late; late = s.raw->wait_receive(500ms)) {
    INFO(describe(*late));
    CHECK(late->header.origin == Origin::engine);
    CHECK(late->header.status == Status::channel_closed);
    ++returned;
  }
  CHECK(returned >= 1);
  CHECK(returned <= posted);
  raw.socket.close();
  s.serve();
  s.back_to_baseline();
}
