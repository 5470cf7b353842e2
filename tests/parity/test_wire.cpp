// Wire compatibility: raw peers written from the wire description only (16-byte big-endian
// header, text headers, body) exchange frames with the engine, byte for byte.
#include <array>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "raw_peer.hpp"
#include "wire.hpp"

using namespace tofu;
using namespace tofu::parity;

namespace {

std::string all_byte_values() {
  std::string s(256, '\0');
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i);
  return s;
}

void expect_frame(RawSocket& s, const wire::Frame& expected) {
  const auto got = wire::read_frame(s, kWait);
  INFO("expected frame " << wire::describe(expected));
  REQUIRE(got.has_value());
  INFO("got frame " << wire::describe(*got));
  CHECK(got->channel == expected.channel);
  CHECK(got->proto == expected.proto);
  CHECK(got->status == expected.status);
  CHECK(got->message_id == expected.message_id);
  CHECK(got->text_headers == expected.text_headers);
  CHECK(got->body == expected.body);
}

// A raw TCP server on an ephemeral loopback port and the engine's client channel to it, past the
// handshake: the HelloRequest is the first frame (the client's channel, opcode 3, its id, the
// address header), and the raw server answers from its own channel number 4321; the client sees
// its own.
struct RawServerLink {
  RawSocket raw;
  Link link;
};

RawServerLink connect_to_raw_server(Engine& engine, ChannelGroup& client) {
  std::string error;
  RawSocket listener = RawSocket::listen_tcp(std::string(kLoopback), 0, 0, &error);
  INFO(error);
  REQUIRE(listener.valid());
  const std::string address = "tcp|127.0.0.1|" + std::to_string(listener.local_port());
  const Link link = start_connect(engine, client, address);
  RawSocket raw = listener.accept(kWait, &error);
  REQUIRE(raw.valid());
  expect_frame(raw, {link.client, wire::kHelloRequest, 0, link.hello_id, "~connect_to:" + address + "\r\n", ""});
  REQUIRE(raw.send_all(wire::encode({4321, wire::kHelloResponse, 0, link.hello_id, "", ""})));
  expect_hello_response(client, link);
  return {std::move(raw), link};
}

}  // namespace

TEST_CASE("hand-built frames from a raw client are answered byte-exact") {
  auto engine = make_engine();
  auto server = make_group(*engine);
  const Listener l = open_listener(*engine, *server);
  std::string error;
  RawSocket raw = RawSocket::connect_tcp(std::string(kLoopback), l.port, &error);
  INFO(error);
  REQUIRE(raw.valid());

  // HelloRequest: channel 0x1234 (the client's own number), id with every byte distinct.
  const std::uint64_t hello_id = 0x0102030405060708ull;
  const std::string hello_headers = connect_to_headers(l.port) + "x-client:raw\r\n";
  REQUIRE(raw.send_all(wire::encode({0x1234, wire::kHelloRequest, 0, hello_id, hello_headers, ""})));
  MessagePtr hello = receive(*server);
  INFO(describe(*hello));
  REQUIRE(hello->header.opcode == OpCode::hello_request);
  CHECK(hello->header.origin == Origin::application);
  CHECK(hello->header.status == Status::success);
  CHECK(hello->header.message_id == hello_id);
  CHECK(hello->text_headers.view() == hello_headers);
  CHECK(hello->text_headers.find("x-client") == std::optional<std::string_view>("raw"));
  CHECK(hello->body_size() == 0);
  const ChannelNumber s = hello->header.channel_number;
  REQUIRE(s != 0);
  hello->header.opcode = OpCode::hello_response;
  post_ok(*server, hello);
  // The frame carries the sender's (server's) channel number, opcode 4, origin/status 0.
  expect_frame(raw, {s, wire::kHelloResponse, 0, hello_id, hello_headers, ""});

  // Request with text headers and every byte value in the body.
  const std::string req_headers = "a:1\r\nb:two words\r\n";
  REQUIRE(raw.send_all(wire::encode({0x1234, wire::kRequest, 0, 77, req_headers, all_byte_values()})));
  MessagePtr req = receive(*server);
  INFO(describe(*req));
  CHECK(req->header.opcode == OpCode::request);
  CHECK(req->header.channel_number == s);
  CHECK(req->header.message_id == 77);
  CHECK(req->text_headers.view() == req_headers);
  CHECK(req->body_text() == all_byte_values());
  req->header.opcode = OpCode::response;
  req->set_body("pong");
  post_ok(*server, req);
  expect_frame(raw, {s, wire::kResponse, 0, 77, req_headers, "pong"});

  // Signal with the `more` bit (proto bit 5) in both directions.
  REQUIRE(raw.send_all(wire::encode({0x1234, static_cast<std::uint8_t>(wire::kSignal | 0x20), 0, 78, "", "part"})));
  MessagePtr sig = receive(*server);
  CHECK(sig->header.opcode == OpCode::signal);
  CHECK(sig->header.more);
  CHECK(sig->header.message_id == 78);
  CHECK(sig->body_text() == "part");
  sig->header.message_id = 0xFFFFFFFFFFFFFFFFull;
  post_ok(*server, sig);
  expect_frame(raw, {s, static_cast<std::uint8_t>(wire::kSignal | 0x20), 0, 0xFFFFFFFFFFFFFFFFull, "", "part"});

  // ByeRequest answered by ByeResponse; then the server closes its side.
  REQUIRE(raw.send_all(wire::encode({0x1234, wire::kByeRequest, 0, 99, "", ""})));
  MessagePtr bye = receive(*server);
  CHECK(bye->header.opcode == OpCode::bye_request);
  CHECK(bye->header.message_id == 99);
  bye->header.opcode = OpCode::bye_response;
  post_ok(*server, bye);
  expect_frame(raw, {s, wire::kByeResponse, 0, 99, "", ""});
  expect_closed_signal(*server, s, {Status::channel_closed});
  CHECK(raw.wait_closed(kWait));
}

