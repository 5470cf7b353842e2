#pragma once
/// @file
/// Opcodes and statuses with the original tofu's numeric values (they travel on the wire: the opcode
/// in the low 4 bits of the proto byte, the status in byte 3 of the binary header).
#include <cstdint>
#include <string_view>

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
std::string_view to_string(OpCode op) noexcept;

/// Status of an operation and the status byte of a message delivered by the engine. Names and values
/// are the original's (AmpeStatus), including its misspelling `invelid_mchn_group`.
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
};

/// Correctly spelled alias of Status::invelid_mchn_group (same value, 11).
inline constexpr Status invalid_mchn_group = Status::invelid_mchn_group;

/// Raw byte -> Status; any value >= 31 maps to unknown_error (as the original's raw_to_status).
constexpr Status status_from_raw(std::uint8_t raw) noexcept {
  return raw >= static_cast<std::uint8_t>(Status::unknown_error) ? Status::unknown_error : static_cast<Status>(raw);
}

/// The status byte as sent.
constexpr std::uint8_t to_raw(Status s) noexcept { return static_cast<std::uint8_t>(s); }

/// True for Status::success.
constexpr bool ok(Status s) noexcept { return s == Status::success; }

/// The original's snake_case name, e.g. "invelid_mchn_group"; "unknown_error" for raw values >= 31.
std::string_view to_string(Status s) noexcept;

}  // namespace tofu
