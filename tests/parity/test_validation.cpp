// What post() refuses synchronously (the original's check_and_prepare plus the engine's channel
// and address checks). A refused message stays with the caller, unchanged enough to be fixed and
// posted again.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "tofu/address.hpp"

using namespace tofu;
using namespace tofu::parity;

namespace {

// A connected pair in one engine, for tests that need a valid channel.
struct Pair {
  std::unique_ptr<Engine> engine = make_engine();
  std::shared_ptr<ChannelGroup> server = make_group(*engine);
  std::shared_ptr<ChannelGroup> client = make_group(*engine);
  Listener listener = open_listener(*engine, *server);
  Link link = handshake(*engine, *client, *server, listener.address);
};

void expect_refused(ChannelGroup& group, MessagePtr& m, Status expected) {
  REQUIRE(m);
  const std::string before = describe(*m);
  const PostResult r = group.post(m);
  INFO("post " << before << " -> " << to_string(r.status) << ", expected " << to_string(expected));
  CHECK(r.status == expected);
  CHECK(m);  // the caller keeps a refused message
}

}  // namespace

TEST_CASE("post to an unknown channel is refused with invalid_channel_number") {
  auto engine = make_engine();
  auto group = make_group(*engine);
  for (ChannelNumber ch : {ChannelNumber{1}, ChannelNumber{4242}, ChannelNumber{65534}, ChannelNumber{65535}}) {
    INFO("channel " << ch);
    MessagePtr m = make_message(*engine, OpCode::request, ch, "nobody");
    expect_refused(*group, m, Status::invalid_channel_number);
  }
  CHECK(engine->channel_count() == 0);
}

TEST_CASE("post to a channel of another group is refused and can be posted again on its own group") {
  Pair p;
  auto stranger = make_group(*p.engine);
  // The client's channel and the listener's channel both belong to other groups.
  for (ChannelNumber ch : {p.link.client, p.listener.channel}) {
    MessagePtr m = make_message(*p.engine, OpCode::request, ch, "not yours");
    expect_refused(*stranger, m, Status::invalid_channel_number);
  }
  MessagePtr m = make_message(*p.engine, OpCode::request, p.link.client, "mine");
  expect_refused(*stranger, m, Status::invalid_channel_number);
  // The refused message is intact and goes through on the right group.
  CHECK(m->body_text() == "mine");
  const BinaryHeader sent = post_ok(*p.client, m);
  MessagePtr got = receive(*p.server);
  CHECK(got->header.message_id == sent.message_id);
  CHECK(got->body_text() == "mine");
}

TEST_CASE("data and bye opcodes on channel 0 are refused with invalid_channel_number") {
  auto engine = make_engine();
  auto group = make_group(*engine);
  for (OpCode op : {OpCode::request, OpCode::signal, OpCode::response, OpCode::bye_request, OpCode::bye_response,
                    OpCode::bye_signal, OpCode::hello_response, OpCode::welcome_response}) {
    INFO("opcode " << to_string(op));
    MessagePtr m = make_message(*engine, op, 0, "x");
    m->header.message_id = 77;  // so that a response is not refused for its id first
    expect_refused(*group, m, Status::invalid_channel_number);
  }
}

TEST_CASE("response opcodes with message id 0 are refused with invalid_message_id") {
  Pair p;
  for (OpCode op : {OpCode::response, OpCode::hello_response, OpCode::bye_response}) {
    INFO("opcode " << to_string(op));
    MessagePtr m = make_message(*p.engine, op, p.link.client, "no id");
    m->header.message_id = 0;
    expect_refused(*p.client, m, Status::invalid_message_id);
  }
  // The channel is still usable.
  round_trip(*p.engine, *p.client, *p.server, p.link, "after refusals");
}

TEST_CASE("an invalid raw opcode is refused with invalid_op_code") {
  Pair p;
  for (unsigned raw : {10u, 12u, 15u}) {
    INFO("raw opcode " << raw);
    MessagePtr m = make_message(*p.engine, OpCode::request, p.link.client, "bad op");
    m->header.opcode = static_cast<OpCode>(raw);
    expect_refused(*p.client, m, Status::invalid_op_code);
  }
}

TEST_CASE("the more flag on a non-data opcode is refused with invalid_more_usage") {
  Pair p;
  for (OpCode op : {OpCode::bye_request, OpCode::bye_signal, OpCode::hello_request, OpCode::welcome_request}) {
    INFO("opcode " << to_string(op));
    MessagePtr m = make_message(*p.engine, op, p.link.client);
    if (op == OpCode::hello_request || op == OpCode::welcome_request) {
      m->header.channel_number = 0;
      REQUIRE(m->text_headers.add(op == OpCode::hello_request ? kConnectToHeader : kListenOnHeader,
                                  p.listener.address) == Status::success);
    }
    m->header.more = true;
    expect_refused(*p.client, m, Status::invalid_more_usage);
  }
  // `more` is fine on the data opcodes.
  MessagePtr part = make_message(*p.engine, OpCode::signal, p.link.client, "part");
  part->header.more = true;
  post_ok(*p.client, part);
}