TEST_CASE("the engine as client writes frames of the original format to a raw server") {
  auto engine = make_engine();
  auto client = make_group(*engine);
  RawServerLink server = connect_to_raw_server(*engine, *client);
  RawSocket& raw = server.raw;
  const Link& link = server.link;

  MessagePtr req = make_message(*engine, OpCode::request, link.client, "hello raw");
  REQUIRE(req->text_headers.add("k", "v") == Status::success);
  const BinaryHeader sent = post_ok(*client, req);
  expect_frame(raw, {link.client, wire::kRequest, 0, sent.message_id, "k:v\r\n", "hello raw"});
  REQUIRE(raw.send_all(wire::encode({4321, wire::kResponse, 0, sent.message_id, "", "hello engine"})));
  MessagePtr resp = receive(*client);
  INFO(describe(*resp));
  CHECK(resp->header.opcode == OpCode::response);
  CHECK(resp->header.origin == Origin::application);
  CHECK(resp->header.status == Status::success);
  CHECK(resp->header.channel_number == link.client);
  CHECK(resp->header.message_id == sent.message_id);
  CHECK(resp->body_text() == "hello engine");

  // An empty frame: a Signal with neither text headers nor body is exactly 16 bytes.
  MessagePtr empty = make_message(*engine, OpCode::signal, link.client);
  empty->header.message_id = 1;
  post_ok(*client, empty);
  expect_frame(raw, {link.client, wire::kSignal, 0, 1, "", ""});

  MessagePtr bye = make_message(*engine, OpCode::bye_request, link.client);
  const BinaryHeader bye_sent = post_ok(*client, bye);
  expect_frame(raw, {link.client, wire::kByeRequest, 0, bye_sent.message_id, "", ""});
  REQUIRE(raw.send_all(wire::encode({4321, wire::kByeResponse, 0, bye_sent.message_id, "", ""})));
  MessagePtr bye_resp = receive(*client);
  CHECK(bye_resp->header.opcode == OpCode::bye_response);
  CHECK(bye_resp->header.channel_number == link.client);
  expect_closed_signal(*client, link.client, {Status::channel_closed});
  CHECK(raw.wait_closed(kWait));
}

TEST_CASE("a frame written one byte at a time is assembled") {
  auto engine = make_engine();
  auto server = make_group(*engine);
  const Listener l = open_listener(*engine, *server);
  std::string error;
  RawSocket raw = RawSocket::connect_tcp(std::string(kLoopback), l.port, &error);
  REQUIRE(raw.valid());
  std::vector<std::byte> bytes = wire::encode({9, wire::kHelloRequest, 0, 500, connect_to_headers(l.port), ""});
  const auto req = wire::encode({9, wire::kRequest, 0, 501, "h:v\r\n", pattern(300)});
  bytes.insert(bytes.end(), req.begin(), req.end());
  for (std::byte b : bytes) REQUIRE(raw.send_all(std::span<const std::byte>(&b, 1)));
  MessagePtr hello = receive(*server);
  CHECK(hello->header.opcode == OpCode::hello_request);
  CHECK(hello->header.message_id == 500);
  MessagePtr got = receive(*server);
  CHECK(got->header.opcode == OpCode::request);
  CHECK(got->header.message_id == 501);
  CHECK(got->text_headers.view() == "h:v\r\n");
  CHECK(got->body_text() == pattern(300));
}

