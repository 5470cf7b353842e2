#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "tofu/codec.hpp"
#include "tofu/format.hpp"

using tofu::DecodeLimits;
using tofu::DecodeState;
using tofu::FrameDecoder;
using tofu::FrameEncoder;
using tofu::Message;
using tofu::OpCode;
using tofu::Status;
using tofu::test::Bytes;
using tofu::test::bytes;
using tofu::test::cat;

namespace {

Bytes encode(const Message& m) {
  Bytes out;
  tofu::encode_to(m, out);
  return out;
}

struct Golden {
  const char* name;
  Message message;
  Bytes wire;
};

// Frames written by hand from the original's layout (see spec-v6.1.md section 2), next to the
// message each one stands for.
std::vector<Golden> goldens() {
  std::vector<Golden> g;
  {
    Message m;
    m.header = tofu::make_header(OpCode::hello_request);
    m.header.channel_number = 0x1234;
    m.header.message_id = 0x0102030405060708ULL;
    REQUIRE(m.text_headers.add("~connect_to", "tcp|127.0.0.1|7099") == Status::success);
    m.header.text_headers_len = 32;
    g.push_back({"HelloRequest with ~connect_to", m,
                 cat({bytes({0x12, 0x34, 0x03, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x00, 0x20, 0x00,
                             0x00}),
                      bytes("~connect_to:tcp|127.0.0.1|7099\r\n")})});
  }
  {
    Message m;
    m.header.opcode = OpCode::signal;
    m.header.more = true;
    m.header.channel_number = 7;
    m.header.message_id = 42;
    m.set_body("hi");
    m.header.body_len = 2;
    g.push_back({"Signal with more and a body", m,
                 bytes({0x00, 0x07, 0x22, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x02,
                        'h', 'i'})});
  }
  {
    Message m;
    m.header = tofu::make_header(OpCode::bye_signal);
    m.header.channel_number = 0xFFFE;
    m.header.message_id = 0xFFFFFFFFFFFFFFFFULL;
    g.push_back({"ByeSignal with oob and nothing else", m,
                 bytes({0xFF, 0xFE, 0x47, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00,
                        0x00})});
  }
  {
    Message m;
    m.header.opcode = OpCode::welcome_response;
    m.header.channel_number = 0x0100;
    m.header.message_id = 0x0000000100000000ULL;
    REQUIRE(m.text_headers.add("a", "1") == Status::success);
    REQUIRE(m.text_headers.add("b", "2") == Status::success);
    m.set_body(bytes({0x00, 0xFF, 0x7F}));
    m.header.text_headers_len = 10;
    m.header.body_len = 3;
    g.push_back({"WelcomeResponse with headers and binary body", m,
                 cat({bytes({0x01, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0A, 0x00,
                             0x03}),
                      bytes("a:1\r\nb:2\r\n"), bytes({0x00, 0xFF, 0x7F})})});
  }
  return g;
}

// Decodes a whole stream, cutting it into chunks of the sizes `next_chunk` returns.
struct Decoded {
  std::vector<Message> messages;
  DecodeState last = DecodeState::need_more;
  Status error = Status::success;
  bool mid_frame = false;
};

Decoded decode_stream(const Bytes& stream, const std::function<std::size_t(std::size_t)>& next_chunk,
                      DecodeLimits limits = {}) {
  Decoded out;
  FrameDecoder dec(limits);
  Message target;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    const std::size_t chunk = std::min(next_chunk(pos), stream.size() - pos);
    // A buffer of exactly the chunk's size: ASan flags any read past it.
    const Bytes piece(stream.begin() + static_cast<std::ptrdiff_t>(pos),
                      stream.begin() + static_cast<std::ptrdiff_t>(pos + chunk));
    std::size_t off = 0;
    while (off < piece.size()) {
      const auto step = dec.feed(std::span<const std::byte>(piece).subspan(off), target);
      REQUIRE(step.consumed <= piece.size() - off);
      off += step.consumed;
      out.last = step.state;
      if (step.state == DecodeState::complete) {
        out.messages.push_back(target);
        target.reset();
      } else if (step.state == DecodeState::error) {
        out.error = step.error;
        out.mid_frame = dec.mid_frame();
        return out;
      } else {
        REQUIRE(off == piece.size());  // need_more only when the input is used up
      }
    }
    pos += chunk;
  }
  out.mid_frame = dec.mid_frame();
  return out;
}

