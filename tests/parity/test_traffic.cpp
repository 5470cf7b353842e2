// Request / Response / Signal traffic: byte-exact bodies and text headers of every size, ordering,
// echo of 1 and 10,000 messages, many channels, and sending and receiving on different threads.
#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "support/host.hpp"
#include "support/semaphore.hpp"
#include "support/process_stats.hpp"
#include "support/skip.hpp"

using namespace tofu;
using namespace tofu::parity;

namespace {

struct Pair {
  explicit Pair(EngineOptions options = {}) : engine(make_engine(options)) {}
  std::unique_ptr<Engine> engine;
  std::shared_ptr<ChannelGroup> server = make_group(*engine);
  std::shared_ptr<ChannelGroup> client = make_group(*engine);
  Listener listener = open_listener(*engine, *server);
  Link link = handshake(*engine, *client, *server, listener.address);
};

std::string numbered(std::size_t i) { return "message-" + std::to_string(i); }

// Sends n requests over `channel` with at most `window` unanswered and checks every echo: same
// id, same body, in order.
void echo_many(Engine& engine, ChannelGroup& client, ChannelNumber channel, std::size_t n, std::size_t window) {
  std::deque<MessageId> pending;
  std::size_t sent = 0;
  std::size_t got = 0;
  while (got < n) {
    while (sent < n && pending.size() < window) {
      MessagePtr m = make_message(engine, OpCode::request, channel, numbered(sent));
      pending.push_back(post_ok(client, m).message_id);
      ++sent;
    }
    MessagePtr r = receive(client);
    if (r->header.opcode != OpCode::response || r->header.message_id != pending.front() ||
        r->body_text() != numbered(got) || r->header.channel_number != channel) {
      FAIL("echo " << got << ": expected Response id " << pending.front() << " body '" << numbered(got)
                   << "' on channel " << channel << ", got " << describe(*r));
    }
    pending.pop_front();
    ++got;
  }
}

}  // namespace

TEST_CASE("request and response keep ids bodies and text headers byte-exact") {
  Pair p;
  MessagePtr req = make_message(*p.engine, OpCode::request, p.link.client);
  REQUIRE(req->text_headers.add("content-type", "application/x-tofu") == Status::success);
  REQUIRE(req->text_headers.add("x-trace", "a b\tc") == Status::success);
  std::vector<std::byte> body(256);
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<std::byte>(i);  // every byte value
  req->set_body(std::span<const std::byte>(body));
  const std::string headers(req->text_headers.view());
  const BinaryHeader sent = post_ok(*p.client, req);

  MessagePtr got = receive(*p.server);
  CHECK(got->header.opcode == OpCode::request);
  CHECK(got->header.origin == Origin::application);
  CHECK(got->header.status == Status::success);
  CHECK(got->header.channel_number == p.link.server);
  CHECK(got->header.message_id == sent.message_id);
  CHECK_FALSE(got->header.more);
  CHECK(got->text_headers.view() == headers);
  CHECK(got->text_headers.find("x-trace") == std::optional<std::string_view>("a b\tc"));
  REQUIRE(got->body_size() == body.size());
  CHECK(std::equal(body.begin(), body.end(), got->body().begin()));

  got->header.opcode = OpCode::response;
  REQUIRE(got->text_headers.add("x-answer", "42") == Status::success);
  const std::string answer_headers(got->text_headers.view());
  post_ok(*p.server, got);
  MessagePtr resp = receive(*p.client);
  CHECK(resp->header.opcode == OpCode::response);
  CHECK(resp->header.origin == Origin::application);
  CHECK(resp->header.status == Status::success);
  CHECK(resp->header.channel_number == p.link.client);
  CHECK(resp->header.message_id == sent.message_id);
  CHECK(resp->text_headers.view() == answer_headers);
  REQUIRE(resp->body_size() == body.size());
  CHECK(std::equal(body.begin(), body.end(), resp->body().begin()));
}

