#pragma once
/// @file
/// A tofu message: the 16-byte binary header, the text headers ("name:value\r\n" lines) and an opaque
/// body. Wire layout and rules: spec-v6.1.md section 2.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "tofu/export.hpp"
#include "tofu/status.hpp"

namespace tofu {

/// Channel number: 0 = none yet (HelloRequest/WelcomeRequest), else a channel of this engine.
using ChannelNumber = std::uint16_t;
/// Message id: a response carries the id of the request it answers.
using MessageId = std::uint64_t;

class FrameDecoder;
class Pool;
class Recycler;
namespace detail {
struct PoolHome;
}

/// Size of the binary header on the wire.
inline constexpr std::size_t kBinaryHeaderSize = 16;
inline constexpr std::size_t kMaxTextHeadersLen = 65535;  ///< u16 on the wire
inline constexpr std::size_t kMaxBodyLen = 65535;         ///< u16 on the wire
/// Capacity a fresh pooled message starts with (the original's 64 B headers / 256 B body).
inline constexpr std::size_t kInitialTextHeadersCapacity = 64;
/// Body capacity a fresh pooled message starts with.
inline constexpr std::size_t kInitialBodyCapacity = 256;

/// Bit 4 of the proto byte: who made the message.
enum class Origin : std::uint8_t {
  application = 0,  ///< posted by an application (the only value that travels on the wire)
  engine = 1        ///< a status report made by the local engine
};

/// "application" or "engine".
TOFU_API std::string_view to_string(Origin o) noexcept;

/// The decoded binary header. On the wire (big-endian):
///   [0..1] channel_number  [2] proto  [3] status  [4..11] message_id  [12..13] thl  [14..15] bl
/// proto = opcode | origin<<4 | more<<5 | oob<<6 | internal_b<<7.
struct BinaryHeader {
  ChannelNumber channel_number = 0;  ///< the channel (0 on a HelloRequest/WelcomeRequest not yet posted)
  OpCode opcode = OpCode::request;  ///< may hold 10..15 only in a header decoded from raw bytes
  Origin origin = Origin::application;  ///< who made the message
  bool more = false;        ///< the original's `more` flag: more messages of this logical sequence follow
  bool oob = false;         ///< the original's `_internalA`: out-of-band / priority (ByeSignal: close locally)
  bool internal_b = false;  ///< the original's `_internalB`: reserved, must be 0 (post() and receivers refuse it)
  Status status = Status::success;  ///< success, or what the engine reports
  MessageId message_id = 0;          ///< 0 = assign the next id when posted
  std::uint16_t text_headers_len = 0;  ///< set by check_and_prepare / the decoder
  std::uint16_t body_len = 0;          ///< set by check_and_prepare / the decoder

  /// The proto byte as sent: opcode | origin<<4 | more<<5 | oob<<6 | internal_b<<7.
  [[nodiscard]] constexpr std::uint8_t proto() const noexcept {
    return static_cast<std::uint8_t>((static_cast<unsigned>(opcode) & 0x0Fu) |
                                     (static_cast<unsigned>(origin) & 1u) << 4 | (more ? 1u : 0u) << 5 |
                                     (oob ? 1u : 0u) << 6 | (internal_b ? 1u : 0u) << 7);
  }
  /// Sets opcode, origin and the three flags from a proto byte (keeps a raw opcode 10..15).
  constexpr void set_proto(std::uint8_t p) noexcept {
    opcode = static_cast<OpCode>(p & 0x0Fu);
    origin = static_cast<Origin>((p >> 4) & 1u);
    more = ((p >> 5) & 1u) != 0;
    oob = ((p >> 6) & 1u) != 0;
    internal_b = ((p >> 7) & 1u) != 0;
  }

