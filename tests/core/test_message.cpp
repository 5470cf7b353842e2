#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/bytes.hpp"
#include "tofu/message.hpp"

using tofu::BinaryHeader;
using tofu::Message;
using tofu::OpCode;
using tofu::Origin;
using tofu::Status;
using tofu::TextHeaders;
using tofu::test::bytes;

namespace {

// Puts raw bytes into text headers, as the decoder does.
TextHeaders raw_headers(std::string_view raw) {
  TextHeaders h;
  auto dst = h.resize_raw(raw.size());
  if (!raw.empty()) std::memcpy(dst.data(), raw.data(), raw.size());
  return h;
}

std::vector<std::pair<std::string, std::string>> all(const TextHeaders& h) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& th : h) out.emplace_back(th.name, th.value);
  return out;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

}  // namespace

TEST_CASE("message: proto byte bit layout matches the original", "[core]") {
  BinaryHeader h;
  h.opcode = OpCode::bye_signal;  // 7
  CHECK(h.proto() == 0x07);
  h.origin = Origin::engine;
  CHECK(h.proto() == 0x17);
  h.more = true;
  CHECK(h.proto() == 0x37);
  h.oob = true;
  CHECK(h.proto() == 0x77);
  h.internal_b = true;
  CHECK(h.proto() == 0xF7);

  BinaryHeader d;
  d.set_proto(0x49);  // WelcomeResponse | oob
  CHECK(d.opcode == OpCode::welcome_response);
  CHECK(d.origin == Origin::application);
  CHECK_FALSE(d.more);
  CHECK(d.oob);
  CHECK_FALSE(d.internal_b);
  d.set_proto(0xAE);  // raw opcode 14 | more | internal_b
  CHECK(static_cast<unsigned>(d.opcode) == 14);
  CHECK(d.more);
  CHECK(d.internal_b);
  CHECK_FALSE(d.oob);
  CHECK(d.proto() == 0xAE);
}

TEST_CASE("message: make_header gives ByeSignal the oob bit like ProtoFields.default", "[core]") {
  CHECK(tofu::make_header(OpCode::bye_signal).oob);
  CHECK(tofu::make_header(OpCode::bye_signal).proto() == 0x47);
  CHECK_FALSE(tofu::make_header(OpCode::request).oob);
  CHECK(tofu::make_header(OpCode::hello_request).proto() == 0x03);
  CHECK(tofu::make_header(OpCode::hello_request).channel_number == 0);
  CHECK(tofu::make_header(OpCode::hello_request).message_id == 0);
}

TEST_CASE("message: binary header golden bytes are big-endian in the original's order", "[core]") {
  BinaryHeader h;
  h.channel_number = 0xA1B2;
  h.opcode = OpCode::signal;
  h.origin = Origin::engine;
  h.status = Status::channel_closed;  // 22
  h.message_id = 0x0102030405060708ULL;
  h.text_headers_len = 0x1122;
  h.body_len = 0xFFEE;
  // Hand-written: ch | proto | status | message id | thl | bl
  const auto golden = bytes({0xA1, 0xB2, 0x12, 0x16, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x11, 0x22, 0xFF, 0xEE});
  std::array<std::byte, tofu::kBinaryHeaderSize> out{};
  tofu::encode_header(h, out);
  CHECK(std::equal(out.begin(), out.end(), golden.begin(), golden.end()));
  const BinaryHeader back = tofu::decode_header(std::span<const std::byte, 16>(golden.data(), 16));
  CHECK(back == h);
}

TEST_CASE("message: every status round-trips through the header bytes", "[core]") {
  for (unsigned raw = 0; raw < tofu::kStatusCount; ++raw) {
    BinaryHeader h;
    h.channel_number = 9;
    h.status = tofu::status_from_raw(static_cast<std::uint8_t>(raw));
    std::array<std::byte, 16> out{};
    tofu::encode_header(h, out);
    CHECK(std::to_integer<unsigned>(out[3]) == raw);
    CHECK(tofu::decode_header(out) == h);
  }
  std::array<std::byte, 16> raw200{};
  raw200[3] = std::byte{200};
  CHECK(tofu::decode_header(raw200).status == Status::unknown_error);
}

