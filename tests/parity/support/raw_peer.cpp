#include "raw_peer.hpp"

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "wire.hpp"

namespace tofu::parity {

std::string connect_to_headers(std::uint16_t port) {
  return "~connect_to:tcp|127.0.0.1|" + std::to_string(port) + "\r\n";
}

RawClient raw_hello(ChannelGroup& server, std::uint16_t port, std::uint64_t id) {
  RawClient c;
  std::string error;
  c.socket = RawSocket::connect_tcp(std::string(kLoopback), port, &error);
  INFO(error);
  REQUIRE(c.socket.valid());
  wire::Frame hello;
  hello.channel = 1;
  hello.proto = wire::kHelloRequest;
  hello.message_id = id;
  hello.text_headers = connect_to_headers(port);
  REQUIRE(c.socket.send_all(wire::encode(hello)));

  MessagePtr m = receive(server);
  INFO("HelloRequest from the raw client expected, got " << describe(*m));
  REQUIRE(m->header.opcode == OpCode::hello_request);
  REQUIRE(m->header.message_id == id);
  c.server_channel = m->header.channel_number;
  REQUIRE(c.server_channel != 0);
  m->header.opcode = OpCode::hello_response;
  post_ok(server, m);

  const auto answer = wire::read_frame(c.socket, kWait);
  REQUIRE(answer.has_value());
  INFO("HelloResponse frame " << wire::describe(*answer));
  CHECK(answer->proto == wire::kHelloResponse);
  CHECK(answer->message_id == id);
  CHECK(answer->channel == c.server_channel);
  return c;
}

}  // namespace tofu::parity

namespace tofu::parity {

StalledPeer connect_to_stalled_peer(Engine& engine, ChannelGroup& client) {
  StalledPeer p;
  std::string error;
  p.listener = RawSocket::listen_tcp(std::string(kLoopback), 0, 4096, &error);
  INFO(error);
  REQUIRE(p.listener.valid());
  p.link = start_connect(engine, client, "tcp|127.0.0.1|" + std::to_string(p.listener.local_port()));
  p.connection = p.listener.accept(kWait, &error);
  REQUIRE(p.connection.valid());
  const auto hello = wire::read_frame(p.connection, kWait);
  REQUIRE(hello.has_value());
  REQUIRE(hello->proto == wire::kHelloRequest);
  REQUIRE(hello->message_id == p.link.hello_id);
  wire::Frame answer;
  answer.channel = 7;
  answer.proto = wire::kHelloResponse;
  answer.message_id = hello->message_id;
  REQUIRE(p.connection.send_all(wire::encode(answer)));
  expect_hello_response(client, p.link);
  return p;
}

std::vector<MessageId> post_large_requests(Engine& engine, ChannelGroup& client, ChannelNumber channel,
                                           std::size_t n) {
  const std::string body = pattern(kMaxBodyLen, 1);
  std::vector<MessageId> ids;
  for (std::size_t i = 0; i < n; ++i) {
    MessagePtr m = make_message(engine, OpCode::request, channel, body);
    ids.push_back(post_ok(client, m).message_id);
  }
  return ids;
}

}  // namespace tofu::parity

namespace tofu::parity {

std::size_t check_large_requests_delivered(StalledPeer& peer, const std::vector<MessageId>& ids) {
  bool closed = false;
  const std::vector<wire::Frame> frames = wire::read_frames_until_closed(peer.connection, kWait, &closed);
  CHECK(closed);
  INFO(frames.size() << " whole frames reached the peer of " << ids.size() << " posted");
  REQUIRE(frames.size() <= ids.size());
  const std::string body = pattern(kMaxBodyLen, 1);
  std::size_t bad = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const wire::Frame& f = frames[i];
    if (f.proto != wire::kRequest || f.message_id != ids[i] || !f.text_headers.empty() || f.body != body) {
      if (bad++ == 0) FAIL_CHECK("frame " << i << " is not request id " << ids[i] << ": " << wire::describe(f));
    }
  }
  CHECK(bad == 0);
  return frames.size();
}

}  // namespace tofu::parity