TEST_CASE("signals flow in both directions") {
  Pair p;
  MessagePtr up = make_message(*p.engine, OpCode::signal, p.link.client, "client to server");
  const BinaryHeader up_sent = post_ok(*p.client, up);
  MessagePtr down = make_message(*p.engine, OpCode::signal, p.link.server, "server to client");
  const BinaryHeader down_sent = post_ok(*p.server, down);

  MessagePtr at_server = receive(*p.server);
  CHECK(at_server->header.opcode == OpCode::signal);
  CHECK(at_server->header.origin == Origin::application);
  CHECK(at_server->header.channel_number == p.link.server);
  CHECK(at_server->header.message_id == up_sent.message_id);
  CHECK(at_server->body_text() == "client to server");
  MessagePtr at_client = receive(*p.client);
  CHECK(at_client->header.opcode == OpCode::signal);
  CHECK(at_client->header.origin == Origin::application);
  CHECK(at_client->header.channel_number == p.link.client);
  CHECK(at_client->header.message_id == down_sent.message_id);
  CHECK(at_client->body_text() == "server to client");
}

TEST_CASE("bodies from 0 to 65535 bytes arrive byte-exact") {
  Pair p;
  const std::size_t sizes[] = {0, 1, 2, 15, 16, 17, 255, 256, 257, 1000, 4095, 4096, 65534, 65535};
  for (std::size_t size : sizes) {
    INFO("body size " << size);
    const std::string body = pattern(size, size);
    MessagePtr req = make_message(*p.engine, OpCode::request, p.link.client, body);
    const BinaryHeader sent = post_ok(*p.client, req);
    MessagePtr got = receive(*p.server);
    CHECK(got->header.message_id == sent.message_id);
    REQUIRE(got->body_size() == size);
    CHECK(got->body_text() == body);
    got->header.opcode = OpCode::response;  // echo it back
    post_ok(*p.server, got);
    MessagePtr resp = receive(*p.client);
    CHECK(resp->header.opcode == OpCode::response);
    CHECK(resp->header.message_id == sent.message_id);
    CHECK(resp->body_text() == body);
  }
  // One byte more than the wire can say is refused, and the caller keeps the message.
  MessagePtr big = make_message(*p.engine, OpCode::request, p.link.client, pattern(65536));
  CHECK(p.client->post(big).status == Status::invalid_body_len);
  CHECK(big);
}

TEST_CASE("text headers totalling 65535 bytes arrive byte-exact") {
  Pair p;
  MessagePtr req = make_message(*p.engine, OpCode::request, p.link.client, pattern(65535, 3));
  for (int i = 0; i < 100; ++i) {
    REQUIRE(req->text_headers.add("x-header-" + std::to_string(i), "value " + std::to_string(i)) == Status::success);
  }
  const std::size_t rest = kMaxTextHeadersLen - req->text_headers.size_bytes() - 4;  // "f:" + value + CRLF
  REQUIRE(req->text_headers.add("f", pattern(rest, 9)) == Status::success);
  REQUIRE(req->text_headers.size_bytes() == kMaxTextHeadersLen);
  const std::string headers(req->text_headers.view());
  const BinaryHeader sent = post_ok(*p.client, req);

  MessagePtr got = receive(*p.server);
  CHECK(got->header.message_id == sent.message_id);
  REQUIRE(got->text_headers.size_bytes() == kMaxTextHeadersLen);
  CHECK(got->text_headers.view() == headers);
  CHECK(got->text_headers.find("x-header-99") == std::optional<std::string_view>("value 99"));
  CHECK(got->body_text() == pattern(65535, 3));
  got->header.opcode = OpCode::response;
  post_ok(*p.server, got);
  MessagePtr resp = receive(*p.client);
  CHECK(resp->header.message_id == sent.message_id);
  CHECK(resp->text_headers.view() == headers);
  CHECK(resp->body_text() == pattern(65535, 3));
}

TEST_CASE("the more flag travels with data frames") {
  Pair p;
  for (int i = 0; i < 3; ++i) {
    MessagePtr part = make_message(*p.engine, OpCode::request, p.link.client, "part " + std::to_string(i));
    part->header.more = i < 2;
    post_ok(*p.client, part);
  }
  for (int i = 0; i < 3; ++i) {
    MessagePtr got = receive(*p.server);
    CHECK(got->body_text() == "part " + std::to_string(i));
    CHECK(got->header.more == (i < 2));
  }
}