Decoded decode_whole(const Bytes& stream, DecodeLimits limits = {}) {
  return decode_stream(stream, [&](std::size_t) { return stream.size(); }, limits);
}

Bytes header16(unsigned ch, unsigned proto, unsigned status, unsigned id, unsigned thl, unsigned bl) {
  return bytes({(ch >> 8) & 0xFFu, ch & 0xFFu, proto, status, 0, 0, 0, 0, 0, 0, (id >> 8) & 0xFFu, id & 0xFFu,
                (thl >> 8) & 0xFFu, thl & 0xFFu, (bl >> 8) & 0xFFu, bl & 0xFFu});
}

}  // namespace

TEST_CASE("codec: our encoder produces the hand-written golden frames", "[core]") {
  for (const Golden& g : goldens()) {
    INFO(g.name);
    CHECK(encode(g.message) == g.wire);
  }
}

TEST_CASE("codec: the decoder reads the hand-written golden frames", "[core]") {
  for (const Golden& g : goldens()) {
    INFO(g.name);
    const Decoded d = decode_whole(g.wire);
    REQUIRE(d.messages.size() == 1);
    CHECK(d.last == DecodeState::complete);
    CHECK(d.messages[0] == g.message);
    CHECK_FALSE(d.mid_frame);
  }
}

TEST_CASE("codec: the encoder writes the actual lengths not stale header fields", "[core]") {
  Message m;
  m.header.channel_number = 1;
  m.header.text_headers_len = 500;
  m.header.body_len = 500;
  m.set_body("abc");
  const Bytes wire = encode(m);
  REQUIRE(wire.size() == 16 + 3);
  CHECK(wire[12] == std::byte{0});
  CHECK(wire[13] == std::byte{0});
  CHECK(wire[14] == std::byte{0});
  CHECK(wire[15] == std::byte{3});
}

TEST_CASE("codec: every opcode round-trips through a frame", "[core]") {
  for (unsigned raw = 0; raw < tofu::kOpCodeCount; ++raw) {
    Message m;
    m.header.opcode = static_cast<OpCode>(raw);
    m.header.channel_number = static_cast<tofu::ChannelNumber>(100 + raw);
    m.header.message_id = 1000 + raw;
    m.header.oob = (raw % 2) == 0;
    m.header.more = (raw % 3) == 0 && tofu::is_regular(m.header.opcode);  // receivers refuse it elsewhere
    REQUIRE(m.text_headers.add("op", std::string(tofu::to_string(m.header.opcode))) == Status::success);
    m.set_body(std::string(raw, 'x'));
    m.header.text_headers_len = static_cast<std::uint16_t>(m.text_headers.size_bytes());
    m.header.body_len = static_cast<std::uint16_t>(m.body_size());
    const Decoded d = decode_whole(encode(m));
    REQUIRE(d.messages.size() == 1);
    CHECK(d.messages[0] == m);
  }
}

TEST_CASE("codec: statuses are not accepted on the wire", "[core]") {
  // App frames always carry status 0 (post() forces it); any other status byte is a forged or
  // broken frame and the decoder refuses it.
  for (unsigned raw = 1; raw <= 255; ++raw) {
    const Decoded d = decode_whole(header16(1, 0x00, raw, 1, 0, 0));
    CHECK(d.messages.empty());
    CHECK(d.last == DecodeState::error);
    CHECK(d.error == Status::invalid_message);
  }
}

TEST_CASE("codec: every split position of a multi-frame stream decodes identically", "[core]") {
  Bytes stream;
  std::vector<Message> expected;
  for (const Golden& g : goldens()) {
    stream.insert(stream.end(), g.wire.begin(), g.wire.end());
    expected.push_back(g.message);
  }
  {
    Message empty;  // header only
    empty.header.channel_number = 3;
    empty.header.message_id = 3;
    stream = cat({stream, encode(empty)});
    expected.push_back(empty);
  }
  REQUIRE(decode_whole(stream).messages == expected);

  SECTION("two chunks: every cut") {
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
      const Decoded d = decode_stream(stream, [cut](std::size_t pos) { return pos == 0 && cut > 0 ? cut : std::size_t{1} << 20; });
      CHECK(d.messages == expected);
      CHECK_FALSE(d.mid_frame);
    }
  }
  SECTION("three chunks: every pair of cuts") {
    for (std::size_t a = 1; a < stream.size(); ++a) {
      for (std::size_t b = a + 1; b < stream.size(); b += 3) {
        const Decoded d = decode_stream(stream, [a, b](std::size_t pos) { return pos == 0 ? a : (pos == a ? b - a : std::size_t{1} << 20); });
        REQUIRE(d.messages == expected);
      }
    }
  }
  SECTION("one byte at a time") {
    const Decoded d = decode_stream(stream, [](std::size_t) { return std::size_t{1}; });
    CHECK(d.messages == expected);
    CHECK(d.last == DecodeState::complete);
  }
  SECTION("random chunk sizes") {
    std::mt19937 rng(12345);
    for (int round = 0; round < 200; ++round) {
      const Decoded d = decode_stream(stream, [&rng](std::size_t) { return std::size_t{1} + rng() % 40; });
      REQUIRE(d.messages == expected);
    }
  }
}

