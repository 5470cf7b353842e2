#pragma once
/// @file
/// Opcodes and statuses with the original tofu's numeric values (they travel on the wire: the opcode
/// in the low 4 bits of the proto byte, the status in byte 3 of the binary header).
#include <cstdint>
#include <string_view>

#include "tofu/export.hpp"

namespace tofu {

/// The 4-bit opcode of a frame. Values 10..15 do not exist; a received frame carrying one is a
/// protocol error (Status::invalid_op_code).
enum class OpCode : std::uint8_t {
  request = 0,
  response = 1,
  signal = 2,
  hello_request = 3,
  hello_response = 4,
  bye_request = 5,
  bye_response = 6,
  bye_signal = 7,
  welcome_request = 8,
  welcome_response = 9,
};

/// Number of opcodes (0..9).
inline constexpr std::uint8_t kOpCodeCount = 10;

/// True for a raw 4-bit value that names an opcode (0..9).
constexpr bool is_valid_opcode(std::uint8_t raw) noexcept { return raw < kOpCodeCount; }

/// Response opcodes: posting one requires a non-zero message_id (it answers a request).
constexpr bool is_response(OpCode op) noexcept {
  return op == OpCode::response || op == OpCode::hello_response || op == OpCode::bye_response ||
         op == OpCode::welcome_response;
}

/// The "regular" (application data) opcodes: the only ones that may carry the `more` bit.
constexpr bool is_regular(OpCode op) noexcept {
  return op == OpCode::request || op == OpCode::response || op == OpCode::signal;
}

/// The original's name, e.g. "HelloRequest"; "InvalidOpCode" for a value outside 0..9.
TOFU_API std::string_view to_string(OpCode op) noexcept;

/// Status of an operation and the status byte of a message delivered by the engine. Values 0..31 are
/// the original's (AmpeStatus), names included (its misspelling `invelid_mchn_group` too). Values 32..36
/// are this implementation's flow-control and protocol statuses (spec section 9). Statuses never travel
/// on the wire (a sender writes 0, a receiver refuses anything else), so adding local ones keeps
/// wire compatibility.
enum class Status : std::uint8_t {
  success = 0,
  not_implemented_yet = 1,
  wrong_address = 2,
  not_allowed = 3,
  null_message = 4,
  invalid_message = 5,
  invalid_op_code = 6,
  invalid_headers_len = 7,
  invalid_body_len = 8,
  invalid_more_usage = 9,
  invalid_channel_number = 10,
  invelid_mchn_group = 11,  ///< sic: the original's spelling ("invalid message channel group")
  invalid_message_id = 12,
  invalid_address = 13,
  uds_path_not_found = 14,
  notification_disabled = 15,
  notification_failed = 16,
  peer_disconnected = 17,
  communication_failed = 18,
  pool_empty = 19,
  allocation_failed = 20,
  receiver_update = 21,
  channel_closed = 22,
  shutdown_started = 23,
  connect_failed = 24,
  listen_failed = 25,
  accept_failed = 26,
  send_failed = 27,
  recv_failed = 28,
  setsockopt_failed = 29,
  processing_failed = 30,
  unknown_error = 31,
  /// post() refused: the channel already holds its maximum of posted, not yet written messages
  /// (EngineOptions::flow.max_queued_per_channel); the caller keeps the message.
  send_queue_full = 32,
  /// An accepted connection did not deliver its HelloRequest in time (FlowOptions::handshake_timeout).
  handshake_timeout = 33,
  /// A peer started a frame and did not complete it in time (FlowOptions::frame_timeout).
  frame_timeout = 34,
  /// A peer sent a frame its state does not allow (e.g. anything before its HelloRequest, a second
  /// HelloRequest, a WelcomeRequest): spec section 9.4.
  protocol_violation = 35,
  /// A channel's queued messages made no progress onto the wire for too long: the peer does not
  /// read (FlowOptions::send_timeout).
  send_timeout = 36,
};

/// One past the largest Status value.
inline constexpr std::uint8_t kStatusCount = 37;

/// Correctly spelled alias of Status::invelid_mchn_group (same value, 11).
inline constexpr Status invalid_mchn_group = Status::invelid_mchn_group;

/// Raw byte -> Status; a value that names no status (>= kStatusCount) maps to unknown_error (as the
/// original's raw_to_status does for values past its last one).
constexpr Status status_from_raw(std::uint8_t raw) noexcept {
  return raw >= kStatusCount ? Status::unknown_error : static_cast<Status>(raw);
}

/// The status byte as sent.
constexpr std::uint8_t to_raw(Status s) noexcept { return static_cast<std::uint8_t>(s); }

/// True for Status::success.
constexpr bool ok(Status s) noexcept { return s == Status::success; }

/// The snake_case name, e.g. "invelid_mchn_group"; "unknown_error" for raw values >= kStatusCount.
TOFU_API std::string_view to_string(Status s) noexcept;

}  // namespace tofu