TEST_CASE("messages on one channel arrive in order") {
  Pair p(pool_options(16, 4096));
  constexpr std::size_t kCount = 1000;
  std::vector<MessageId> ids;
  for (std::size_t i = 0; i < kCount; ++i) {
    MessagePtr m = make_message(*p.engine, i % 2 == 0 ? OpCode::request : OpCode::signal, p.link.client,
                                pattern(i % 700, i));
    ids.push_back(post_ok(*p.client, m).message_id);
  }
  for (std::size_t i = 0; i < kCount; ++i) {
    MessagePtr got = receive(*p.server);
    if (got->header.message_id != ids[i] || got->body_text() != pattern(i % 700, i)) {
      FAIL("message " << i << ": expected id " << ids[i] << ", got " << describe(*got));
    }
  }
}

TEST_CASE("both directions at once on one channel") {
  Pair p(pool_options(16, 4096));
  constexpr std::size_t kCount = 500;
  for (std::size_t i = 0; i < kCount; ++i) {
    MessagePtr up = make_message(*p.engine, OpCode::signal, p.link.client, "up " + std::to_string(i));
    post_ok(*p.client, up);
    MessagePtr down = make_message(*p.engine, OpCode::signal, p.link.server, "down " + std::to_string(i));
    post_ok(*p.server, down);
  }
  for (std::size_t i = 0; i < kCount; ++i) {
    MessagePtr at_server = receive(*p.server);
    MessagePtr at_client = receive(*p.client);
    if (at_server->body_text() != "up " + std::to_string(i) || at_client->body_text() != "down " + std::to_string(i)) {
      FAIL("message " << i << ": server got " << describe(*at_server) << ", client got " << describe(*at_client));
    }
  }
}

TEST_CASE("echo of one message between two engines") {
  EchoSetup s;
  const Link link = start_connect(*s.client_engine, *s.client, s.listener.address);
  expect_hello_response(*s.client, link);
  echo_many(*s.client_engine, *s.client, link.client, 1, 1);
  s.echo.stop();  // joins: its counters are final
  CHECK(s.echo.echoed() == 1);
  CHECK(s.echo.error().empty());
}

TEST_CASE("echo of 10000 messages between two engines") {
  EchoSetup s;
  const Link link = start_connect(*s.client_engine, *s.client, s.listener.address);
  expect_hello_response(*s.client, link);
  echo_many(*s.client_engine, *s.client, link.client, 10000, 64);
  s.echo.stop();  // joins: its counters are final
  CHECK(s.echo.echoed() == 10000);
  CHECK(s.echo.error().empty());
}

// EngineOptions::spin makes the threads that run the loop poll without blocking before they sleep;
// the traffic must not change: the same echoes, in order, one at a time and 64 in flight.
TEST_CASE("echo between two engines that busy-poll before sleeping") {
  EngineOptions options = pool_options(16, 512);
  options.spin = std::chrono::microseconds(200);
  EchoSetup s(options);
  const Link link = start_connect(*s.client_engine, *s.client, s.listener.address);
  expect_hello_response(*s.client, link);
  echo_many(*s.client_engine, *s.client, link.client, 500, 1);
  echo_many(*s.client_engine, *s.client, link.client, 2000, 64);
  s.echo.stop();  // joins: its counters are final
  CHECK(s.echo.echoed() == 2500);
  CHECK(s.echo.error().empty());
}

// 20 connections, each with traffic: a leak of one socket, poll handle or Event per connection or
// per poll shows as 20 or more. Wait objects (Event/Semaphore) are counted apart: at most
// kWaitObjectTolerance new ones are a runtime lock's, not the engine's (D-22).
TEST_CASE("engines with traffic on 20 connections give back every socket and handle they opened") {
  if (!tofu::test::handle_count().known()) TOFU_SKIP("open handles cannot be counted on this host");
  // Warm-up: the first engine of a process loads what stays loaded (Winsock's helpers on Windows).
  {
    EchoSetup warm;
    const Link link = start_connect(*warm.client_engine, *warm.client, warm.listener.address);
    expect_hello_response(*warm.client, link);
    echo_many(*warm.client_engine, *warm.client, link.client, 1, 1);
    warm.echo.stop();
  }
  const tofu::test::HandleCount before = tofu::test::handle_count();
  {
    EchoSetup s;
    for (int i = 0; i < 20; ++i) {
      const Link link = start_connect(*s.client_engine, *s.client, s.listener.address);
      expect_hello_response(*s.client, link);
      echo_many(*s.client_engine, *s.client, link.client, 10, 8);
    }
    s.echo.stop();
    CHECK(s.echo.echoed() == 200);
    CHECK(s.client_engine->channel_count() == 20);
  }  // both engines shut down here, with 20 connections still open
  const tofu::test::HandleCount after = tofu::test::handle_count();
  INFO("open handles before " << tofu::test::to_string(before) << ", after " << tofu::test::to_string(after));
  CHECK(tofu::test::handle_growth(before, after).empty());
  CHECK(after.handles == before.handles);
}