TEST_CASE("codec: feed stops at the end of the current frame", "[core]") {
  const auto g = goldens();
  const Bytes two = cat({g[1].wire, g[2].wire});
  FrameDecoder dec;
  Message m;
  const auto s1 = dec.feed(two, m);
  CHECK(s1.state == DecodeState::complete);
  CHECK(s1.consumed == g[1].wire.size());
  CHECK(m == g[1].message);
  Message m2;
  const auto s2 = dec.feed(std::span<const std::byte>(two).subspan(s1.consumed), m2);
  CHECK(s2.state == DecodeState::complete);
  CHECK(s2.consumed == g[2].wire.size());
  CHECK(m2 == g[2].message);
  const auto s3 = dec.feed({}, m2);
  CHECK(s3.state == DecodeState::need_more);
  CHECK(s3.consumed == 0);
}

TEST_CASE("codec: mid_frame tells a started frame from a frame boundary", "[core]") {
  const Bytes wire = goldens()[0].wire;
  FrameDecoder dec;
  Message m;
  CHECK_FALSE(dec.mid_frame());
  for (std::size_t i = 0; i + 1 < wire.size(); ++i) {
    const auto step = dec.feed(std::span<const std::byte>(wire).subspan(i, 1), m);
    REQUIRE(step.state == DecodeState::need_more);
    CHECK(dec.mid_frame());
  }
  const auto last = dec.feed(std::span<const std::byte>(wire).subspan(wire.size() - 1), m);
  CHECK(last.state == DecodeState::complete);
  CHECK_FALSE(dec.mid_frame());
}

TEST_CASE("codec: malformed input yields its specific error", "[core]") {
  SECTION("opcode 10..15 is invalid_op_code") {
    for (unsigned op = 10; op <= 15; ++op) {
      const Decoded d = decode_whole(header16(1, op, 0, 1, 0, 0));
      CHECK(d.error == Status::invalid_op_code);
      CHECK(d.last == DecodeState::error);
    }
    // Other proto bits do not hide the opcode.
    CHECK(decode_whole(header16(1, 0xEA, 0, 1, 0, 0)).error == Status::invalid_op_code);
  }
  SECTION("origin engine is invalid_message") {
    const Decoded d = decode_whole(header16(1, 0x12, 0, 1, 0, 0));
    CHECK(d.error == Status::invalid_message);
  }
  SECTION("text headers over the limit are invalid_headers_len") {
    const Decoded d = decode_whole(header16(1, 0, 0, 1, 11, 0), DecodeLimits{10, 100});
    CHECK(d.error == Status::invalid_headers_len);
    CHECK(decode_whole(cat({header16(1, 0, 0, 1, 10, 0), bytes("abcd:12345")}), DecodeLimits{10, 100}).messages.size() == 1);
  }
  SECTION("a body over the limit is invalid_body_len") {
    const Decoded d = decode_whole(header16(1, 0, 0, 1, 0, 101), DecodeLimits{10, 100});
    CHECK(d.error == Status::invalid_body_len);
    CHECK(decode_whole(cat({header16(1, 0, 0, 1, 0, 100), Bytes(100)}), DecodeLimits{10, 100}).messages.size() == 1);
  }
  SECTION("the largest lengths pass the default limits") {
    const Bytes big = cat({header16(1, 0, 0, 1, 3, 65535), bytes("a:b"), Bytes(65535, std::byte{0x5A})});
    const Decoded d = decode_whole(big);
    REQUIRE(d.messages.size() == 1);
    CHECK(d.messages[0].body_size() == 65535);
  }
  SECTION("a text header line without a colon is invalid_message") {
    const Decoded d = decode_whole(cat({header16(1, 0, 0, 1, 9, 2), bytes("a:1\r\nbad"), bytes("zz")}));
    CHECK(d.error == Status::invalid_message);
    CHECK(d.messages.empty());
  }
  SECTION("a text header line with an empty name is invalid_message") {
    const Decoded d = decode_whole(cat({header16(1, 0, 0, 1, 4, 0), bytes(":v\r\n")}));
    CHECK(d.error == Status::invalid_message);
  }
  SECTION("the reserved proto bit 7 (internal_b) is invalid_message") {
    CHECK(decode_whole(header16(1, 0x80, 0, 1, 0, 0)).error == Status::invalid_message);
    CHECK(decode_whole(header16(1, 0x40, 0, 1, 0, 0)).messages.size() == 1);  // oob is carried
  }
  SECTION("more on a non-regular opcode is invalid_more_usage, as post() refuses it") {
    for (unsigned op = 3; op <= 9; ++op) {
      CHECK(decode_whole(header16(1, 0x20 | op, 0, 1, 0, 0)).error == Status::invalid_more_usage);
    }
    for (unsigned op = 0; op <= 2; ++op) CHECK(decode_whole(header16(1, 0x20 | op, 0, 1, 0, 0)).messages.size() == 1);
  }
  SECTION("a response opcode with message id 0 is invalid_message_id, as post() refuses it") {
    for (unsigned op : {1u, 4u, 6u, 9u}) CHECK(decode_whole(header16(1, op, 0, 0, 0, 0)).error == Status::invalid_message_id);
    for (unsigned op : {0u, 2u, 3u, 5u, 7u}) CHECK(decode_whole(header16(1, op, 0, 0, 0, 0)).messages.size() == 1);
  }
  SECTION("the error is found as soon as the header arrives even byte by byte") {
    const Bytes bad = cat({header16(1, 11, 0, 1, 0, 5), bytes("never")});
    const Decoded d = decode_stream(bad, [](std::size_t) { return std::size_t{1}; });
    CHECK(d.error == Status::invalid_op_code);
  }
}

