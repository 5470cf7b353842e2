#pragma once
/// @file
/// Streaming frame codec. A frame is the 16-byte binary header, then thl bytes of text headers, then
/// bl bytes of body (spec-v6.1.md section 2). Neither side copies the body: the encoder hands out
/// buffers that point into the message, the decoder writes straight into the target message.
#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "tofu/export.hpp"
#include "tofu/message.hpp"
#include "tofu/status.hpp"

namespace tofu {

/// One scatter/gather element. Not layout-compatible with iovec/WSABUF on purpose: the engine converts.
struct ConstBuffer {
  const std::byte* data = nullptr;  ///< first byte
  std::size_t size = 0;  ///< length in bytes
};

/// Writes one message as a frame. The lengths on the wire are the message's actual text-header and
/// body sizes (not the header's thl/bl fields), so a frame is always self-consistent; the message must
/// satisfy the limits (check_and_prepare does that). Everything else (channel, proto bits, status,
/// message id) is taken from m.header as is. The message must stay alive and unchanged until done().
class TOFU_API FrameEncoder {
 public:
  /// Begins writing `m` (the previous frame, if any, is forgotten).
  void start(const Message& m) noexcept;
  /// Fills up to 3 buffers with the unwritten rest of the frame (empty parts skipped); returns the
  /// count, 0 when done.
  std::size_t buffers(std::span<ConstBuffer> out) const noexcept;
  /// Consumes n written bytes (clamped to what remains); true when the whole frame has been written.
  bool advance(std::size_t n) noexcept;
  /// True when the whole frame has been written.
  [[nodiscard]] bool done() const noexcept { return remaining_ == 0; }
  /// Bytes of the frame not written yet.
  [[nodiscard]] std::size_t remaining() const noexcept { return remaining_; }
  /// Size of the whole frame: 16 + text headers + body.
  [[nodiscard]] std::size_t frame_size() const noexcept { return total_; }

 private:
  std::array<std::byte, kBinaryHeaderSize> header_{};
  std::array<ConstBuffer, 3> parts_{};
  std::size_t part_ = 3;     ///< index of the first part not fully written
  std::size_t offset_ = 0;   ///< bytes of parts_[part_] already written
  std::size_t remaining_ = 0;
  std::size_t total_ = 0;
};

/// Appends the frame of m to out (for tests and tools).
TOFU_API void encode_to(const Message& m, std::vector<std::byte>& out);

/// Largest text-header and body lengths a FrameDecoder accepts (the wire maximum by default).
struct DecodeLimits {
  std::size_t max_text_headers = kMaxTextHeadersLen;  ///< larger thl: invalid_headers_len
  std::size_t max_body = kMaxBodyLen;                 ///< larger bl: invalid_body_len
};

/// Where FrameDecoder::feed() left the current frame.
enum class DecodeState {
  need_more,  ///< all input consumed, the frame is not complete yet
  complete,   ///< a whole frame was decoded into the target
  error       ///< a protocol error (DecodeStep::error says which)
};

/// The result of one FrameDecoder::feed() call.
struct DecodeStep {
  DecodeState state = DecodeState::need_more;  ///< need_more, complete or error
  std::size_t consumed = 0;          ///< bytes of `in` used by this call
  Status error = Status::success;    ///< set when state == error
};

/// Incremental decoder for one byte stream. Protocol errors (checked as soon as the bytes that
/// decide them have arrived; spec section 2.8):
///   opcode 10..15                                   -> invalid_op_code
///   origin = engine or status != 0 (never sent by a
///   conforming peer; would forge a local engine report) -> invalid_message
///   reserved proto bit 7 (internal_b) set           -> invalid_message
///   `more` on a non-regular opcode                  -> invalid_more_usage
///   a response opcode with message id 0             -> invalid_message_id
///   thl > limits.max_text_headers                   -> invalid_headers_len
///   bl > limits.max_body                            -> invalid_body_len
///   text headers failing check_text_headers         -> invalid_message
/// After an error the decoder stays failed (consuming nothing) until reset().
///
/// The target can be chosen once the frame's size is known: feed_header() consumes only the binary
/// header, after which frame_remaining() tells how many bytes of the frame are still to come and
/// the next feed() writes the frame (header included) into the target it is given. The engine uses
/// this to take a pool message only for a frame it already holds whole (spec section 9.3).
class TOFU_API FrameDecoder {
 public:
  /// A decoder waiting for the first byte of a frame.
  explicit FrameDecoder(DecodeLimits limits = {}) noexcept : limits_(limits) {}

  /// Consumes bytes of `in`, never past the end of the current frame, writing the frame into
  /// `target` (pass the same target for every call of one frame). When the binary header is
  /// complete, target.header is set and its text headers and body are emptied (capacity reserved
  /// for thl / bl); they then grow by the bytes that arrive. Returns complete once the last byte of
  /// the frame was consumed; the decoder is then ready for the next frame.
  DecodeStep feed(std::span<const std::byte> in, Message& target);

  /// Consumes only the bytes of the binary header (none once it is complete) and validates it.
  /// Returns need_more until the 16 bytes are in, then `complete` meaning "header complete": the
  /// frame itself continues with feed(). Errors as for feed().
  DecodeStep feed_header(std::span<const std::byte> in) noexcept;
  /// True while the binary header of the next frame is being read (also before its first byte).
  [[nodiscard]] bool in_header() const noexcept { return phase_ == Phase::header; }
  /// True when the binary header is complete but no feed() has received a target for the frame yet.
  [[nodiscard]] bool awaiting_target() const noexcept { return phase_ != Phase::header && phase_ != Phase::failed && !target_ready_; }
  /// Bytes of the current frame still to be consumed (text headers + body after the header), or 0
  /// while in the binary header.
  [[nodiscard]] std::size_t frame_remaining() const noexcept;
  /// The header of the current frame (valid once the binary header is complete).
  [[nodiscard]] const BinaryHeader& current_header() const noexcept { return current_; }

  /// True while a frame has started (at least one byte consumed) and is not complete; false after
  /// an error.
  [[nodiscard]] bool mid_frame() const noexcept;
  /// True after a protocol error (until reset()).
  [[nodiscard]] bool failed() const noexcept { return phase_ == Phase::failed; }
  /// The protocol error, or success.
  [[nodiscard]] Status error() const noexcept { return error_; }
  /// The limits given to the constructor.
  [[nodiscard]] const DecodeLimits& limits() const noexcept { return limits_; }
  /// Forgets any partial frame and error: ready for a new stream.
  void reset() noexcept;

 private:
  enum class Phase { header, text_headers, body, failed };
  DecodeStep fail(Status s, std::size_t consumed) noexcept;
  /// Validates the completed binary header and moves to the text headers; success or the error.
  Status header_complete() noexcept;
  void prepare(Message& target);

  DecodeLimits limits_;
  Phase phase_ = Phase::header;
  Status error_ = Status::success;
  std::array<std::byte, kBinaryHeaderSize> header_{};
  std::size_t have_ = 0;  ///< bytes of the current part (header, text headers or body) received
  std::size_t need_ = kBinaryHeaderSize;
  std::size_t body_len_ = 0;
  BinaryHeader current_{};
  bool target_ready_ = false;  ///< the current frame's target got its header (see awaiting_target)
};

}  // namespace tofu
