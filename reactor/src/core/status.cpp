#include "tofu/status.hpp"

namespace tofu {

std::string_view to_string(OpCode op) noexcept {
  switch (op) {
    case OpCode::request: return "Request";
    case OpCode::response: return "Response";
    case OpCode::signal: return "Signal";
    case OpCode::hello_request: return "HelloRequest";
    case OpCode::hello_response: return "HelloResponse";
    case OpCode::bye_request: return "ByeRequest";
    case OpCode::bye_response: return "ByeResponse";
    case OpCode::bye_signal: return "ByeSignal";
    case OpCode::welcome_request: return "WelcomeRequest";
    case OpCode::welcome_response: return "WelcomeResponse";
  }
  return "InvalidOpCode";
}

std::string_view to_string(Status s) noexcept {
  switch (status_from_raw(to_raw(s))) {
    case Status::success: return "success";
    case Status::not_implemented_yet: return "not_implemented_yet";
    case Status::wrong_address: return "wrong_address";
    case Status::not_allowed: return "not_allowed";
    case Status::null_message: return "null_message";
    case Status::invalid_message: return "invalid_message";
    case Status::invalid_op_code: return "invalid_op_code";
    case Status::invalid_headers_len: return "invalid_headers_len";
    case Status::invalid_body_len: return "invalid_body_len";
    case Status::invalid_more_usage: return "invalid_more_usage";
    case Status::invalid_channel_number: return "invalid_channel_number";
    case Status::invelid_mchn_group: return "invelid_mchn_group";
    case Status::invalid_message_id: return "invalid_message_id";
    case Status::invalid_address: return "invalid_address";
    case Status::uds_path_not_found: return "uds_path_not_found";
    case Status::notification_disabled: return "notification_disabled";
    case Status::notification_failed: return "notification_failed";
    case Status::peer_disconnected: return "peer_disconnected";
    case Status::communication_failed: return "communication_failed";
    case Status::pool_empty: return "pool_empty";
    case Status::allocation_failed: return "allocation_failed";
    case Status::receiver_update: return "receiver_update";
    case Status::channel_closed: return "channel_closed";
    case Status::shutdown_started: return "shutdown_started";
    case Status::connect_failed: return "connect_failed";
    case Status::listen_failed: return "listen_failed";
    case Status::accept_failed: return "accept_failed";
    case Status::send_failed: return "send_failed";
    case Status::recv_failed: return "recv_failed";
    case Status::setsockopt_failed: return "setsockopt_failed";
    case Status::processing_failed: return "processing_failed";
    case Status::unknown_error: return "unknown_error";
    case Status::send_queue_full: return "send_queue_full";
    case Status::handshake_timeout: return "handshake_timeout";
    case Status::frame_timeout: return "frame_timeout";
    case Status::protocol_violation: return "protocol_violation";
    case Status::send_timeout: return "send_timeout";
  }
  return "unknown_error";
}

}  // namespace tofu