TEST_CASE("codec: feed_header stops after the binary header and the frame goes to the target given next", "[core]") {
  const Bytes frame = cat({header16(3, 0, 0, 77, 5, 5), bytes("a:1\r\n"), bytes("hello")});
  FrameDecoder dec;
  // Byte by byte through the header: nothing past it is consumed.
  for (std::size_t i = 0; i < 15; ++i) {
    const auto st = dec.feed_header(std::span(frame).subspan(i, 1));
    REQUIRE(st.state == DecodeState::need_more);
    CHECK(st.consumed == 1);
    CHECK_FALSE(dec.awaiting_target());
    CHECK(dec.frame_remaining() == 0);
  }
  const auto done = dec.feed_header(std::span(frame).subspan(15));
  REQUIRE(done.state == DecodeState::complete);
  CHECK(done.consumed == 1);
  CHECK(dec.awaiting_target());
  CHECK(dec.mid_frame());
  CHECK(dec.frame_remaining() == 10);
  CHECK(dec.current_header().message_id == 77);
  // A second call consumes nothing more.
  CHECK(dec.feed_header(std::span(frame).subspan(16)).consumed == 0);
  Message target;
  target.set_body("stale");
  const auto part = dec.feed(std::span(frame).subspan(16, 3), target);
  CHECK(part.state == DecodeState::need_more);
  CHECK_FALSE(dec.awaiting_target());
  CHECK(target.header.message_id == 77);
  CHECK(target.body_size() == 0);
  CHECK(dec.frame_remaining() == 7);
  const auto rest = dec.feed(std::span(frame).subspan(19), target);
  REQUIRE(rest.state == DecodeState::complete);
  CHECK(target.body_text() == "hello");
  CHECK(target.text_headers.find("a") == std::optional<std::string_view>("1"));
  CHECK_FALSE(dec.mid_frame());
  // An empty frame completes on a feed with no bytes once its header is in.
  const Bytes empty = header16(3, 2, 0, 9, 0, 0);
  REQUIRE(dec.feed_header(empty).state == DecodeState::complete);
  CHECK(dec.frame_remaining() == 0);
  CHECK(dec.feed(std::span<const std::byte>(), target).state == DecodeState::complete);
  CHECK(target.header.message_id == 9);
  // Header errors surface from feed_header too.
  FrameDecoder bad;
  CHECK(bad.feed_header(header16(1, 12, 0, 1, 0, 0)).error == Status::invalid_op_code);
  CHECK(bad.failed());
}

