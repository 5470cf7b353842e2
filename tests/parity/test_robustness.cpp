// Misbehaving peers, written as raw sockets from the wire description: protocol errors, a peer
// that dies mid-frame or resets, one that connects and leaves. Only that channel closes, with the
// reason in `~reason`; the engine keeps serving everyone else.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "raw_peer.hpp"
#include "wire.hpp"

using namespace tofu;
using namespace tofu::parity;

namespace {

// A listener with one well-behaved engine client, plus whatever raw peers a test adds.
struct Setup {
  std::unique_ptr<Engine> engine = make_engine();
  std::shared_ptr<ChannelGroup> server = make_group(*engine);
  std::shared_ptr<ChannelGroup> client = make_group(*engine);
  Listener listener = open_listener(*engine, *server);
  Link good = handshake(*engine, *client, *server, listener.address);

  // The good client and new clients still work, and nothing else is pending on the server.
  void check_still_serving() {
    round_trip(*engine, *client, *server, good, "still served");
    const Link fresh = handshake(*engine, *client, *server, listener.address);
    round_trip(*engine, *client, *server, fresh, "new client served");
  }
};

// After a handshake, the raw peer sends `bytes`; the engine must close that channel with one of
// `reasons` and close the socket.
void expect_protocol_close(Setup& s, const std::vector<std::byte>& bytes, std::initializer_list<Status> reasons) {
  RawClient raw = raw_hello(*s.server, s.listener.port);
  REQUIRE(raw.socket.send_all(bytes));
  expect_closed_signal(*s.server, raw.server_channel, reasons);
  CHECK(raw.socket.wait_closed(kWait));
  s.check_still_serving();
}

}  // namespace

TEST_CASE("an invalid opcode from a raw peer closes only that channel with invalid_op_code") {
  Setup s;
  expect_protocol_close(s, wire::header_bytes(1, 12, 0, 5, 0, 0), {Status::invalid_op_code});
}

TEST_CASE("a frame with a non-zero status from a raw peer closes the channel with invalid_message") {
  Setup s;
  expect_protocol_close(s, wire::header_bytes(1, wire::kRequest, 17, 5, 0, 0), {Status::invalid_message});
}

TEST_CASE("a frame claiming engine origin from a raw peer closes the channel with invalid_message") {
  Setup s;
  expect_protocol_close(s, wire::header_bytes(1, wire::kSignal | 0x10, 0, 5, 0, 0), {Status::invalid_message});
}

TEST_CASE("malformed text headers from a raw peer close the channel with invalid_message") {
  Setup s;
  wire::Frame f;
  f.channel = 1;
  f.proto = wire::kRequest;
  f.message_id = 9;
  f.text_headers = "good:1\r\nno colon here\r\n";
  f.body = "body";
  expect_protocol_close(s, wire::encode(f), {Status::invalid_message});
}

TEST_CASE("garbage after valid frames is reported after those frames are delivered") {
  Setup s;
  RawClient raw = raw_hello(*s.server, s.listener.port);
  std::vector<std::byte> bytes;
  for (int i = 0; i < 3; ++i) {
    wire::Frame f;
    f.channel = 1;
    f.proto = wire::kRequest;
    f.message_id = static_cast<std::uint64_t>(100 + i);
    f.body = "valid " + std::to_string(i);
    const auto frame = wire::encode(f);
    bytes.insert(bytes.end(), frame.begin(), frame.end());
  }
  const auto garbage = wire::header_bytes(1, 14, 0, 5, 0, 0);
  bytes.insert(bytes.end(), garbage.begin(), garbage.end());
  REQUIRE(raw.socket.send_all(bytes));
  for (int i = 0; i < 3; ++i) {
    MessagePtr m = receive(*s.server);
    INFO(describe(*m));
    CHECK(m->header.opcode == OpCode::request);
    CHECK(m->header.channel_number == raw.server_channel);
    CHECK(m->header.message_id == static_cast<MessageId>(100 + i));
    CHECK(m->body_text() == "valid " + std::to_string(i));
  }
  expect_closed_signal(*s.server, raw.server_channel, {Status::invalid_op_code});
  s.check_still_serving();
}

