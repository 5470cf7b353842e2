// The protocol states a peer must respect (spec 9.4): each violation closes only that channel with
// its status, the peer's socket is closed, and a well-behaved client is served afterwards.
#include <catch2/catch.hpp>

#include "hostile.hpp"
#include "raw_peer.hpp"
#include "wire.hpp"

using namespace tofu;
using namespace tofu::parity;
using namespace tofu::hostile;
using namespace std::chrono_literals;

namespace {

// The engine under attack (raw peers on `raw`) and the well-behaved client served afterwards.
struct Setup : Arena {
  void check_still_serving() {
    serve();
    back_to_baseline();
  }
};

wire::Frame frame(std::uint8_t proto, std::uint64_t id) {
  wire::Frame f;
  f.channel = 1;
  f.proto = proto;
  f.message_id = id;
  return f;
}

// A raw peer that sends `bytes` as its very first bytes is closed with `reason`; the application
// never sees a message from it, only the close.
void expect_refused_before_hello(Setup& s, const std::vector<std::byte>& bytes, Status reason) {
  RawSocket peer = connect_raw(s.raw_listener.port);
  REQUIRE(peer.send_all(bytes));
  MessagePtr sig = receive(*s.raw);
  INFO(describe(*sig));
  REQUIRE(sig->header.opcode == OpCode::signal);
  REQUIRE(sig->header.status == Status::channel_closed);
  CHECK(reason_of(*sig) == to_string(reason));
  CHECK(peer.wait_closed(kWait));
  peer.close();
  s.check_still_serving();
}

// After a completed handshake the raw peer sends `bytes`; its channel closes with `reason`.
void expect_refused_after_hello(Setup& s, const std::vector<std::byte>& bytes, Status reason) {
  RawClient raw = raw_hello(*s.raw, s.raw_listener.port);
  REQUIRE(raw.socket.send_all(bytes));
  expect_closed_signal(*s.raw, raw.server_channel, {reason});
  CHECK(raw.socket.wait_closed(kWait));
  raw.socket.close();
  s.check_still_serving();
}

}  // namespace

TEST_CASE("hostile: a Request before the HelloRequest closes the connection with protocol_violation", "[hostile]") {
  Setup s;
  expect_refused_before_hello(s, wire::encode(frame(wire::kRequest, 3)), Status::protocol_violation);
}

TEST_CASE("hostile: a ByeRequest or Signal before the HelloRequest closes the connection with protocol_violation",
          "[hostile]") {
  Setup s;
  expect_refused_before_hello(s, wire::encode(frame(wire::kByeRequest, 3)), Status::protocol_violation);
  expect_refused_before_hello(s, wire::encode(frame(wire::kSignal, 4)), Status::protocol_violation);
}

TEST_CASE("hostile: a second HelloRequest on one connection closes it with protocol_violation", "[hostile]") {
  Setup s;
  expect_refused_after_hello(s, hello_frame(s.raw_listener.port, 77), Status::protocol_violation);
}

TEST_CASE("hostile: a HelloResponse, WelcomeRequest or WelcomeResponse from a peer closes with protocol_violation",
          "[hostile]") {
  Setup s;
  expect_refused_after_hello(s, wire::encode(frame(wire::kHelloResponse, 5)), Status::protocol_violation);
  expect_refused_after_hello(s, wire::encode(frame(wire::kWelcomeRequest, 6)), Status::protocol_violation);
  expect_refused_after_hello(s, wire::encode(frame(wire::kWelcomeResponse, 7)), Status::protocol_violation);
}

TEST_CASE("hostile: the reserved proto bit 7 closes the connection with invalid_message", "[hostile]") {
  Setup s;
  expect_refused_after_hello(s, wire::encode(frame(wire::kRequest | 0x80, 5)), Status::invalid_message);
  auto hello = hello_frame(s.raw_listener.port, 8);
  hello[2] = static_cast<std::byte>(std::to_integer<unsigned>(hello[2]) | 0x80u);
  expect_refused_before_hello(s, hello, Status::invalid_message);
}

TEST_CASE("hostile: more on a non-regular opcode and a response with message id 0 close the connection", "[hostile]") {
  Setup s;
  expect_refused_after_hello(s, wire::encode(frame(wire::kByeRequest | 0x20, 5)), Status::invalid_more_usage);
  expect_refused_after_hello(s, wire::encode(frame(wire::kResponse, 0)), Status::invalid_message_id);
}