TEST_CASE("codec: a decoder error is sticky until reset", "[core]") {
  FrameDecoder dec;
  Message m;
  const Bytes bad = header16(1, 14, 0, 1, 0, 0);
  const auto s1 = dec.feed(bad, m);
  REQUIRE(s1.state == DecodeState::error);
  CHECK(s1.consumed == 16);
  CHECK(dec.failed());
  CHECK(dec.error() == Status::invalid_op_code);
  CHECK_FALSE(dec.mid_frame());
  const Bytes good = goldens()[1].wire;
  const auto s2 = dec.feed(good, m);
  CHECK(s2.state == DecodeState::error);
  CHECK(s2.consumed == 0);
  CHECK(s2.error == Status::invalid_op_code);
  dec.reset();
  CHECK_FALSE(dec.failed());
  Message fresh;
  const auto s3 = dec.feed(good, fresh);
  CHECK(s3.state == DecodeState::complete);
  CHECK(fresh == goldens()[1].message);
}

TEST_CASE("codec: the decoder overwrites a reused target completely", "[core]") {
  Message target;
  target.header.channel_number = 999;
  target.set_body(std::string(1000, 'q'));
  REQUIRE(target.text_headers.add("old", "stuff") == Status::success);
  FrameDecoder dec;
  const Golden g = goldens()[1];
  const auto step = dec.feed(g.wire, target);
  REQUIRE(step.state == DecodeState::complete);
  CHECK(target == g.message);
}

TEST_CASE("codec: the encoder survives partial writes of every size", "[core]") {
  const Golden g = goldens()[3];  // header + text headers + body
  const Bytes& expected = g.wire;
  for (std::size_t chunk = 1; chunk <= expected.size() + 1; ++chunk) {
    FrameEncoder enc;
    enc.start(g.message);
    CHECK(enc.frame_size() == expected.size());
    Bytes written;
    int calls = 0;
    while (!enc.done()) {
      std::array<tofu::ConstBuffer, 3> bufs{};
      const std::size_t n = enc.buffers(bufs);
      REQUIRE(n >= 1);
      REQUIRE(n <= 3);
      // Write at most `chunk` bytes across the buffers, like a short writev.
      std::size_t budget = chunk;
      std::size_t wrote = 0;
      for (std::size_t i = 0; i < n && budget > 0; ++i) {
        REQUIRE(bufs[i].size > 0);
        const std::size_t k = std::min(budget, bufs[i].size);
        written.insert(written.end(), bufs[i].data, bufs[i].data + k);
        budget -= k;
        wrote += k;
      }
      const bool finished = enc.advance(wrote);
      CHECK(finished == enc.done());
      REQUIRE(++calls < 1000);
    }
    CHECK(written == expected);
    std::array<tofu::ConstBuffer, 3> none{};
    CHECK(enc.buffers(none) == 0);
  }
}

TEST_CASE("codec: encoder buffers skip empty parts and respect a short output span", "[core]") {
  Message m;
  m.header.channel_number = 1;
  m.set_body("body");
  FrameEncoder enc;
  CHECK(enc.done());  // nothing started
  enc.start(m);
  std::array<tofu::ConstBuffer, 3> bufs{};
  REQUIRE(enc.buffers(bufs) == 2);  // header + body; no text headers
  CHECK(bufs[0].size == 16);
  CHECK(bufs[1].data == m.body().data());  // the body is not copied
  CHECK(bufs[1].size == 4);
  std::array<tofu::ConstBuffer, 1> one{};
  CHECK(enc.buffers(one) == 1);
  CHECK(one[0].size == 16);
  CHECK_FALSE(enc.advance(16));
  REQUIRE(enc.buffers(bufs) == 1);
  CHECK(bufs[0].data == m.body().data());
  CHECK(enc.advance(1000));  // clamped to what remains
  CHECK(enc.done());
  CHECK(enc.remaining() == 0);

  Message bare;
  bare.header.channel_number = 2;
  enc.start(bare);
  REQUIRE(enc.buffers(bufs) == 1);
  CHECK(enc.advance(16));
}

TEST_CASE("codec: encode_to appends frames", "[core]") {
  const auto g = goldens();
  Bytes out = bytes({0xAA});
  tofu::encode_to(g[0].message, out);
  tofu::encode_to(g[1].message, out);
  CHECK(out == cat({bytes({0xAA}), g[0].wire, g[1].wire}));
}