TEST_CASE("fifty clients on one listener") {
  EchoSetup s;
  constexpr std::size_t kClients = 50;
  std::map<ChannelNumber, MessageId> hellos;
  for (std::size_t i = 0; i < kClients; ++i) {
    const Link link = start_connect(*s.client_engine, *s.client, s.listener.address);
    REQUIRE(hellos.emplace(link.client, link.hello_id).second);  // distinct channel numbers
  }
  for (std::size_t i = 0; i < kClients; ++i) {
    MessagePtr r = receive(*s.client);
    INFO(describe(*r));
    REQUIRE(r->header.opcode == OpCode::hello_response);
    CHECK(r->header.status == Status::success);
    const auto it = hellos.find(r->header.channel_number);
    REQUIRE(it != hellos.end());
    CHECK(it->second == r->header.message_id);
  }
  CHECK(s.echo.hellos() == kClients);
  CHECK(s.client_engine->channel_count() == kClients);
  CHECK(s.server_engine->channel_count() == kClients + 1);
  // Every client sends one request; every answer comes back on the client's own channel.
  std::map<ChannelNumber, std::string> expected;
  for (const auto& [channel, id] : hellos) {
    const std::string body = "from channel " + std::to_string(channel);
    MessagePtr m = make_message(*s.client_engine, OpCode::request, channel, body);
    post_ok(*s.client, m);
    expected.emplace(channel, body);
  }
  for (std::size_t i = 0; i < kClients; ++i) {
    MessagePtr r = receive(*s.client);
    INFO(describe(*r));
    REQUIRE(r->header.opcode == OpCode::response);
    const auto it = expected.find(r->header.channel_number);
    REQUIRE(it != expected.end());
    CHECK(r->body_text() == it->second);
    expected.erase(it);
  }
  CHECK(expected.empty());
  CHECK(s.echo.error().empty());
}

TEST_CASE("send and receive on different threads") {
  EchoSetup s;
  const Link link = start_connect(*s.client_engine, *s.client, s.listener.address);
  expect_hello_response(*s.client, link);
  constexpr std::size_t kCount = 5000;
  test::Semaphore window(64);  // D-45: not std::counting_semaphore
  std::string sender_error;
  std::thread sender([&] {
    for (std::size_t i = 0; i < kCount; ++i) {
      if (!window.acquire_for(kWait)) {
        sender_error = "no window slot for message " + std::to_string(i) + " within the timeout";
        return;
      }
      MessagePtr m = s.client_engine->get();
      if (!m) {
        sender_error = "pool empty at message " + std::to_string(i);
        return;
      }
      m->header = make_header(OpCode::request);
      m->header.channel_number = link.client;
      m->set_body(numbered(i));
      const PostResult r = s.client->post(m);
      if (r.status != Status::success) {
        sender_error = "post " + std::to_string(i) + " failed: " + std::string(to_string(r.status));
        return;
      }
    }
  });
  std::size_t received = 0;
  std::string receive_error;
  for (; received < kCount; ++received) {
    MessagePtr r = s.client->wait_receive(kWait);
    if (!r) {
      receive_error = "no response " + std::to_string(received) + " within the timeout";
      break;
    }
    if (r->header.opcode != OpCode::response || r->body_text() != numbered(received)) {
      receive_error = "response " + std::to_string(received) + " is " + describe(*r);
      break;
    }
    window.release();
  }
  if (received < kCount) window.release(kCount);  // let the sender finish
  sender.join();
  CHECK(sender_error.empty());
  CHECK(receive_error.empty());
  CHECK(received == kCount);
  CHECK(s.echo.error().empty());
}
