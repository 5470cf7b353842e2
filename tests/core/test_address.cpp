#include <catch2/catch.hpp>

#include <string>

#include "tofu/address.hpp"

using tofu::Address;
using tofu::AddressRole;
using tofu::Message;
using tofu::OpCode;
using tofu::Status;
using tofu::Transport;

namespace {
Address parse_ok(std::string_view value, AddressRole role) {
  const auto r = tofu::parse_address(value, role);
  INFO(value);
  REQUIRE(r.status == Status::success);
  return r.address;
}
Status parse_status(std::string_view value, AddressRole role) { return tofu::parse_address(value, role).status; }
}  // namespace

TEST_CASE("address: defaults are the original's 127.0.0.1 7099 over tcp", "[core]") {
  const Address a;
  CHECK(a.transport == Transport::tcp);
  CHECK(a.host == "127.0.0.1");
  CHECK(a.port == 7099);
  CHECK(tofu::to_string(a) == "tcp|127.0.0.1|7099");
}

TEST_CASE("address: tcp values parse for both roles", "[core]") {
  CHECK(parse_ok("tcp|127.0.0.1|7099", AddressRole::connect) == Address::tcp("127.0.0.1", 7099));
  CHECK(parse_ok("tcp|localhost|1", AddressRole::connect) == Address::tcp("localhost", 1));
  CHECK(parse_ok("tcp|my-host.example_1.org|65535", AddressRole::connect) == Address::tcp("my-host.example_1.org", 65535));
  CHECK(parse_ok("tcp|::1|7099", AddressRole::connect) == Address::tcp("::1", 7099));
  CHECK(parse_ok("tcp|[fe80::1%eth0]|80", AddressRole::connect) == Address::tcp("fe80::1%eth0", 80));  // brackets dropped
  CHECK(parse_ok("tcp|00080|00080", AddressRole::connect).port == 80);  // leading zeros are digits too
  CHECK(parse_ok("tcp|0.0.0.0|7099", AddressRole::listen) == Address::tcp("0.0.0.0", 7099));
}

TEST_CASE("address: an empty host and port 0 are for listeners only", "[core]") {
  const Address all = parse_ok("tcp||7099", AddressRole::listen);
  CHECK(all.host.empty());
  CHECK(all.port == 7099);
  CHECK(parse_ok("tcp|127.0.0.1|0", AddressRole::listen).port == 0);
  CHECK(parse_status("tcp||7099", AddressRole::connect) == Status::invalid_address);
  CHECK(parse_status("tcp|127.0.0.1|0", AddressRole::connect) == Status::invalid_address);
}

TEST_CASE("address: uds values parse up to the path limit", "[core]") {
  CHECK(parse_ok("uds|/tmp/7099.port", AddressRole::connect) == Address::uds("/tmp/7099.port"));
  CHECK(parse_ok("uds|relative.sock", AddressRole::listen) == Address::uds("relative.sock"));
  const std::string longest(tofu::kUdsPathMax, 'p');
  CHECK(parse_ok("uds|" + longest, AddressRole::listen).path == longest);
  CHECK(parse_status("uds|" + longest + "p", AddressRole::listen) == Status::invalid_address);
  CHECK(parse_status("uds|", AddressRole::connect) == Status::invalid_address);
}

TEST_CASE("address: a fourth part is a clean error not the original's overflow", "[core]") {
  CHECK(parse_status("tcp|127.0.0.1|7099|extra", AddressRole::connect) == Status::invalid_address);
  CHECK(parse_status("tcp|127.0.0.1|7099|", AddressRole::listen) == Status::invalid_address);
  CHECK(parse_status("uds|/tmp/a|b|c", AddressRole::connect) == Status::invalid_address);
  CHECK(parse_status("||||||||", AddressRole::connect) == Status::invalid_address);
}

TEST_CASE("address: malformed values are invalid_address", "[core]") {
  for (const char* bad : {"", "tcp", "uds", "tcp|127.0.0.1", "udp|127.0.0.1|7099", "TCP|127.0.0.1|7099",
                          "UDS|/tmp/x", "uds|/tmp/a|b", "tcp|127.0.0.1|", "tcp|127.0.0.1|http", "tcp|127.0.0.1|+80",
                          "tcp|127.0.0.1|-1", "tcp|127.0.0.1|65536", "tcp|127.0.0.1|123456", "tcp|127.0.0.1| 80",
                          "tcp|bad host|80", "tcp|host/x|80", "tcp|[127.0.0.1]|80", "tcp|[]|80", "tcp|[::1|80",
                          "uds| /tmp/x", "|tcp|x"}) {
    INFO(bad);
    CHECK(parse_status(bad, AddressRole::connect) == Status::invalid_address);
  }
  const std::string long_host(tofu::kMaxHostLen + 1, 'h');
  CHECK(parse_status("tcp|" + long_host + "|80", AddressRole::connect) == Status::invalid_address);
  CHECK(parse_status("tcp|" + std::string(tofu::kMaxHostLen, 'h') + "|80", AddressRole::connect) == Status::success);
}

TEST_CASE("address: to_string and parse round-trip", "[core]") {
  for (const Address& a : {Address::tcp("10.1.2.3", 443), Address::tcp("::1", 7099), Address::tcp("example.org", 1),
                           Address::uds("/tmp/tofu.sock")}) {
    CHECK(parse_ok(tofu::to_string(a), AddressRole::connect) == a);
  }
  CHECK(tofu::to_string(Address::tcp("[::1]", 80)) == "tcp|::1|80");
  CHECK(tofu::to_string(Address::tcp("", 80)) == "tcp||80");
  CHECK(tofu::to_string(Address::uds("/x")) == "uds|/x");
}

