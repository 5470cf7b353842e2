// The bounded pool: get() on exhaustion, pool_stats, and backpressure (reading pauses with one
// pool_empty Signal per pause, resumes when messages come back, loses nothing).
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace tofu;
using namespace tofu::parity;

TEST_CASE("get returns an empty message when every message is in use") {
  auto engine = make_engine(pool_options(2, 4));
  std::vector<MessagePtr> held;
  for (int i = 0; i < 4; ++i) {
    MessagePtr m = engine->get();
    REQUIRE(m);
    held.push_back(std::move(m));
  }
  CHECK_FALSE(engine->get());
  CHECK_FALSE(engine->get());
  held.pop_back();  // one comes back
  MessagePtr again = engine->get();
  REQUIRE(again);
  // A message from the pool is clean.
  CHECK(again->header == BinaryHeader{});
  CHECK(again->text_headers.empty());
  CHECK(again->body_size() == 0);
  CHECK_FALSE(engine->get());
}

TEST_CASE("pool_stats reports in_use idle high_water and max") {
  auto engine = make_engine(pool_options(3, 10));
  PoolStats s = engine->pool_stats();
  CHECK(s.max == 10);
  CHECK(s.in_use == 0);
  CHECK(s.idle == 3);
  {
    std::vector<MessagePtr> held;
    for (int i = 0; i < 5; ++i) held.push_back(engine->get());
    s = engine->pool_stats();
    CHECK(s.in_use == 5);
    CHECK(s.high_water >= 5);
    CHECK(s.in_use + s.idle <= s.max);
  }
  s = engine->pool_stats();
  CHECK(s.in_use == 0);
  CHECK(s.idle == 5);
  CHECK(s.high_water == 5);
  CHECK(s.max == 10);
}

TEST_CASE("pool exhaustion pauses reading with one pool_empty signal and loses nothing") {
  constexpr std::size_t kMax = 8;
  constexpr std::size_t kCount = 200;
  constexpr std::size_t kStrictPauses = 3;
  auto server_engine = make_engine(pool_options(2, kMax));
  auto client_engine = make_engine(pool_options(16, 1024));
  auto server = make_group(*server_engine);
  auto client = make_group(*client_engine);
  const Listener l = open_listener(*server_engine, *server);
  // The client does not wait for a HelloResponse: its requests follow the HelloRequest at once.
  // The server application never posts anything here, because a message the server engine sends
  // goes back to its pool when written and would end a pause by itself.
  const Link link = start_connect(*client_engine, *client, l.address);
  for (std::size_t i = 0; i < kCount; ++i) {
    MessagePtr m = make_message(*client_engine, OpCode::request, link.client, "request " + std::to_string(i));
    post_ok(*client, m);
  }

  // The server application holds every message it receives. For the first pauses it checks that
  // the pool is really exhausted and that nothing arrives while it holds everything (reading is
  // paused, and there is no second pool_empty: no flood), then returns exactly ONE message, so the
  // next pause necessarily starts after that return. Later pauses it ends by returning everything.
  std::vector<MessagePtr> held;
  std::size_t received = 0;
  std::size_t pauses = 0;
  bool hello_seen = false;
  while (received < kCount) {
    MessagePtr m = receive(*server);
    if (m->header.origin == Origin::engine) {
      const PoolStats st = server_engine->pool_stats();
      INFO("engine report: " << describe(*m) << "; the application holds " << held.size() << " after " << received
                             << " requests; pool in_use=" << st.in_use << " idle=" << st.idle);
      REQUIRE(m->header.status == Status::pool_empty);
      CHECK(m->header.opcode == OpCode::signal);
      ++pauses;
      if (pauses <= kStrictPauses) {
        CHECK(held.size() + 1 >= kMax);  // the reactor may hold one partly filled message
        CHECK(st.in_use == kMax);
        CHECK_FALSE(server_engine->get());
        ReceiveEnd end = ReceiveEnd::message;
        MessagePtr extra = server->wait_receive(std::chrono::milliseconds(300), &end);
        INFO("while paused: " << (extra ? describe(*extra) : std::string("nothing")));
        REQUIRE_FALSE(extra);
        CHECK(end == ReceiveEnd::timeout);
        held.erase(held.begin());
      } else {
        held.clear();
      }
      continue;
    }
    if (!hello_seen) {
      INFO(describe(*m));
      REQUIRE(m->header.opcode == OpCode::hello_request);
      hello_seen = true;
      held.push_back(std::move(m));
      continue;
    }
    if (m->header.opcode != OpCode::request || m->body_text() != "request " + std::to_string(received)) {
      FAIL("request " << received << " expected, got " << describe(*m));
    }
    ++received;
    held.push_back(std::move(m));
    REQUIRE(held.size() <= kMax);
  }
  CHECK(pauses > kStrictPauses);
  const PoolStats s = server_engine->pool_stats();
  CHECK(s.high_water == kMax);
  CHECK(s.max == kMax);
}

TEST_CASE("channel_closed arrives while the application holds every pooled message") {
  auto server_engine = make_engine(pool_options(2, 4));
  auto client_engine = make_engine();
  auto server = make_group(*server_engine);
  auto client = make_group(*client_engine);
  const Listener l = open_listener(*server_engine, *server);
  const Link link = handshake(*client_engine, *client, *server, l.address);

  // The HelloResponse goes back to the pool just after it is written, which may be just after the
  // client saw it: take the pool only once everything is back.
  const auto settle = std::chrono::steady_clock::now() + kWait;
  while (server_engine->pool_stats().in_use != 0 && std::chrono::steady_clock::now() < settle) std::this_thread::yield();
  REQUIRE(server_engine->pool_stats().in_use == 0);
  std::vector<MessagePtr> held;
  while (MessagePtr m = server_engine->get()) held.push_back(std::move(m));
  REQUIRE_FALSE(held.empty());
  // Close the accepted channel with the last message the application has: the reports about it
  // must come from the engine's reserve.
  MessagePtr bye = std::move(held.back());
  held.pop_back();
  bye->header = make_header(OpCode::bye_signal);
  bye->header.channel_number = link.server;
  post_ok(*server, bye);
  CHECK_FALSE(server_engine->get());

  bool bye_back = false;
  for (;;) {
    MessagePtr m = receive(*server);
    if (m->header.status == Status::pool_empty && m->header.origin == Origin::engine) continue;  // also allowed
    if (m->header.opcode == OpCode::bye_signal) {
      check_returned(*m, OpCode::bye_signal, Status::channel_closed, link.server);
      bye_back = true;
      continue;
    }
    check_closed_signal(*m, link.server, {Status::channel_closed});
    break;
  }
  CHECK(bye_back);
  expect_closed_signal(*client, link.client, {Status::peer_disconnected});
}
