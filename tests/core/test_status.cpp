#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tofu/format.hpp"
#include "tofu/status.hpp"

using tofu::OpCode;
using tofu::Status;

TEST_CASE("status: every status has the original's number and name", "[core]") {
  // Written from the original's AmpeStatus table, not generated from our enum.
  const std::vector<std::pair<unsigned, std::string_view>> table = {
      {0, "success"},
      {1, "not_implemented_yet"},
      {2, "wrong_address"},
      {3, "not_allowed"},
      {4, "null_message"},
      {5, "invalid_message"},
      {6, "invalid_op_code"},
      {7, "invalid_headers_len"},
      {8, "invalid_body_len"},
      {9, "invalid_more_usage"},
      {10, "invalid_channel_number"},
      {11, "invelid_mchn_group"},
      {12, "invalid_message_id"},
      {13, "invalid_address"},
      {14, "uds_path_not_found"},
      {15, "notification_disabled"},
      {16, "notification_failed"},
      {17, "peer_disconnected"},
      {18, "communication_failed"},
      {19, "pool_empty"},
      {20, "allocation_failed"},
      {21, "receiver_update"},
      {22, "channel_closed"},
      {23, "shutdown_started"},
      {24, "connect_failed"},
      {25, "listen_failed"},
      {26, "accept_failed"},
      {27, "send_failed"},
      {28, "recv_failed"},
      {29, "setsockopt_failed"},
      {30, "processing_failed"},
      {31, "unknown_error"},
      {32, "send_queue_full"},
      {33, "handshake_timeout"},
      {34, "frame_timeout"},
      {35, "protocol_violation"},
      {36, "send_timeout"},
  };
  REQUIRE(table.size() == 37);
  REQUIRE(table.size() == tofu::kStatusCount);
  for (const auto& [raw, name] : table) {
    const Status s = tofu::status_from_raw(static_cast<std::uint8_t>(raw));
    CHECK(tofu::to_raw(s) == raw);
    CHECK(tofu::to_string(s) == name);
    CHECK(fmt::format("{}", s) == name);
  }
  CHECK(tofu::to_raw(Status::pool_empty) == 19);
  CHECK(tofu::to_raw(Status::channel_closed) == 22);
  CHECK(tofu::to_raw(Status::unknown_error) == 31);
}

TEST_CASE("status: raw values from 37 to 255 map to unknown_error", "[core]") {
  for (unsigned raw = tofu::kStatusCount; raw <= 255; ++raw) {
    const Status s = tofu::status_from_raw(static_cast<std::uint8_t>(raw));
    CHECK(s == Status::unknown_error);
  }
  // A Status holding an out-of-range value (e.g. cast by a careless caller) still prints.
  CHECK(tofu::to_string(static_cast<Status>(200)) == "unknown_error");
}

TEST_CASE("status: the misspelled invelid_mchn_group has a correctly spelled alias", "[core]") {
  CHECK(tofu::invalid_mchn_group == Status::invelid_mchn_group);
  CHECK(tofu::to_raw(tofu::invalid_mchn_group) == 11);
  CHECK(tofu::to_string(tofu::invalid_mchn_group) == "invelid_mchn_group");
  CHECK(tofu::ok(Status::success));
  CHECK_FALSE(tofu::ok(Status::pool_empty));
}

TEST_CASE("status: opcodes have the original's numbers and names", "[core]") {
  const std::vector<std::pair<unsigned, std::string_view>> table = {
      {0, "Request"},      {1, "Response"},       {2, "Signal"},          {3, "HelloRequest"},
      {4, "HelloResponse"}, {5, "ByeRequest"},    {6, "ByeResponse"},     {7, "ByeSignal"},
      {8, "WelcomeRequest"}, {9, "WelcomeResponse"},
  };
  for (const auto& [raw, name] : table) {
    const auto op = static_cast<OpCode>(raw);
    CHECK(tofu::is_valid_opcode(static_cast<std::uint8_t>(raw)));
    CHECK(tofu::to_string(op) == name);
    CHECK(fmt::format("{}", op) == name);
  }
  for (unsigned raw = 10; raw <= 15; ++raw) {
    CHECK_FALSE(tofu::is_valid_opcode(static_cast<std::uint8_t>(raw)));
    CHECK(tofu::to_string(static_cast<OpCode>(raw)) == "InvalidOpCode");
  }
  CHECK(static_cast<unsigned>(OpCode::hello_request) == 3);
  CHECK(static_cast<unsigned>(OpCode::welcome_response) == 9);
}

TEST_CASE("status: response and regular opcode classes", "[core]") {
  CHECK(tofu::is_response(OpCode::response));
  CHECK(tofu::is_response(OpCode::hello_response));
  CHECK(tofu::is_response(OpCode::bye_response));
  CHECK(tofu::is_response(OpCode::welcome_response));
  CHECK_FALSE(tofu::is_response(OpCode::request));
  CHECK_FALSE(tofu::is_response(OpCode::bye_signal));
  CHECK(tofu::is_regular(OpCode::request));
  CHECK(tofu::is_regular(OpCode::response));
  CHECK(tofu::is_regular(OpCode::signal));
  CHECK_FALSE(tofu::is_regular(OpCode::hello_request));
  CHECK_FALSE(tofu::is_regular(OpCode::bye_signal));
}

TEST_CASE("status: fmt formatters print headers and other core types", "[core]") {
  tofu::BinaryHeader h;
  h.channel_number = 5;
  h.opcode = OpCode::request;
  h.message_id = 7;
  h.body_len = 3;
  CHECK(fmt::format("{}", h) ==
        "{ch=5 op=Request origin=application more=0 oob=0 b=0 st=success id=7 thl=0 bl=3}");
  h.opcode = static_cast<OpCode>(12);
  h.origin = tofu::Origin::engine;
  h.status = Status::channel_closed;
  CHECK(fmt::format("{}", h) ==
        "{ch=5 op=InvalidOpCode(12) origin=engine more=0 oob=0 b=0 st=channel_closed id=7 thl=0 bl=3}");
  CHECK(fmt::format("{:>12}", Status::success) == "     success");
  CHECK(fmt::format("{}", tofu::Address::tcp("::1", 80)) == "tcp|::1|80");
  CHECK(fmt::format("{}", tofu::Transport::uds) == "uds");
  CHECK(fmt::format("{}", tofu::DecodeState::need_more) == "need_more");
  CHECK(fmt::format("{}", tofu::PoolStats{1, 2, 3, 4, 5}) == "{in_use=1 idle=2 high_water=3 created=4 max=5}");
  tofu::Message m;
  m.set_body("abc");
  CHECK(fmt::format("{}", m).find("+ 0 B headers + 3 B body") != std::string::npos);
}
