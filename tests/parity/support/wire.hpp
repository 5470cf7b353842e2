#pragma once
// Frames built and parsed by hand from the wire description (spec section 2 / the original's
// message.zig), deliberately without tofu's codec: 16-byte big-endian header
//   [0..1] channel  [2] proto = op | origin<<4 | more<<5 | A<<6 | B<<7  [3] status
//   [4..11] message id  [12..13] text-headers length  [14..15] body length
// then the text headers, then the body.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raw_socket.hpp"

namespace tofu::parity::wire {

struct Frame {
  std::uint16_t channel = 0;
  std::uint8_t proto = 0;
  std::uint8_t status = 0;
  std::uint64_t message_id = 0;
  std::string text_headers;  // raw bytes, e.g. "name:value\r\n"
  std::string body;          // raw bytes

  friend bool operator==(const Frame&, const Frame&) = default;
};

// Raw opcode values of the original.
enum : std::uint8_t {
  kRequest = 0,
  kResponse = 1,
  kSignal = 2,
  kHelloRequest = 3,
  kHelloResponse = 4,
  kByeRequest = 5,
  kByeResponse = 6,
  kByeSignal = 7,
  kWelcomeRequest = 8,
  kWelcomeResponse = 9,
};

// The 16 header bytes with explicit lengths (which may disagree with what follows, to build bad frames).
std::vector<std::byte> header_bytes(std::uint16_t channel, std::uint8_t proto, std::uint8_t status, std::uint64_t id,
                                    std::uint16_t thl, std::uint16_t bl);
// A whole, self-consistent frame.
std::vector<std::byte> encode(const Frame& f);
std::vector<std::byte> bytes_of(std::string_view s);

// Reads one whole frame; nullopt on end of stream, error or timeout.
std::optional<Frame> read_frame(RawSocket& s, std::chrono::milliseconds timeout);

// Reads whole frames until the peer closes the connection (a cut last frame is dropped).
// `closed` says whether the end of stream (or a reset) came within `timeout` of the last byte.
std::vector<Frame> read_frames_until_closed(RawSocket& s, std::chrono::milliseconds timeout, bool* closed);

std::string describe(const Frame& f);

}  // namespace tofu::parity::wire