TEST_CASE("many frames in one write are all delivered in order") {
  auto engine = make_engine(pool_options(16, 1024));  // room for every frame: no pause here
  auto server = make_group(*engine);
  const Listener l = open_listener(*engine, *server);
  std::string error;
  RawSocket raw = RawSocket::connect_tcp(std::string(kLoopback), l.port, &error);
  REQUIRE(raw.valid());
  std::vector<std::byte> bytes = wire::encode({9, wire::kHelloRequest, 0, 1000, connect_to_headers(l.port), ""});
  constexpr int kFrames = 300;
  for (int i = 0; i < kFrames; ++i) {
    const auto f = wire::encode({9, wire::kRequest, 0, static_cast<std::uint64_t>(1001 + i), "",
                                 pattern(static_cast<std::size_t>(i % 97), static_cast<std::size_t>(i))});
    bytes.insert(bytes.end(), f.begin(), f.end());
  }
  REQUIRE(raw.send_all(bytes));
  MessagePtr hello = receive(*server);
  REQUIRE(hello->header.opcode == OpCode::hello_request);
  for (int i = 0; i < kFrames; ++i) {
    MessagePtr m = receive(*server);
    if (m->header.message_id != static_cast<MessageId>(1001 + i) ||
        m->body_text() != pattern(static_cast<std::size_t>(i % 97), static_cast<std::size_t>(i))) {
      FAIL("frame " << i << ": got " << describe(*m));
    }
  }
}

// The engine gathers many frames into one send, copying parts of at most 512 bytes into one buffer
// and passing larger ones by reference (D-97), and stops writing a socket that refused a send until
// it is writable (D-98). Here the raw server does not read until the channel's send queue is full,
// so the socket is full and sends are partial at arbitrary offsets (inside copied runs, inside
// large bodies); every frame must still arrive whole, byte-exact and in order.
TEST_CASE("frames of mixed sizes written into a full socket arrive byte-exact and in order") {
  auto engine = make_engine(pool_options(16, 256));
  auto client = make_group(*engine);
  RawServerLink server = connect_to_raw_server(*engine, *client);
  RawSocket& raw = server.raw;
  const Link& link = server.link;

  // Sizes around the copy limit, empty frames, and bodies of up to 64 KiB.
  constexpr std::array<std::size_t, 12> kSizes{0, 1, 63, 64, 300, 511, 512, 513, 4000, 65535, 20000, 65535};
  constexpr int kFrames = 480;  // ~8 MB, more than the loopback socket buffers hold
  const auto headers_of = [](int i) { return i % 5 == 0 ? "k:v" + std::to_string(i) + "\r\n" : std::string(); };
  const auto body_of = [&](int i) { return pattern(kSizes[static_cast<std::size_t>(i) % kSizes.size()], static_cast<std::size_t>(i)); };
  std::atomic<bool> queue_was_full{false};
  tofu::test::Counter posted;
  std::vector<MessageId> ids(kFrames);
  std::thread sender([&] {
    for (int i = 0; i < kFrames; ++i) {
      MessagePtr m = engine->get(kWait);
      if (!m) return;
      m->header.opcode = OpCode::signal;
      m->header.channel_number = link.client;
      if (!headers_of(i).empty() && m->text_headers.add("k", "v" + std::to_string(i)) != Status::success) return;
      m->set_body(body_of(i));
      PostResult r = client->post(m);
      if (r.status == Status::send_queue_full) {
        queue_was_full = true;
        posted.add(0);  // wakes the reader
        r = client->post(m, kWait);
      }
      if (!ok(r.status)) return;
      ids[static_cast<std::size_t>(i)] = r.header.message_id;
      posted.add();
    }
  });
  // Nothing is read until the engine could not queue more: by then its socket refused writes.
  const bool full_or_done = posted.wait_until([&](std::size_t n) { return queue_was_full || n == kFrames; }, kWait);
  CHECK(full_or_done);
  CHECK(queue_was_full);
  for (int i = 0; i < kFrames; ++i) {
    const auto got = wire::read_frame(raw, kWait);
    if (!got.has_value()) FAIL("frame " << i << " did not arrive");
    if (!posted.wait_at_least(static_cast<std::size_t>(i) + 1, kWait)) FAIL("frame " << i << " was never posted");
    const wire::Frame expected{link.client, wire::kSignal, 0, ids[static_cast<std::size_t>(i)], headers_of(i), body_of(i)};
    if (!(*got == expected)) FAIL("frame " << i << ": expected " << wire::describe(expected) << ", got " << wire::describe(*got));
  }
  sender.join();
  CHECK(posted.value() == static_cast<std::size_t>(kFrames));
}