  /// Field-wise equality.
  friend constexpr bool operator==(const BinaryHeader&, const BinaryHeader&) = default;
};

/// A header with defaults for `op`, like the original's ProtoFields.default(op): everything zero
/// except ByeSignal, which gets oob (= close locally, send nothing).
constexpr BinaryHeader make_header(OpCode op) noexcept {
  BinaryHeader h;
  h.opcode = op;
  h.oob = (op == OpCode::bye_signal);
  return h;
}

/// Header <-> its 16 wire bytes. decode keeps every bit (a raw opcode 10..15 included) and maps the
/// status byte with status_from_raw (>= kStatusCount -> unknown_error).
TOFU_API void encode_header(const BinaryHeader& h, std::span<std::byte, kBinaryHeaderSize> out) noexcept;
/// The header in 16 wire bytes (see encode_header()).
TOFU_API BinaryHeader decode_header(std::span<const std::byte, kBinaryHeaderSize> in) noexcept;

/// One text header as read by the original's TextHeaderIterator: name = bytes before the first ':',
/// value = the rest trimmed of spaces and tabs. Views point into the TextHeaders buffer.
struct TextHeader {
  std::string_view name;  ///< bytes before the first `:`
  std::string_view value;  ///< the rest of the line, trimmed of spaces and tabs
};

/// Strict check of received text-header bytes (what the decoder applies). Malformed = a non-empty
/// line (CRLF-terminated, or the unterminated tail) that has no ':' or whose name (the bytes before
/// the first ':') is empty. Empty lines are allowed (skipped by readers). Returns success or
/// Status::invalid_message.
TOFU_API Status check_text_headers(std::string_view raw) noexcept;

/// Text headers stored as their raw wire bytes, so encoding is a straight copy.
class TOFU_API TextHeaders {
 public:
  /// Iterates with the original reader's rules: lines split at CRLF, empty lines skipped, a last line
  /// without CRLF accepted, a line with an empty name ends the iteration.
  class TOFU_API Iterator {
   public:
    /// Iterator traits (an input iterator over TextHeader).
    using value_type = TextHeader;
    using difference_type = std::ptrdiff_t;  ///< iterator trait
    /// An exhausted iterator.
    Iterator() = default;
    /// Iterates the headers in `raw` (wire bytes).
    explicit Iterator(std::string_view raw) noexcept : raw_(raw) { next(); }
    /// The current header.
    const TextHeader& operator*() const noexcept { return cur_; }
    /// The current header.
    const TextHeader* operator->() const noexcept { return &cur_; }
    /// Advances to the next header.
    Iterator& operator++() noexcept { next(); return *this; }
    /// Advances to the next header; returns the old position.
    Iterator operator++(int) noexcept { Iterator t = *this; next(); return t; }
    /// True once the headers are exhausted.
    friend bool operator==(const Iterator& it, std::default_sentinel_t) noexcept { return it.done_; }

   private:
    void next() noexcept;
    std::string_view raw_;
    std::size_t pos_ = 0;
    TextHeader cur_{};
    bool done_ = true;
  };

  /// Appends "name:value\r\n" (the writer's rules: name trimmed of space/tab/CR/LF; empty name or
  /// empty value rejected). Also rejected: ':' CR or LF inside the name, CR or LF inside the value
  /// (they would change how the line reads back). Returns invalid_message for those,
  /// invalid_headers_len if the total would exceed 65535 bytes; the headers are unchanged on error.
  Status add(std::string_view name, std::string_view value);

  /// Value of the first header named exactly `name` (case-sensitive), with reader rules.
  [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const noexcept;
  /// Removes every line whose name is exactly `name`; returns how many were removed.
  std::size_t remove(std::string_view name);

  /// Iteration over the headers with the reader rules (see Iterator).
  [[nodiscard]] Iterator begin() const noexcept { return Iterator(view()); }
  /// The end of iteration.
  [[nodiscard]] std::default_sentinel_t end() const noexcept { return {}; }

  /// True when there are no header bytes.
  [[nodiscard]] bool empty() const noexcept { return raw_.empty(); }
  /// Size in wire bytes (the thl field).
  [[nodiscard]] std::size_t size_bytes() const noexcept { return raw_.size(); }
  /// Bytes allocated.
  [[nodiscard]] std::size_t capacity() const noexcept { return raw_.capacity(); }
  /// The wire bytes.
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return raw_; }
  /// The wire bytes as text.
  [[nodiscard]] std::string_view view() const noexcept;

  /// Removes every header (capacity kept).
  void clear() noexcept { raw_.clear(); }
  /// Reserves `n` bytes.
  void reserve(std::size_t n) { raw_.reserve(n); }
  /// Sets the raw size to exactly n (new bytes zeroed) and returns the writable bytes: for decoders,
  /// which then must check the bytes with check_text_headers.
  std::span<std::byte> resize_raw(std::size_t n);
  /// Drops the allocation if its capacity exceeds `keep`, re-reserving `fresh` bytes.
  void trim_capacity(std::size_t keep, std::size_t fresh);

  /// Byte-wise equality.
  friend bool operator==(const TextHeaders&, const TextHeaders&) = default;

