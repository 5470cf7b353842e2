#pragma once
// A tofu message: the 16-byte binary header, the text headers ("name:value\r\n" lines) and an opaque
// body. Wire layout and rules: spec-v6.1.md section 2.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "tofu/status.hpp"

namespace tofu {

using ChannelNumber = std::uint16_t;
using MessageId = std::uint64_t;

inline constexpr std::size_t kBinaryHeaderSize = 16;
inline constexpr std::size_t kMaxTextHeadersLen = 65535;  // u16 on the wire
inline constexpr std::size_t kMaxBodyLen = 65535;         // u16 on the wire
// Capacity a fresh pooled message starts with (the original's 64 B headers / 256 B body).
inline constexpr std::size_t kInitialTextHeadersCapacity = 64;
inline constexpr std::size_t kInitialBodyCapacity = 256;

// Bit 4 of the proto byte: who made the message.
enum class Origin : std::uint8_t { application = 0, engine = 1 };

std::string_view to_string(Origin o) noexcept;

// The decoded binary header. On the wire (big-endian):
//   [0..1] channel_number  [2] proto  [3] status  [4..11] message_id  [12..13] thl  [14..15] bl
// proto = opcode | origin<<4 | more<<5 | oob<<6 | internal_b<<7.
struct BinaryHeader {
  ChannelNumber channel_number = 0;
  OpCode opcode = OpCode::request;  // may hold 10..15 only in a header decoded from raw bytes
  Origin origin = Origin::application;
  bool more = false;        // the original's `more` flag: more messages of this logical sequence follow
  bool oob = false;         // the original's `_internalA`: out-of-band / priority (ByeSignal: close locally)
  bool internal_b = false;  // the original's `_internalB`: unused, carried as is
  Status status = Status::success;
  MessageId message_id = 0;
  std::uint16_t text_headers_len = 0;  // set by check_and_prepare / the decoder
  std::uint16_t body_len = 0;          // set by check_and_prepare / the decoder

  [[nodiscard]] constexpr std::uint8_t proto() const noexcept {
    return static_cast<std::uint8_t>((static_cast<unsigned>(opcode) & 0x0Fu) |
                                     (static_cast<unsigned>(origin) & 1u) << 4 | (more ? 1u : 0u) << 5 |
                                     (oob ? 1u : 0u) << 6 | (internal_b ? 1u : 0u) << 7);
  }
  constexpr void set_proto(std::uint8_t p) noexcept {
    opcode = static_cast<OpCode>(p & 0x0Fu);
    origin = static_cast<Origin>((p >> 4) & 1u);
    more = ((p >> 5) & 1u) != 0;
    oob = ((p >> 6) & 1u) != 0;
    internal_b = ((p >> 7) & 1u) != 0;
  }

  friend constexpr bool operator==(const BinaryHeader&, const BinaryHeader&) = default;
};

// A header with defaults for `op`, like the original's ProtoFields.default(op): everything zero
// except ByeSignal, which gets oob (= close locally, send nothing).
constexpr BinaryHeader make_header(OpCode op) noexcept {
  BinaryHeader h;
  h.opcode = op;
  h.oob = (op == OpCode::bye_signal);
  return h;
}

// Header <-> its 16 wire bytes. decode keeps every bit (a raw opcode 10..15 included) and maps the
// status byte with status_from_raw (>= 31 -> unknown_error).
void encode_header(const BinaryHeader& h, std::span<std::byte, kBinaryHeaderSize> out) noexcept;
BinaryHeader decode_header(std::span<const std::byte, kBinaryHeaderSize> in) noexcept;

// One text header as read by the original's TextHeaderIterator: name = bytes before the first ':',
// value = the rest trimmed of spaces and tabs. Views point into the TextHeaders buffer.
struct TextHeader {
  std::string_view name;
  std::string_view value;
};

// Strict check of received text-header bytes (what the decoder applies). Malformed = a non-empty
// line (CRLF-terminated, or the unterminated tail) that has no ':' or whose name (the bytes before
// the first ':') is empty. Empty lines are allowed (skipped by readers). Returns success or
// Status::invalid_message.
Status check_text_headers(std::string_view raw) noexcept;

// Text headers stored as their raw wire bytes, so encoding is a straight copy.
class TextHeaders {
 public:
  // Iterates with the original reader's rules: lines split at CRLF, empty lines skipped, a last line
  // without CRLF accepted, a line with an empty name ends the iteration.
  class Iterator {
   public:
    using value_type = TextHeader;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    explicit Iterator(std::string_view raw) noexcept : raw_(raw) { next(); }
    const TextHeader& operator*() const noexcept { return cur_; }
    const TextHeader* operator->() const noexcept { return &cur_; }
    Iterator& operator++() noexcept { next(); return *this; }
    Iterator operator++(int) noexcept { Iterator t = *this; next(); return t; }
    friend bool operator==(const Iterator& it, std::default_sentinel_t) noexcept { return it.done_; }

