// Closing channels: ByeRequest/ByeResponse, the local ByeSignal, closing a listener, queued
// messages handed back at close, and closing through the channel group.
#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "raw_peer.hpp"

using namespace tofu;
using namespace tofu::parity;

namespace {

struct Pair {
  std::unique_ptr<Engine> engine = make_engine();
  std::shared_ptr<ChannelGroup> server = make_group(*engine);
  std::shared_ptr<ChannelGroup> client = make_group(*engine);
  Listener listener = open_listener(*engine, *server);
  Link link = handshake(*engine, *client, *server, listener.address);
};

// The initiator posts a ByeRequest, the other side's application answers with a ByeResponse.
void graceful_close(Engine& engine, ChannelGroup& initiator, ChannelNumber initiator_channel, ChannelGroup& answerer,
                    ChannelNumber answerer_channel) {
  MessagePtr bye = make_message(engine, OpCode::bye_request, initiator_channel, "goodbye");
  const BinaryHeader sent = post_ok(initiator, bye);
  MessagePtr got = receive(answerer);
  INFO("ByeRequest expected, got " << describe(*got));
  REQUIRE(got->header.opcode == OpCode::bye_request);
  CHECK(got->header.origin == Origin::application);
  CHECK(got->header.channel_number == answerer_channel);
  CHECK(got->header.message_id == sent.message_id);
  CHECK(got->body_text() == "goodbye");
  got->header.opcode = OpCode::bye_response;
  got->set_body("farewell");
  post_ok(answerer, got);
  // After its ByeResponse is sent, the answerer's channel closes.
  expect_closed_signal(answerer, answerer_channel, {Status::channel_closed});
  MessagePtr answer = receive(initiator);
  INFO("ByeResponse expected, got " << describe(*answer));
  CHECK(answer->header.opcode == OpCode::bye_response);
  CHECK(answer->header.origin == Origin::application);
  CHECK(answer->header.channel_number == initiator_channel);
  CHECK(answer->header.message_id == sent.message_id);
  CHECK(answer->body_text() == "farewell");
  expect_closed_signal(initiator, initiator_channel, {Status::channel_closed});
}

// Posts a ByeSignal made with make_header (oob: close locally, send nothing) and checks that it
// comes back with channel_closed, followed by the channel_closed Signal.
void close_locally(Engine& engine, ChannelGroup& group, ChannelNumber channel) {
  MessagePtr bye = make_message(engine, OpCode::bye_signal, channel);
  REQUIRE(bye->header.oob);
  const BinaryHeader sent = post_ok(group, bye);
  MessagePtr back = receive(group);
  check_returned(*back, OpCode::bye_signal, Status::channel_closed, channel);
  CHECK(back->header.message_id == sent.message_id);
  expect_closed_signal(group, channel, {Status::channel_closed});
}

std::string ids_text(const std::vector<MessageId>& ids) {
  std::string s;
  for (MessageId id : ids) s += std::to_string(id) + " ";
  return s;
}

}  // namespace

TEST_CASE("bye request and bye response close both sides gracefully") {
  Pair p;
  CHECK(p.engine->channel_count() == 3);
  graceful_close(*p.engine, *p.client, p.link.client, *p.server, p.link.server);
  wait_channel_count(*p.engine, 1);
  // Both channel numbers are gone.
  MessagePtr late = make_message(*p.engine, OpCode::request, p.link.client, "late");
  CHECK(p.client->post(late).status == Status::invalid_channel_number);
  CHECK(late);
  late->header.channel_number = p.link.server;
  CHECK(p.server->post(late).status == Status::invalid_channel_number);
  CHECK(late);
}

TEST_CASE("a bye request from the accepting side closes the channel too") {
  Pair p;
  graceful_close(*p.engine, *p.server, p.link.server, *p.client, p.link.client);
  // The listener still accepts.
  const Link again = handshake(*p.engine, *p.client, *p.server, p.listener.address);
  round_trip(*p.engine, *p.client, *p.server, again, "again");
}

TEST_CASE("bye signal closes the channel locally at once and the peer sees it close") {
  Pair p;
  close_locally(*p.engine, *p.client, p.link.client);
  expect_closed_signal(*p.server, p.link.server, {Status::peer_disconnected});
  wait_channel_count(*p.engine, 1);
}

TEST_CASE("bye signal on the listener closes it while accepted clients keep working") {
  Pair p;
  close_locally(*p.engine, *p.server, p.listener.channel);
  wait_channel_count(*p.engine, 2);
  // The accepted connection is unaffected, in both directions.
  round_trip(*p.engine, *p.client, *p.server, p.link, "after the listener closed");
  MessagePtr down = make_message(*p.engine, OpCode::signal, p.link.server, "down");
  post_ok(*p.server, down);
  CHECK(receive(*p.client)->body_text() == "down");
  // Nobody listens on that address any more.
  const Link refused = start_connect(*p.engine, *p.client, p.listener.address);
  MessagePtr back = receive(*p.client);
  INFO(describe(*back));
  CHECK(back->header.origin == Origin::engine);
  CHECK(back->header.channel_number == refused.client);
  CHECK((back->header.status == Status::peer_disconnected || back->header.status == Status::connect_failed));
  expect_closed_signal(*p.client, refused.client, {Status::peer_disconnected, Status::connect_failed});
}