 private:
  friend class FrameDecoder;  // appends received bytes without zero-filling first
  std::vector<std::byte> raw_;
};

/// One message: binary header, text headers and body. Usually owned through a MessagePtr
/// from a Pool (Engine::get()), which returns it to the pool when destroyed.
class TOFU_API Message {
 public:
  BinaryHeader header;  ///< opcode, channel, message id, status, flags
  TextHeaders text_headers;  ///< "name:value" lines, e.g. `~connect_to`

  /// An empty message (default header, no text headers, no body), owned by no pool.
  Message() = default;
  /// Copies header, text headers and body; the copy belongs to no pool.
  Message(const Message& o) : header(o.header), text_headers(o.text_headers), body_(o.body_) {}
  /// Moves header, text headers and body; the new message belongs to no pool.
  Message(Message&& o) noexcept
      : header(o.header), text_headers(std::move(o.text_headers)), body_(std::move(o.body_)) {}
  /// Copies header, text headers and body; which pool this message returns to does not change.
  Message& operator=(const Message& o) {
    if (this != &o) {
      header = o.header;
      text_headers = o.text_headers;
      body_ = o.body_;
    }
    return *this;
  }
  /// Moves header, text headers and body; which pool this message returns to does not change.
  Message& operator=(Message&& o) noexcept {
    header = o.header;
    text_headers = std::move(o.text_headers);
    body_ = std::move(o.body_);
    return *this;
  }
  ~Message() = default;

  /// The body bytes.
  [[nodiscard]] std::span<const std::byte> body() const noexcept { return body_; }
  /// The body as text.
  [[nodiscard]] std::string_view body_text() const noexcept;
  /// Body length in bytes.
  [[nodiscard]] std::size_t body_size() const noexcept { return body_.size(); }
  /// Bytes allocated for the body.
  [[nodiscard]] std::size_t body_capacity() const noexcept { return body_.capacity(); }

  /// Replaces the body (at most kMaxBodyLen bytes are accepted by post()).
  void set_body(std::span<const std::byte> bytes);
  /// Replaces the body with the bytes of `text`.
  void set_body(std::string_view text);
  /// Appends to the body.
  void append_body(std::span<const std::byte> bytes);
  /// Appends the bytes of `text` to the body.
  void append_body(std::string_view text);
  /// Empties the body (capacity kept).
  void clear_body() noexcept { body_.clear(); }
  /// Reserves `n` body bytes.
  void reserve_body(std::size_t n) { body_.reserve(n); }
  /// Sets the body size to exactly n (new bytes zeroed) and returns the writable bytes.
  std::span<std::byte> resize_body(std::size_t n);

  /// Back to a default header with no text headers and an empty body; capacity is kept.
  void reset() noexcept;
  /// A deep copy (header, text headers, body).
  [[nodiscard]] Message clone() const { return *this; }
  /// Releases buffers whose capacity exceeds `keep` (re-reserving the initial capacities).
  void trim_capacity(std::size_t keep);

  /// Equal header, text headers and body.
  friend bool operator==(const Message& a, const Message& b) {
    return a.header == b.header && a.text_headers == b.text_headers && a.body_ == b.body_;
  }

 private:
  friend class FrameDecoder;  // appends received bytes without zero-filling first
  friend class Pool;          // sets home_
  friend class Recycler;      // reads home_
  std::vector<std::byte> body_;
  detail::PoolHome* home_ = nullptr;  // the pool that made this message (D-88); set once
};

/// A fresh message id, unique in the process (thread-safe). Ids start at 1 and increase within a
/// thread; each thread takes them in blocks from one process-wide counter, so across threads they
/// do not follow the order of the calls (D-97).
TOFU_API MessageId next_message_id() noexcept;

/// The original's Message.check_and_prepare, done by post() before a message is queued. In order:
///   opcode 0..9 (invalid_op_code); origin := application, status := success; the reserved
///   internal_b bit set (invalid_message); response opcode with message_id 0 (invalid_message_id); `more` on a non-regular opcode
///   (invalid_more_usage); channel 0 on anything but HelloRequest/WelcomeRequest
///   (invalid_channel_number); text headers > 65535 (invalid_headers_len), thl := size;
///   HelloRequest/WelcomeRequest without text headers (wrong_address); body > 65535
///   (invalid_body_len), bl := size; message_id 0 := next_message_id().
/// The engine additionally checks that a non-zero channel exists and belongs to the group.
TOFU_API Status check_and_prepare(Message& m) noexcept;

}  // namespace tofu