   private:
    void next() noexcept;
    std::string_view raw_;
    std::size_t pos_ = 0;
    TextHeader cur_{};
    bool done_ = true;
  };

  // Appends "name:value\r\n" (the writer's rules: name trimmed of space/tab/CR/LF; empty name or
  // empty value rejected). Also rejected: ':' CR or LF inside the name, CR or LF inside the value
  // (they would change how the line reads back). Returns invalid_message for those,
  // invalid_headers_len if the total would exceed 65535 bytes; the headers are unchanged on error.
  Status add(std::string_view name, std::string_view value);

  // Value of the first header named exactly `name` (case-sensitive), with reader rules.
  [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const noexcept;
  // Removes every line whose name is exactly `name`; returns how many were removed.
  std::size_t remove(std::string_view name);

  [[nodiscard]] Iterator begin() const noexcept { return Iterator(view()); }
  [[nodiscard]] std::default_sentinel_t end() const noexcept { return {}; }

  [[nodiscard]] bool empty() const noexcept { return raw_.empty(); }
  [[nodiscard]] std::size_t size_bytes() const noexcept { return raw_.size(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return raw_.capacity(); }
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return raw_; }
  [[nodiscard]] std::string_view view() const noexcept;

  void clear() noexcept { raw_.clear(); }
  void reserve(std::size_t n) { raw_.reserve(n); }
  // Sets the raw size to exactly n (new bytes zeroed) and returns the writable bytes: for decoders,
  // which then must check the bytes with check_text_headers.
  std::span<std::byte> resize_raw(std::size_t n);
  // Drops the allocation if its capacity exceeds `keep`, re-reserving `fresh` bytes.
  void trim_capacity(std::size_t keep, std::size_t fresh);

  friend bool operator==(const TextHeaders&, const TextHeaders&) = default;

 private:
  std::vector<std::byte> raw_;
};

class Message {
 public:
  BinaryHeader header;
  TextHeaders text_headers;

  [[nodiscard]] std::span<const std::byte> body() const noexcept { return body_; }
  [[nodiscard]] std::string_view body_text() const noexcept;
  [[nodiscard]] std::size_t body_size() const noexcept { return body_.size(); }
  [[nodiscard]] std::size_t body_capacity() const noexcept { return body_.capacity(); }

  void set_body(std::span<const std::byte> bytes);
  void set_body(std::string_view text);
  void append_body(std::span<const std::byte> bytes);
  void append_body(std::string_view text);
  void clear_body() noexcept { body_.clear(); }
  void reserve_body(std::size_t n) { body_.reserve(n); }
  // Sets the body size to exactly n (new bytes zeroed) and returns the writable bytes.
  std::span<std::byte> resize_body(std::size_t n);

  // Back to a default header with no text headers and an empty body; capacity is kept.
  void reset() noexcept;
  // A deep copy (header, text headers, body).
  [[nodiscard]] Message clone() const { return *this; }
  // Releases buffers whose capacity exceeds `keep` (re-reserving the initial capacities).
  void trim_capacity(std::size_t keep);

  friend bool operator==(const Message&, const Message&) = default;

 private:
  std::vector<std::byte> body_;
};

// The next id from the process-global counter (starts at 1; thread-safe).
MessageId next_message_id() noexcept;

// The original's Message.check_and_prepare, done by post() before a message is queued. In order:
//   opcode 0..9 (invalid_op_code); origin := application, status := success;
//   response opcode with message_id 0 (invalid_message_id); `more` on a non-regular opcode
//   (invalid_more_usage); channel 0 on anything but HelloRequest/WelcomeRequest
//   (invalid_channel_number); text headers > 65535 (invalid_headers_len), thl := size;
//   HelloRequest/WelcomeRequest without text headers (wrong_address); body > 65535
//   (invalid_body_len), bl := size; message_id 0 := next_message_id().
// The engine additionally checks that a non-zero channel exists and belongs to the group.
Status check_and_prepare(Message& m) noexcept;

}  // namespace tofu