TEST_CASE("a peer killed mid-body closes the channel with peer_disconnected") {
  Setup s;
  RawClient raw = raw_hello(*s.server, s.listener.port);
  std::vector<std::byte> bytes = wire::header_bytes(1, wire::kRequest, 0, 5, 0, 1000);
  const auto part = wire::bytes_of("only ten b");
  bytes.insert(bytes.end(), part.begin(), part.end());
  REQUIRE(raw.socket.send_all(bytes));
  raw.socket.close();
  expect_closed_signal(*s.server, raw.server_channel, {Status::peer_disconnected});
  s.check_still_serving();
}

TEST_CASE("a peer killed mid-header closes the channel with peer_disconnected") {
  Setup s;
  RawClient raw = raw_hello(*s.server, s.listener.port);
  std::vector<std::byte> bytes = wire::header_bytes(1, wire::kRequest, 0, 5, 0, 0);
  bytes.resize(7);
  REQUIRE(raw.socket.send_all(bytes));
  raw.socket.close();
  expect_closed_signal(*s.server, raw.server_channel, {Status::peer_disconnected});
  s.check_still_serving();
}

TEST_CASE("frames sent just before the peer closes are all delivered") {
  Setup s;
  std::string error;
  RawSocket raw = RawSocket::connect_tcp(std::string(kLoopback), s.listener.port, &error);
  REQUIRE(raw.valid());
  wire::Frame hello;
  hello.channel = 3;
  hello.proto = wire::kHelloRequest;
  hello.message_id = 41;
  hello.text_headers = connect_to_headers(s.listener.port);
  std::vector<std::byte> bytes = wire::encode(hello);
  for (int i = 0; i < 3; ++i) {
    wire::Frame f;
    f.channel = 3;
    f.proto = wire::kSignal;
    f.message_id = static_cast<std::uint64_t>(42 + i);
    f.body = pattern(20000, static_cast<std::size_t>(i));
    const auto frame = wire::encode(f);
    bytes.insert(bytes.end(), frame.begin(), frame.end());
  }
  REQUIRE(raw.send_all(bytes));
  raw.close();  // data, then FIN: the original dropped the unread frames here (its bug #3)

  MessagePtr h = receive(*s.server);
  INFO(describe(*h));
  REQUIRE(h->header.opcode == OpCode::hello_request);
  const ChannelNumber channel = h->header.channel_number;
  for (int i = 0; i < 3; ++i) {
    MessagePtr m = receive(*s.server);
    INFO(describe(*m));
    CHECK(m->header.opcode == OpCode::signal);
    CHECK(m->header.channel_number == channel);
    CHECK(m->header.message_id == static_cast<MessageId>(42 + i));
    CHECK(m->body_text() == pattern(20000, static_cast<std::size_t>(i)));
  }
  expect_closed_signal(*s.server, channel, {Status::peer_disconnected});
  s.check_still_serving();
}

TEST_CASE("a peer reset closes the channel with a disconnect or io error reason") {
  Setup s;
  RawClient raw = raw_hello(*s.server, s.listener.port);
  raw.socket.abort();
  expect_closed_signal(*s.server, raw.server_channel,
                       {Status::peer_disconnected, Status::communication_failed, Status::recv_failed});
  s.check_still_serving();
}

TEST_CASE("a connection that leaves before saying hello does not disturb the listener") {
  Setup s;
  {
    std::string error;
    RawSocket raw = RawSocket::connect_tcp(std::string(kLoopback), s.listener.port, &error);
    INFO(error);
    REQUIRE(raw.valid());
  }  // closed without a byte
  // The listener goes on accepting. A report about the silent connection's channel may come
  // first (the application never saw that channel); it must be a well-formed close report.
  const Link link = start_connect(*s.engine, *s.client, s.listener.address);
  MessagePtr m = receive(*s.server);
  while (m->header.opcode == OpCode::signal) {
    check_closed_signal(*m, m->header.channel_number, {Status::peer_disconnected});
    m = receive(*s.server);
  }
  INFO(describe(*m));
  REQUIRE(m->header.opcode == OpCode::hello_request);
  CHECK(m->header.message_id == link.hello_id);
  Link full = link;
  full.server = m->header.channel_number;
  m->header.opcode = OpCode::hello_response;
  post_ok(*s.server, m);
  expect_hello_response(*s.client, full);
  round_trip(*s.engine, *s.client, *s.server, full, "after the silent one");
}
