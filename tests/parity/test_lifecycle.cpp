// Engine start/stop, listening (WelcomeRequest/Response) and connecting (HelloRequest/Response),
// including the failures the original reports as status messages.
#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "raw_socket.hpp"
#include "support/host.hpp"
#include "support/skip.hpp"
#include "tofu/address.hpp"

using namespace tofu;
using namespace tofu::parity;

namespace {

std::string tcp_address(std::uint16_t port, std::string_view host = kLoopback) {
  return "tcp|" + std::string(host) + "|" + std::to_string(port);
}

// A UDS path that is removed again when the test ends.
struct UdsPath {
  std::string path = tofu::test::temp_uds_path("parity");
  ~UdsPath() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("engine starts on the requested backend and shuts down") {
  auto engine = make_engine();
  CHECK(engine->channel_count() == 0);
  auto group = make_group(*engine);
  engine->shutdown();
  CHECK(engine->create_group() == nullptr);
  expect_shutdown_end(*group);
  engine->shutdown();  // idempotent
  expect_shutdown_end(*group);
}

TEST_CASE("listen on an ephemeral tcp port reports the bound address") {
  auto engine = make_engine();
  auto group = make_group(*engine);
  const Listener l = open_listener(*engine, *group, "tcp|127.0.0.1|0");
  CHECK(l.address == tcp_address(l.port));
  CHECK(engine->channel_count() == 1);
  // The port is really bound and listening: a plain socket can connect to it.
  std::string error;
  RawSocket probe = RawSocket::connect_tcp(std::string(kLoopback), l.port, &error);
  INFO(error);
  CHECK(probe.valid());
}

TEST_CASE("listen on a uds path reports the path") {
  if (auto why = tofu::test::uds_unsupported_reason()) TOFU_SKIP(*why);
  UdsPath uds;
  auto engine = make_engine();
  auto group = make_group(*engine);
  const Listener l = open_listener(*engine, *group, "uds|" + uds.path);
  CHECK(l.address == "uds|" + uds.path);
}

TEST_CASE("a uds path of exactly 107 bytes listens and connects") {
  if (auto why = tofu::test::uds_unsupported_reason()) TOFU_SKIP(*why);
  std::string path = tofu::test::temp_uds_path("max");
  path.resize(path.size() - 5);  // without ".sock"
  if (path.size() + 5 > kUdsPathMax) TOFU_SKIP("the temp directory's path is too long for this test: " + path);
  path += std::string(kUdsPathMax - 5 - path.size(), 'x') + ".sock";
  REQUIRE(path.size() == kUdsPathMax);
  struct Remove {
    std::string p;
    ~Remove() { std::remove(p.c_str()); }
  } remove_after{path};
  auto engine = make_engine();
  auto server = make_group(*engine);
  auto client = make_group(*engine);
  const Listener l = open_listener(*engine, *server, "uds|" + path);
  CHECK(l.address == "uds|" + path);  // reported whole, not cut
  const Link link = handshake(*engine, *client, *server, l.address);
  round_trip(*engine, *client, *server, link, "over the longest uds path");
}

TEST_CASE("listen on a tcp port in use fails with listen_failed then channel_closed") {
  auto engine = make_engine();
  auto group = make_group(*engine);
  const Listener first = open_listener(*engine, *group);
  const PostResult r = post_welcome(*engine, *group, first.address);
  REQUIRE(r.status == Status::success);
  REQUIRE(r.header.channel_number != first.channel);
  MessagePtr back = receive(*group);
  check_returned(*back, OpCode::welcome_response, Status::listen_failed, r.header.channel_number);
  CHECK(back->header.message_id == r.header.message_id);
  expect_closed_signal(*group, r.header.channel_number, {Status::listen_failed});
  // The first listener is unaffected.
  auto clients = make_group(*engine);
  const Link link = handshake(*engine, *clients, *group, first.address);
  round_trip(*engine, *clients, *group, link, "still listening");
}

TEST_CASE("listen on a uds path in a missing directory fails with uds_path_not_found") {
  if (auto why = tofu::test::uds_unsupported_reason()) TOFU_SKIP(*why);
  auto engine = make_engine();
  auto group = make_group(*engine);
  const std::string path = tofu::test::temp_uds_path("no-such-dir") + ".d/x.sock";
  const PostResult r = post_welcome(*engine, *group, "uds|" + path);
  REQUIRE(r.status == Status::success);
  MessagePtr back = receive(*group);
  check_returned(*back, OpCode::welcome_response, Status::uds_path_not_found, r.header.channel_number);
  CHECK(back->header.message_id == r.header.message_id);
  expect_closed_signal(*group, r.header.channel_number, {Status::uds_path_not_found});
  wait_channel_count(*engine, 0);
}

TEST_CASE("connect and handshake over tcp") {
  auto engine = make_engine();
  auto server = make_group(*engine);
  auto client = make_group(*engine);
  const Listener l = open_listener(*engine, *server);
  const Link link = handshake(*engine, *client, *server, l.address);
  // Channel numbers are local to the engine: three distinct channels.
  CHECK(link.client != link.server);
  CHECK(link.client != l.channel);
  CHECK(link.server != l.channel);
  CHECK(engine->channel_count() == 3);
  round_trip(*engine, *client, *server, link, "over tcp");
}

TEST_CASE("connect and handshake over uds") {
  if (auto why = tofu::test::uds_unsupported_reason()) TOFU_SKIP(*why);
  UdsPath uds;
  auto engine = make_engine();
  auto server = make_group(*engine);
  auto client = make_group(*engine);
  const Listener l = open_listener(*engine, *server, "uds|" + uds.path);
  const Link link = handshake(*engine, *client, *server, l.address);
  round_trip(*engine, *client, *server, link, std::string(60000, 'u'));
}

TEST_CASE("connect and handshake over tcp on the ipv6 loopback") {
  if (!ipv6_loopback_available()) TOFU_SKIP("this host cannot bind a TCP socket to ::1");
  auto engine = make_engine();
  auto server = make_group(*engine);
  auto client = make_group(*engine);
  const Listener l = open_listener(*engine, *server, "tcp|::1|0");
  CHECK(l.address == tcp_address(l.port, "::1"));
  const Link link = handshake(*engine, *client, *server, l.address);
  round_trip(*engine, *client, *server, link, "over ipv6");
}

TEST_CASE("connect between two engines") {
  auto server_engine = make_engine();
  auto client_engine = make_engine();
  auto server = make_group(*server_engine);
  auto client = make_group(*client_engine);
  const Listener l = open_listener(*server_engine, *server);
  const Link link = handshake(*client_engine, *client, *server, l.address);
  CHECK(server_engine->channel_count() == 2);
  CHECK(client_engine->channel_count() == 1);
  round_trip(*client_engine, *client, *server, link, "between engines");
}

TEST_CASE("connect to a tcp port nobody listens on fails with peer_disconnected or connect_failed") {
  // A bound socket that does not listen: connecting to its port is refused, and no other process
  // can take the port while the test runs.
  std::string error;
  RawSocket bound = RawSocket::bind_tcp(std::string(kLoopback), &error);
  INFO(error);
  REQUIRE(bound.valid());
  auto engine = make_engine();
  auto client = make_group(*engine);
  const Link link = start_connect(*engine, *client, tcp_address(bound.local_port()));
  MessagePtr back = receive(*client);
  INFO("returned HelloRequest: " << describe(*back));
  CHECK(back->header.opcode == OpCode::hello_request);
  CHECK(back->header.origin == Origin::engine);
  CHECK((back->header.status == Status::peer_disconnected || back->header.status == Status::connect_failed));
  CHECK(back->header.channel_number == link.client);
  CHECK(back->header.message_id == link.hello_id);
  expect_closed_signal(*client, link.client, {back->header.status});  // the same reason as the returned Hello
  // The channel is gone.
  wait_channel_count(*engine, 0);
  MessagePtr late = make_message(*engine, OpCode::request, link.client, "late");
  CHECK(client->post(late).status == Status::invalid_channel_number);
  CHECK(late);
}

TEST_CASE("connect to a missing uds path fails with uds_path_not_found") {
  if (auto why = tofu::test::uds_unsupported_reason()) TOFU_SKIP(*why);
  auto engine = make_engine();
  auto client = make_group(*engine);
  const Link link = start_connect(*engine, *client, "uds|" + tofu::test::temp_uds_path("nobody"));
  MessagePtr back = receive(*client);
  check_returned(*back, OpCode::hello_request, Status::uds_path_not_found, link.client);
  CHECK(back->header.message_id == link.hello_id);
  expect_closed_signal(*client, link.client, {Status::uds_path_not_found});
}

TEST_CASE("reconnect cycles over one listener") {
  auto engine = make_engine();
  auto server = make_group(*engine);
  auto client = make_group(*engine);
  const Listener l = open_listener(*engine, *server);
  for (int cycle = 0; cycle < 10; ++cycle) {
    INFO("cycle " << cycle);
    const Link link = handshake(*engine, *client, *server, l.address);
    round_trip(*engine, *client, *server, link, "cycle " + std::to_string(cycle));
    // Graceful close: ByeRequest from the client, ByeResponse from the server application.
    MessagePtr bye = make_message(*engine, OpCode::bye_request, link.client);
    post_ok(*client, bye);
    MessagePtr got = receive(*server);
    REQUIRE(got->header.opcode == OpCode::bye_request);
    got->header.opcode = OpCode::bye_response;
    post_ok(*server, got);
    expect_closed_signal(*server, link.server, {Status::channel_closed});
    MessagePtr answer = receive(*client);
    CHECK(answer->header.opcode == OpCode::bye_response);
    expect_closed_signal(*client, link.client, {Status::channel_closed});
  }
  wait_channel_count(*engine, 1);
}