TEST_CASE("messages queued for sending come back first when a bye signal closes the channel") {
  EngineOptions o = pool_options(16, 512);
  o.flow.max_queued_per_channel = 512;  // the point is a long queue on one channel
  o.flow.max_queued_bytes_per_channel = std::size_t{48} << 20;  // ... of large messages
  auto engine = make_engine(o);
  auto client = make_group(*engine);
  StalledPeer peer = connect_to_stalled_peer(*engine, *client);
  constexpr std::size_t kCount = 160;
  const std::vector<MessageId> ids = post_large_requests(*engine, *client, peer.link.client, kCount);
  // Barrier: a connect to a refused port, posted after the requests, fails only after the reactor
  // has taken every earlier command, so all requests are now sent or in the channel's send queue
  // (an out-of-band ByeSignal posted earlier could overtake requests still in the engine's mailbox).
  const RawSocket refused_port = RawSocket::bind_tcp(std::string(kLoopback));
  REQUIRE(refused_port.valid());
  const Link barrier = start_connect(*engine, *client, "tcp|127.0.0.1|" + std::to_string(refused_port.local_port()));
  MessagePtr hello_back = receive(*client);
  INFO(describe(*hello_back));
  CHECK(hello_back->header.channel_number == barrier.client);
  CHECK(hello_back->header.origin == Origin::engine);
  expect_closed_signal(*client, barrier.client, {Status::peer_disconnected, Status::connect_failed});

  MessagePtr bye = make_message(*engine, OpCode::bye_signal, peer.link.client);
  const BinaryHeader bye_sent = post_ok(*client, bye);
  std::vector<MessageId> returned;
  bool bye_back = false;
  for (;;) {
    MessagePtr m = receive(*client);
    if (m->header.opcode == OpCode::signal) {
      check_closed_signal(*m, peer.link.client, {Status::channel_closed});
      break;
    }
    INFO(describe(*m));
    CHECK(m->header.origin == Origin::engine);
    CHECK(m->header.status == Status::channel_closed);
    CHECK(m->header.channel_number == peer.link.client);
    if (m->header.opcode == OpCode::bye_signal) {
      CHECK(m->header.message_id == bye_sent.message_id);
      bye_back = true;
    } else {
      REQUIRE(m->header.opcode == OpCode::request);
      CHECK(m->body_size() == kMaxBodyLen);
      returned.push_back(m->header.message_id);
    }
  }
  CHECK(bye_back);
  // The raw peer now reads what reached it: the first k requests as whole frames, intact and in
  // order (maybe plus part of the next one, which came back).
  const std::size_t delivered = check_large_requests_delivered(peer, ids);
  INFO("the peer got " << delivered << " whole frames; posted ids " << ids_text(ids) << "; returned "
                       << ids_text(returned));
  // Every request was either written whole or handed back (a partly written one is handed back),
  // in order, and the handed-back ones are the unsent tail.
  CHECK(returned.size() == kCount - delivered);
  REQUIRE(returned.size() <= ids.size());
  CHECK(std::equal(returned.begin(), returned.end(), ids.end() - static_cast<std::ptrdiff_t>(returned.size())));
  CHECK_FALSE(returned.empty());  // the peer never read, so the socket buffers could not take them all
  // Nothing else is pending for the group.
  ReceiveEnd end = ReceiveEnd::message;
  MessagePtr late = client->wait_receive(std::chrono::milliseconds(100), &end);
  INFO("late: " << (late ? describe(*late) : std::string("none")));
  CHECK_FALSE(late);
  wait_channel_count(*engine, 0);
}

TEST_CASE("dropping a channel group closes its channels") {
  Pair p;
  p.client.reset();  // the last reference: the group closes its channel
  expect_closed_signal(*p.server, p.link.server, {Status::peer_disconnected});
  wait_channel_count(*p.engine, 1);
}

TEST_CASE("group destroy closes only the channels of that group") {
  auto engine = make_engine();
  auto server = make_group(*engine);
  auto a = make_group(*engine);
  auto b = make_group(*engine);
  const Listener l = open_listener(*engine, *server);
  const Link link_a = handshake(*engine, *a, *server, l.address);
  const Link link_b = handshake(*engine, *b, *server, l.address);
  CHECK(engine->channel_count() == 5);

  a->destroy();
  expect_closed_signal(*a, link_a.client, {Status::channel_closed, Status::shutdown_started});
  expect_shutdown_end(*a);
  a->destroy();  // idempotent
  expect_closed_signal(*server, link_a.server, {Status::peer_disconnected});
  // The destroyed group refuses new work; the caller keeps the message.
  MessagePtr refused = make_message(*engine, OpCode::request, link_a.client, "x");
  CHECK(a->post(refused).status != Status::success);
  CHECK(refused);
  // Group b and the listener are untouched.
  round_trip(*engine, *b, *server, link_b, "b still works");
  const Link link_c = handshake(*engine, *b, *server, l.address);
  round_trip(*engine, *b, *server, link_c, "and can connect again");
  wait_channel_count(*engine, 5);
}
