// update_receiver, wait_receive timeouts, and shutdown: every queued message handed back, receivers
// woken, later calls refused.
#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "raw_peer.hpp"
#include "support/blocked_waiter.hpp"

using namespace tofu;
using namespace tofu::parity;

TEST_CASE("wait_receive times out when nothing arrives") {
  auto engine = make_engine();
  auto group = make_group(*engine);
  ReceiveEnd end = ReceiveEnd::message;
  MessagePtr m = group->wait_receive(std::chrono::milliseconds(50), &end);
  CHECK_FALSE(m);
  CHECK(end == ReceiveEnd::timeout);
}

TEST_CASE("update_receiver with a message wakes a receiver already waiting on another thread") {
  auto engine = make_engine();
  auto group = make_group(*engine);
  bool got = false;
  std::string seen;
  MessagePtr wake = make_message(*engine, OpCode::signal, 0, "wake up");
  tofu::test::BlockedWaiter receiver([&] {
    MessagePtr m = group->wait_receive(kWait);
    if (m) seen = describe(*m) + " body=" + std::string(m->body_text()) +
                  (m->header.status == Status::receiver_update ? " [receiver_update]" : "") +
                  (m->header.origin == Origin::application ? " [application]" : "");
    got = m != nullptr;
  });
  if (tofu::test::BlockedWaiter::can_confirm_asleep()) CHECK(receiver.asleep_confirmed());
  const auto woken_at = tofu::test::BlockedWaiter::Clock::now();
  wake->header.status = Status::success;  // the engine forces receiver_update
  CHECK(group->update_receiver(std::move(wake)) == Status::success);
  REQUIRE(receiver.returned_within(kWait));
  CHECK(receiver.entered() < woken_at);
  INFO(seen);
  REQUIRE(got);
  CHECK(seen.find("body=wake up") != std::string::npos);
  CHECK(seen.find("[receiver_update]") != std::string::npos);
  CHECK(seen.find("[application]") != std::string::npos);
}

TEST_CASE("update_receiver without a message delivers an engine receiver_update signal to a waiting receiver") {
  auto engine = make_engine();
  auto group = make_group(*engine);
  int result = -1;
  tofu::test::BlockedWaiter receiver([&] {
    MessagePtr m = group->wait_receive(kWait);
    result = !m ? 0
             : (m->header.opcode == OpCode::signal && m->header.origin == Origin::engine &&
                m->header.status == Status::receiver_update)
                 ? 1
                 : 2;
  });
  if (tofu::test::BlockedWaiter::can_confirm_asleep()) CHECK(receiver.asleep_confirmed());
  const auto woken_at = tofu::test::BlockedWaiter::Clock::now();
  CHECK(group->update_receiver() == Status::success);
  REQUIRE(receiver.returned_within(kWait));
  CHECK(receiver.entered() < woken_at);
  CHECK(result == 1);
  // Several wake-ups are several messages, in order with other traffic.
  CHECK(group->update_receiver() == Status::success);
  CHECK(group->update_receiver(make_message(*engine, OpCode::request, 0, "second")) == Status::success);
  MessagePtr first = receive(*group);
  CHECK(first->header.origin == Origin::engine);
  MessagePtr second = receive(*group);
  CHECK(second->body_text() == "second");
  CHECK(second->header.status == Status::receiver_update);
}

TEST_CASE("post after shutdown is refused with shutdown_started and the caller keeps the message") {
  auto engine = make_engine();
  auto group = make_group(*engine);
  const Listener l = open_listener(*engine, *group);
  MessagePtr hello = make_message(*engine, OpCode::hello_request);
  REQUIRE(hello->text_headers.add("~connect_to", l.address) == Status::success);
  MessagePtr welcome = make_message(*engine, OpCode::welcome_request);
  REQUIRE(welcome->text_headers.add("~listen_on", "tcp|127.0.0.1|0") == Status::success);
  engine->shutdown();
  CHECK(group->post(hello).status == Status::shutdown_started);
  CHECK(hello);
  CHECK(group->post(welcome).status == Status::shutdown_started);
  CHECK(welcome);
  CHECK(engine->create_group() == nullptr);
  CHECK_FALSE(engine->get());
}

TEST_CASE("shutdown drains queued messages and then reports shutdown") {
  auto engine = make_engine();
  auto group = make_group(*engine);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(group->update_receiver(make_message(*engine, OpCode::signal, 0, "queued " + std::to_string(i))) ==
            Status::success);
  }
  engine->shutdown();
  for (int i = 0; i < 3; ++i) {
    MessagePtr m = receive(*group);
    CHECK(m->body_text() == "queued " + std::to_string(i));
    CHECK((m->header.status == Status::receiver_update || m->header.status == Status::shutdown_started));
  }
  expect_shutdown_end(*group);
  expect_shutdown_end(*group);  // and stays so
}