TEST_CASE("hostile: out-of-band and more on regular frames are carried, not refused", "[hostile]") {
  Setup s;
  RawClient raw = raw_hello(*s.raw, s.raw_listener.port);
  REQUIRE(raw.socket.send_all(wire::encode(frame(wire::kRequest | 0x40 | 0x20, 5))));
  MessagePtr m = receive(*s.raw);
  INFO(describe(*m));
  CHECK(m->header.opcode == OpCode::request);
  CHECK(m->header.oob);
  CHECK(m->header.more);
}

TEST_CASE("hostile: a server that answers a HelloRequest with anything but a HelloResponse is refused by the client",
          "[hostile]") {
  auto engine = make_engine();
  auto client = make_group(*engine);
  for (const std::uint8_t first : {wire::kRequest, wire::kHelloRequest, wire::kSignal}) {
    std::string error;
    RawSocket listener = RawSocket::listen_tcp(std::string(kLoopback), 0, 0, &error);
    REQUIRE(listener.valid());
    const Link link = start_connect(*engine, *client, "tcp|127.0.0.1|" + std::to_string(listener.local_port()));
    RawSocket conn = listener.accept(kWait, &error);
    REQUIRE(conn.valid());
    const auto hello = wire::read_frame(conn, kWait);
    REQUIRE(hello.has_value());
    wire::Frame answer = frame(first, hello->message_id);
    if (first == wire::kHelloRequest) answer.text_headers = "~connect_to:tcp|127.0.0.1|1\r\n";
    REQUIRE(conn.send_all(wire::encode(answer)));
    expect_closed_signal(*client, link.client, {Status::protocol_violation});
    CHECK(conn.wait_closed(kWait));
  }
}

TEST_CASE("hostile: post() refuses what the peer would have to refuse", "[hostile]") {
  Setup s;
  // An accepted channel's first message must be the HelloResponse.
  RawSocket peer = connect_raw(s.raw_listener.port);
  REQUIRE(peer.send_all(hello_frame(s.raw_listener.port, 40)));
  MessagePtr hello = receive(*s.raw);
  REQUIRE(hello->header.opcode == OpCode::hello_request);
  const ChannelNumber ch = hello->header.channel_number;
  MessagePtr early = make_message(*s.server_engine, OpCode::request, ch, "too early");
  CHECK(s.raw->post(early).status == Status::not_allowed);
  REQUIRE(early);
  hello->header.opcode = OpCode::hello_response;
  post_ok(*s.raw, hello);
  // Exactly one HelloResponse.
  MessagePtr again = make_message(*s.server_engine, OpCode::hello_response, ch);
  again->header.message_id = 40;
  CHECK(s.raw->post(again).status == Status::not_allowed);
  // Requests that open channels carry channel 0; WelcomeResponses are the engine's.
  MessagePtr hello_on_channel = make_message(*s.server_engine, OpCode::hello_request, ch);
  (void)hello_on_channel->text_headers.add("~connect_to", s.raw_listener.address);
  CHECK(s.raw->post(hello_on_channel).status == Status::not_allowed);
  MessagePtr welcome_on_channel = make_message(*s.server_engine, OpCode::welcome_request, ch);
  (void)welcome_on_channel->text_headers.add("~listen_on", "tcp|127.0.0.1|0");
  CHECK(s.raw->post(welcome_on_channel).status == Status::not_allowed);
  MessagePtr welcome_response = make_message(*s.server_engine, OpCode::welcome_response, ch);
  welcome_response->header.message_id = 3;
  CHECK(s.raw->post(welcome_response).status == Status::not_allowed);
  // The reserved bit.
  MessagePtr reserved = make_message(*s.server_engine, OpCode::request, ch, "x");
  reserved->header.internal_b = true;
  CHECK(s.raw->post(reserved).status == Status::invalid_message);
  // After all that the channel still works: the peer gets the HelloResponse and a Request.
  MessagePtr fine = make_message(*s.server_engine, OpCode::request, ch, "fine");
  post_ok(*s.raw, fine);
  const auto f1 = wire::read_frame(peer, kWait);
  REQUIRE(f1.has_value());
  CHECK(f1->proto == wire::kHelloResponse);
  const auto f2 = wire::read_frame(peer, kWait);
  REQUIRE(f2.has_value());
  CHECK(f2->proto == wire::kRequest);
  CHECK(f2->body == "fine");
}