TEST_CASE("address: is_valid applies the role and the path rules", "[core]") {
  CHECK(tofu::is_valid(Address::tcp("", 0), AddressRole::listen));
  CHECK_FALSE(tofu::is_valid(Address::tcp("", 80), AddressRole::connect));
  CHECK_FALSE(tofu::is_valid(Address::uds("/tmp/with|bar"), AddressRole::connect));
  CHECK_FALSE(tofu::is_valid(Address::uds("/tmp/trailing "), AddressRole::connect));
  CHECK_FALSE(tofu::is_valid(Address::uds(std::string("/tmp/nul\0x", 10)), AddressRole::connect));
  CHECK_FALSE(tofu::is_valid(Address::uds("/tmp/cr\rlf"), AddressRole::connect));
  CHECK(tofu::is_valid(Address::uds("/tmp/with space"), AddressRole::connect));
}

TEST_CASE("address: prepare_hello makes a HelloRequest with a ~connect_to header", "[core]") {
  Message m;
  m.header.channel_number = 55;
  m.header.message_id = 66;
  m.header.opcode = OpCode::signal;
  m.header.more = true;
  REQUIRE(m.text_headers.add("user", "kept") == Status::success);
  REQUIRE(m.text_headers.add("~listen_on", "tcp||1") == Status::success);
  REQUIRE(m.text_headers.add("~connect_to", "tcp|old|1") == Status::success);
  m.set_body("body stays");

  REQUIRE(tofu::prepare_hello(m, Address::tcp("127.0.0.1", 7099)) == Status::success);
  CHECK(m.header == tofu::make_header(OpCode::hello_request));
  CHECK(m.text_headers.view() == "user:kept\r\n~connect_to:tcp|127.0.0.1|7099\r\n");
  CHECK(m.body_text() == "body stays");

  const auto back = tofu::address_of(m);
  CHECK(back.status == Status::success);
  CHECK(back.address == Address::tcp("127.0.0.1", 7099));
  CHECK(tofu::check_and_prepare(m) == Status::success);  // ready to post
}

TEST_CASE("address: prepare_welcome makes a WelcomeRequest with a ~listen_on header", "[core]") {
  Message m;
  REQUIRE(tofu::prepare_welcome(m, Address::tcp("", 7099)) == Status::success);
  CHECK(m.header.opcode == OpCode::welcome_request);
  CHECK(m.header.channel_number == 0);
  CHECK(m.text_headers.view() == "~listen_on:tcp||7099\r\n");
  CHECK(tofu::address_of(m).address == Address::tcp("", 7099));

  Message u;
  REQUIRE(tofu::prepare_welcome(u, Address::uds("/tmp/t.sock")) == Status::success);
  CHECK(u.text_headers.find("~listen_on") == std::optional<std::string_view>("uds|/tmp/t.sock"));
  CHECK(tofu::address_of(u).address == Address::uds("/tmp/t.sock"));
}

TEST_CASE("address: prepare with a bad address is wrong_address and leaves the message alone", "[core]") {
  Message m;
  m.header.channel_number = 9;
  REQUIRE(m.text_headers.add("a", "b") == Status::success);
  const Message before = m;
  CHECK(tofu::prepare_hello(m, Address::tcp("", 7099)) == Status::wrong_address);  // no host to connect to
  CHECK(tofu::prepare_hello(m, Address::uds("")) == Status::wrong_address);
  CHECK(tofu::prepare_welcome(m, Address::tcp("bad host", 1)) == Status::wrong_address);
  CHECK(tofu::prepare_welcome(m, Address::uds(std::string(tofu::kUdsPathMax + 1, 'x'))) == Status::wrong_address);
  CHECK(m == before);
}

TEST_CASE("address: address_of needs the matching opcode and header", "[core]") {
  Message m;
  m.header.opcode = OpCode::hello_request;
  CHECK(tofu::address_of(m).status == Status::invalid_address);  // no header
  REQUIRE(m.text_headers.add("~listen_on", "tcp||7099") == Status::success);
  CHECK(tofu::address_of(m).status == Status::invalid_address);  // a Hello needs ~connect_to
  REQUIRE(m.text_headers.add("~connect_to", " tcp|h|1 ") == Status::success);  // value trimmed on read
  CHECK(tofu::address_of(m).address == Address::tcp("h", 1));
  m.header.opcode = OpCode::request;
  CHECK(tofu::address_of(m).status == Status::invalid_address);
  m.header.opcode = OpCode::welcome_request;
  CHECK(tofu::address_of(m).address == Address::tcp("", 7099));

  Message twice;
  twice.header.opcode = OpCode::hello_request;
  REQUIRE(twice.text_headers.add("~connect_to", "tcp|first|1") == Status::success);
  REQUIRE(twice.text_headers.add("~connect_to", "tcp|second|2") == Status::success);
  CHECK(tofu::address_of(twice).address == Address::tcp("first", 1));  // the first one wins

  Message broken;
  broken.header.opcode = OpCode::hello_request;
  REQUIRE(broken.text_headers.add("~connect_to", "tcp|a|1|2") == Status::success);
  CHECK(tofu::address_of(broken).status == Status::invalid_address);
}