TEST_CASE("shutdown closes every channel and reports it to each group") {
  auto engine = make_engine();
  auto server = make_group(*engine);
  auto client = make_group(*engine);
  const Listener l = open_listener(*engine, *server);
  const Link link = handshake(*engine, *client, *server, l.address);
  engine->shutdown();
  CHECK(engine->channel_count() == 0);
  auto collect = [](ChannelGroup& g) {
    std::set<ChannelNumber> closed;
    for (;;) {
      ReceiveEnd end = ReceiveEnd::message;
      MessagePtr m = g.wait_receive(kWait, &end);
      if (!m) {
        CHECK(end == ReceiveEnd::shutdown);
        return closed;
      }
      check_closed_signal(*m, m->header.channel_number, {Status::shutdown_started});
      CHECK(closed.insert(m->header.channel_number).second);
    }
  };
  CHECK(collect(*server) == std::set<ChannelNumber>{l.channel, link.server});
  CHECK(collect(*client) == std::set<ChannelNumber>{link.client});
}

TEST_CASE("shutdown returns unsent messages with shutdown_started") {
  EngineOptions o = pool_options(16, 512);
  o.flow.max_queued_per_channel = 512;  // the point is a long queue on one channel
  o.flow.max_queued_bytes_per_channel = std::size_t{48} << 20;  // ... of large messages
  auto engine = make_engine(o);
  auto client = make_group(*engine);
  StalledPeer peer = connect_to_stalled_peer(*engine, *client);
  constexpr std::size_t kCount = 160;
  const std::vector<MessageId> ids = post_large_requests(*engine, *client, peer.link.client, kCount);
  engine->shutdown();
  std::vector<MessageId> returned;
  std::size_t signals = 0;
  for (;;) {
    ReceiveEnd end = ReceiveEnd::message;
    MessagePtr m = client->wait_receive(kWait, &end);
    if (!m) {
      CHECK(end == ReceiveEnd::shutdown);
      break;
    }
    INFO(describe(*m));
    if (m->header.opcode == OpCode::signal) {
      check_closed_signal(*m, peer.link.client, {Status::shutdown_started});
      ++signals;
      continue;
    }
    CHECK(signals == 0);  // the returned messages come before the close report
    REQUIRE(m->header.opcode == OpCode::request);
    CHECK(m->header.origin == Origin::engine);
    CHECK(m->header.status == Status::shutdown_started);
    CHECK(m->header.channel_number == peer.link.client);
    returned.push_back(m->header.message_id);
  }
  CHECK(signals == 1);
  // The first k requests reached the peer as whole frames, intact and in order.
  const std::size_t delivered = check_large_requests_delivered(peer, ids);
  INFO("the peer got " << delivered << " whole frames; " << returned.size() << " returned");
  // Each request was written whole or handed back; the handed-back ones are the unsent tail (the
  // order among them is not specified: some may still have been in the engine's mailbox).
  CHECK(returned.size() == kCount - delivered);
  CHECK_FALSE(returned.empty());
  std::sort(returned.begin(), returned.end());
  REQUIRE(returned.size() <= ids.size());
  CHECK(std::equal(returned.begin(), returned.end(), ids.end() - static_cast<std::ptrdiff_t>(returned.size())));
  // Nothing leaked: every message is back in the pool.
  CHECK(engine->pool_stats().in_use == 0);
}

TEST_CASE("shutdown wakes a receiver blocked on another thread") {
  auto engine = make_engine();
  auto group = make_group(*engine);
  int end_seen = -1;
  tofu::test::BlockedWaiter receiver([&] {
    ReceiveEnd end = ReceiveEnd::message;
    MessagePtr m = group->wait_receive(std::chrono::milliseconds(60000), &end);
    end_seen = m ? 100 : static_cast<int>(end);
  });
  if (tofu::test::BlockedWaiter::can_confirm_asleep()) CHECK(receiver.asleep_confirmed());
  const auto shut_at = tofu::test::BlockedWaiter::Clock::now();
  engine.reset();  // the destructor shuts down
  REQUIRE(receiver.returned_within(kWait));  // the 60 s wait ended at once
  CHECK(receiver.entered() < shut_at);
  CHECK(end_seen == static_cast<int>(ReceiveEnd::shutdown));
}

TEST_CASE("messages held by the application outlive the engine") {
  auto engine = make_engine();
  auto server = make_group(*engine);
  auto client = make_group(*engine);
  const Listener l = open_listener(*engine, *server);
  const Link link = handshake(*engine, *client, *server, l.address);
  MessagePtr req = make_message(*engine, OpCode::request, link.client, "kept");
  post_ok(*client, req);
  MessagePtr received = receive(*server);
  MessagePtr unused = make_message(*engine, OpCode::signal, 0, pattern(5000));
  engine.reset();
  CHECK(received->body_text() == "kept");
  CHECK(unused->body_text() == pattern(5000));
  received.reset();
  unused.reset();
  // What is left in the groups (the shutdown's close reports) drains, then the groups end.
  for (ChannelGroup* g : {server.get(), client.get()}) {
    for (;;) {
      ReceiveEnd end = ReceiveEnd::message;
      MessagePtr m = g->wait_receive(kWait, &end);
      if (!m) {
        CHECK(end == ReceiveEnd::shutdown);
        break;
      }
      check_closed_signal(*m, m->header.channel_number, {Status::shutdown_started});
    }
  }
}