TEST_CASE("address syntax errors are refused by post with invalid_address") {
  auto engine = make_engine();
  auto group = make_group(*engine);
  const std::vector<std::string> bad = {
      "tcp|1.2.3.4",          // no port
      "foo|x",                // unknown transport
      "tcp|127.0.0.1|7099|x", // four parts (the original wrote out of bounds here)
      "tcp|127.0.0.1|port",   // port not a number
      "tcp|127.0.0.1|70000",  // port out of range
      "TCP|127.0.0.1|7099",   // transport names are case-sensitive
      "uds|",                 // empty path
      "uds|a|b",              // uds takes one part
      "nonsense",
  };
  for (const std::string& value : bad) {
    INFO("address '" << value << "'");
    MessagePtr hello = make_message(*engine, OpCode::hello_request);
    REQUIRE(hello->text_headers.add(kConnectToHeader, value) == Status::success);
    expect_refused(*group, hello, Status::invalid_address);
    MessagePtr welcome = make_message(*engine, OpCode::welcome_request);
    REQUIRE(welcome->text_headers.add(kListenOnHeader, value) == Status::success);
    expect_refused(*group, welcome, Status::invalid_address);
  }
  // Port 0 means "any port" for a listener only.
  MessagePtr hello0 = make_message(*engine, OpCode::hello_request);
  REQUIRE(hello0->text_headers.add(kConnectToHeader, "tcp|127.0.0.1|0") == Status::success);
  expect_refused(*group, hello0, Status::invalid_address);
  CHECK(engine->channel_count() == 0);
}

// sun_path holds 108 bytes with its NUL: a longer path would be cut (the original truncated it
// silently), so post() refuses it before anything is opened.
TEST_CASE("a uds path of 108 bytes or more is refused by post with invalid_address") {
  auto engine = make_engine();
  auto group = make_group(*engine);
  for (std::size_t length : {kUdsPathMax + 1, kUdsPathMax + 2, std::size_t{300}}) {
    const std::string path = "/tmp/" + std::string(length - 5, 'p');
    REQUIRE(path.size() == length);
    INFO("uds path of " << length << " bytes");
    MessagePtr hello = make_message(*engine, OpCode::hello_request);
    REQUIRE(hello->text_headers.add(kConnectToHeader, "uds|" + path) == Status::success);
    expect_refused(*group, hello, Status::invalid_address);
    MessagePtr welcome = make_message(*engine, OpCode::welcome_request);
    REQUIRE(welcome->text_headers.add(kListenOnHeader, "uds|" + path) == Status::success);
    expect_refused(*group, welcome, Status::invalid_address);
  }
  CHECK(engine->channel_count() == 0);
  // Nothing was queued for the reactor: no report of any kind arrives.
  ReceiveEnd end = ReceiveEnd::message;
  MessagePtr late = group->wait_receive(std::chrono::milliseconds(100), &end);
  INFO("unexpected: " << (late ? describe(*late) : std::string("none")));
  CHECK_FALSE(late);
}

TEST_CASE("hello and welcome requests without text headers are refused with wrong_address") {
  auto engine = make_engine();
  auto group = make_group(*engine);
  for (OpCode op : {OpCode::hello_request, OpCode::welcome_request}) {
    INFO("opcode " << to_string(op));
    MessagePtr m = make_message(*engine, op);
    expect_refused(*group, m, Status::wrong_address);
  }
}

TEST_CASE("hello and welcome requests without their address header are refused") {
  auto engine = make_engine();
  auto group = make_group(*engine);
  for (OpCode op : {OpCode::hello_request, OpCode::welcome_request}) {
    INFO("opcode " << to_string(op));
    MessagePtr m = make_message(*engine, op);
    REQUIRE(m->text_headers.add("x-other", "tcp|127.0.0.1|7099") == Status::success);
    const PostResult r = group->post(m);
    // The contract names invalid_address for an unusable address and wrong_address for no text
    // headers at all; a missing address header among other headers is either.
    INFO("post -> " << to_string(r.status));
    CHECK((r.status == Status::invalid_address || r.status == Status::wrong_address));
    CHECK(m);
  }
  CHECK(engine->channel_count() == 0);
}

TEST_CASE("post assigns a message id when it is 0 and keeps an explicit one") {
  Pair p;
  MessagePtr a = make_message(*p.engine, OpCode::request, p.link.client, "a");
  MessagePtr b = make_message(*p.engine, OpCode::request, p.link.client, "b");
  MessagePtr c = make_message(*p.engine, OpCode::request, p.link.client, "c");
  c->header.message_id = 0xDEADBEEF12345678ull;
  const BinaryHeader ha = post_ok(*p.client, a);
  const BinaryHeader hb = post_ok(*p.client, b);
  const BinaryHeader hc = post_ok(*p.client, c);
  CHECK(ha.message_id != 0);
  CHECK(hb.message_id > ha.message_id);  // one process-wide increasing counter
  CHECK(hc.message_id == 0xDEADBEEF12345678ull);
  for (const BinaryHeader& h : {ha, hb, hc}) {
    CHECK(h.channel_number == p.link.client);
    MessagePtr got = receive(*p.server);
    CHECK(got->header.message_id == h.message_id);
  }
}