TEST_CASE("message: text headers are written as name:value CRLF", "[core]") {
  TextHeaders h;
  REQUIRE(h.add("~connect_to", "tcp|127.0.0.1|7099") == Status::success);
  REQUIRE(h.add("  key\t\r\n", "v 1") == Status::success);  // name trimmed; value stored as given
  CHECK(h.view() == "~connect_to:tcp|127.0.0.1|7099\r\nkey:v 1\r\n");
  CHECK(h.size_bytes() == h.view().size());
  CHECK(all(h) == Pairs{{"~connect_to", "tcp|127.0.0.1|7099"}, {"key", "v 1"}});
  CHECK(h.find("key") == std::optional<std::string_view>("v 1"));
  CHECK_FALSE(h.find("KEY").has_value());  // names are case-sensitive
  CHECK_FALSE(h.find("missing").has_value());
}

TEST_CASE("message: text header writer rejects what would not read back", "[core]") {
  TextHeaders h;
  REQUIRE(h.add("a", "1") == Status::success);
  const std::string before(h.view());
  CHECK(h.add("", "x") == Status::invalid_message);
  CHECK(h.add(" \t", "x") == Status::invalid_message);
  CHECK(h.add("name", "") == Status::invalid_message);
  CHECK(h.add("na:me", "x") == Status::invalid_message);
  CHECK(h.add("na\rme", "x") == Status::invalid_message);
  CHECK(h.add("name", "x\r\ny") == Status::invalid_message);
  CHECK(h.add("name", "x\ny") == Status::invalid_message);
  CHECK(h.view() == before);

  // 65535 bytes in total is the limit.
  TextHeaders big;
  const std::string v1(65535 - 4, 'v');  // "a:" + v1 + CRLF == 65535 bytes
  REQUIRE(big.add("a", v1) == Status::success);
  CHECK(big.size_bytes() == tofu::kMaxTextHeadersLen);
  CHECK(big.add("b", "1") == Status::invalid_headers_len);
  CHECK(big.size_bytes() == tofu::kMaxTextHeadersLen);
}

TEST_CASE("message: text header reader follows the original's rules", "[core]") {
  SECTION("empty lines are skipped and a last line without CRLF is accepted") {
    CHECK(all(raw_headers("\r\na:1\r\n\r\n\r\nb: 2 \t")) == Pairs{{"a", "1"}, {"b", "2"}});
  }
  SECTION("value is trimmed of spaces and tabs but the name is not") {
    CHECK(all(raw_headers(" n : \t v \r\n")) == Pairs{{" n ", "v"}});
  }
  SECTION("the name ends at the first colon") {
    CHECK(all(raw_headers("a:b:c\r\n")) == Pairs{{"a", "b:c"}});
  }
  SECTION("a line without a colon reads as a name with an empty value") {
    CHECK(all(raw_headers("flag\r\nx:1\r\n")) == Pairs{{"flag", ""}, {"x", "1"}});
  }
  SECTION("a line with an empty name ends the iteration") {
    const TextHeaders h = raw_headers("a:1\r\n:orphan\r\nb:2\r\n");
    CHECK(all(h) == Pairs{{"a", "1"}});
    CHECK_FALSE(h.find("b").has_value());
  }
  SECTION("a bare LF is part of the line") {
    CHECK(all(raw_headers("a:1\nb:2\r\n")) == Pairs{{"a", "1\nb:2"}});
  }
  SECTION("no bytes means no headers") {
    CHECK(all(raw_headers("")).empty());
    CHECK(all(raw_headers("\r\n\r\n")).empty());
  }
}

TEST_CASE("message: check_text_headers accepts well-formed and rejects malformed bytes", "[core]") {
  CHECK(tofu::check_text_headers("") == Status::success);
  CHECK(tofu::check_text_headers("a:1\r\nb:2\r\n") == Status::success);
  CHECK(tofu::check_text_headers("a:1\r\nb:2") == Status::success);   // unterminated last line
  CHECK(tofu::check_text_headers("\r\n\r\na:\r\n") == Status::success);  // empty lines; empty value
  CHECK(tofu::check_text_headers("a:1\r\nnocolon\r\n") == Status::invalid_message);
  CHECK(tofu::check_text_headers("a:1\r\nnocolon") == Status::invalid_message);
  CHECK(tofu::check_text_headers(":value\r\n") == Status::invalid_message);
  CHECK(tofu::check_text_headers("a:1\r\n:") == Status::invalid_message);
  CHECK(tofu::check_text_headers("\r") == Status::invalid_message);  // a lone CR is a line without ':'
}

TEST_CASE("message: remove drops every line with the name and keeps the rest byte for byte", "[core]") {
  TextHeaders h = raw_headers("a:1\r\n\r\nb: 2\r\na:3\r\nc:4");
  CHECK(h.remove("a") == 2);
  CHECK(h.view() == "\r\nb: 2\r\nc:4");
  CHECK(h.remove("zzz") == 0);
  CHECK(h.view() == "\r\nb: 2\r\nc:4");
  // Past a line with an empty name nothing is a header: it is kept as is.
  TextHeaders stop = raw_headers("a:1\r\n:x\r\na:2\r\n");
  CHECK(stop.remove("a") == 1);
  CHECK(stop.view() == ":x\r\na:2\r\n");
}

TEST_CASE("message: body setters reset and clone", "[core]") {
  Message m;
  m.set_body("hello");
  m.append_body(" world");
  CHECK(m.body_text() == "hello world");
  CHECK(m.body_size() == 11);
  const auto raw = bytes({0x00, 0xFF});
  m.append_body(raw);
  CHECK(m.body_size() == 13);
  CHECK(m.body()[12] == std::byte{0xFF});
  auto w = m.resize_body(2);
  CHECK(w.size() == 2);
  w[0] = std::byte{'o'};
  CHECK(m.body_text() == "oe");
  auto grown = m.resize_body(4);
  CHECK(grown[2] == std::byte{0});  // new bytes are zeroed, never stale data
  CHECK(grown[3] == std::byte{0});

  m.header.channel_number = 3;
  m.header.message_id = 99;
  REQUIRE(m.text_headers.add("k", "v") == Status::success);
  Message copy = m.clone();
  CHECK(copy == m);
  copy.set_body("other");
  CHECK_FALSE(copy == m);

  const std::size_t cap = m.body_capacity();
  m.reset();
  CHECK(m.header == BinaryHeader{});
  CHECK(m.text_headers.empty());
  CHECK(m.body_size() == 0);
  CHECK(m.body_capacity() == cap);  // capacity kept for reuse
}

TEST_CASE("message: trim_capacity releases only oversized buffers", "[core]") {
  Message m;
  m.resize_body(200000);
  m.text_headers.resize_raw(100000);
  m.reset();
  m.trim_capacity(65536);
  CHECK(m.body_capacity() <= 65536);
  CHECK(m.text_headers.capacity() <= 65536);
  m.reserve_body(1000);
  const std::size_t cap = m.body_capacity();
  m.trim_capacity(65536);
  CHECK(m.body_capacity() == cap);
}

TEST_CASE("message: message ids are unique in the process and increase within a thread", "[core]") {
  const tofu::MessageId a = tofu::next_message_id();
  const tofu::MessageId b = tofu::next_message_id();
  CHECK(a >= 1);
  CHECK(b > a);

  constexpr int kThreads = 4;
  constexpr int kPer = 2000;
  std::vector<std::vector<tofu::MessageId>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&got, t] {
      for (int i = 0; i < kPer; ++i) got[static_cast<std::size_t>(t)].push_back(tofu::next_message_id());
    });
  }
  for (auto& th : threads) th.join();
  std::set<tofu::MessageId> unique;
  for (const auto& v : got) {
    CHECK(std::is_sorted(v.begin(), v.end()));
    unique.insert(v.begin(), v.end());
  }
  CHECK(unique.size() == static_cast<std::size_t>(kThreads * kPer));
  CHECK(*unique.begin() > b);
}

TEST_CASE("message: check_and_prepare validates and fills the header", "[core]") {
  Message m;
  m.header.channel_number = 12;
  m.header.opcode = OpCode::request;

  SECTION("a valid request gets lengths and a fresh message id; origin and status are forced") {
    m.header.origin = Origin::engine;
    m.header.status = Status::pool_empty;
    REQUIRE(m.text_headers.add("a", "b") == Status::success);
    m.set_body("xyz");
    m.header.text_headers_len = 999;  // stale values are recomputed
    m.header.body_len = 999;
    const tofu::MessageId before = tofu::next_message_id();
    REQUIRE(tofu::check_and_prepare(m) == Status::success);
    CHECK(m.header.origin == Origin::application);
    CHECK(m.header.status == Status::success);
    CHECK(m.header.text_headers_len == 5);
    CHECK(m.header.body_len == 3);
    CHECK(m.header.message_id > before);
  }
  SECTION("an existing message id is kept") {
    m.header.message_id = 77;
    REQUIRE(tofu::check_and_prepare(m) == Status::success);
    CHECK(m.header.message_id == 77);
  }
  SECTION("opcode 10..15 is invalid_op_code") {
    for (unsigned raw = 10; raw <= 15; ++raw) {
      m.header.opcode = static_cast<OpCode>(raw);
      CHECK(tofu::check_and_prepare(m) == Status::invalid_op_code);
    }
  }
  SECTION("a response without a message id is invalid_message_id") {
    for (const OpCode op : {OpCode::response, OpCode::hello_response, OpCode::bye_response, OpCode::welcome_response}) {
      m.header.opcode = op;
      m.header.message_id = 0;
      CHECK(tofu::check_and_prepare(m) == Status::invalid_message_id);
      m.header.message_id = 5;
      CHECK(tofu::check_and_prepare(m) == Status::success);
    }
  }
  SECTION("more is allowed only on Request Response and Signal") {
    m.header.more = true;
    m.header.message_id = 1;
    for (const OpCode op : {OpCode::request, OpCode::response, OpCode::signal}) {
      m.header.opcode = op;
      CHECK(tofu::check_and_prepare(m) == Status::success);
    }
    for (const OpCode op : {OpCode::hello_response, OpCode::bye_request, OpCode::bye_response, OpCode::bye_signal,
                            OpCode::welcome_response}) {
      m.header.opcode = op;
      CHECK(tofu::check_and_prepare(m) == Status::invalid_more_usage);
    }
  }
  SECTION("channel 0 only for HelloRequest and WelcomeRequest") {
    m.header.channel_number = 0;
    m.header.message_id = 1;
    for (const OpCode op : {OpCode::request, OpCode::response, OpCode::signal, OpCode::hello_response,
                            OpCode::bye_request, OpCode::bye_response, OpCode::bye_signal, OpCode::welcome_response}) {
      m.header.opcode = op;
      CHECK(tofu::check_and_prepare(m) == Status::invalid_channel_number);
    }
    REQUIRE(m.text_headers.add("~connect_to", "tcp|127.0.0.1|7099") == Status::success);
    m.header.opcode = OpCode::hello_request;
    CHECK(tofu::check_and_prepare(m) == Status::success);
    m.header.opcode = OpCode::welcome_request;
    CHECK(tofu::check_and_prepare(m) == Status::success);
  }
  SECTION("Hello and Welcome requests without text headers are wrong_address") {
    m.header.channel_number = 0;
    m.header.opcode = OpCode::hello_request;
    CHECK(tofu::check_and_prepare(m) == Status::wrong_address);
    m.header.opcode = OpCode::welcome_request;
    CHECK(tofu::check_and_prepare(m) == Status::wrong_address);
  }
  SECTION("text headers over 65535 bytes are invalid_headers_len") {
    m.text_headers.resize_raw(tofu::kMaxTextHeadersLen + 1);
    CHECK(tofu::check_and_prepare(m) == Status::invalid_headers_len);
    m.text_headers.resize_raw(tofu::kMaxTextHeadersLen);
    CHECK(tofu::check_and_prepare(m) == Status::success);
    CHECK(m.header.text_headers_len == 65535);
  }
  SECTION("a body over 65535 bytes is invalid_body_len and leaves the message id alone") {
    m.resize_body(tofu::kMaxBodyLen + 1);
    CHECK(tofu::check_and_prepare(m) == Status::invalid_body_len);
    CHECK(m.header.message_id == 0);
    m.resize_body(tofu::kMaxBodyLen);
    CHECK(tofu::check_and_prepare(m) == Status::success);
    CHECK(m.header.body_len == 65535);
  }
}
