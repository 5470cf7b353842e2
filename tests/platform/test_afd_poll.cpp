#include <catch2/catch.hpp>

#include <array>

#include "platform/windows/afd_poll.hpp"
#include "support/host.hpp"
#include "support/skip.hpp"
#include "win_sockets.hpp"

#include <afunix.h>
#include <string>

using namespace tofu::platform;
using namespace tofu::platform::win;
using namespace tofu::test::win;

namespace {
constexpr ULONG_PTR kAfdKey = 0;

struct Armed {
  IoCompletionPort port;
  SOCKET base;
};

Armed associate(SOCKET s) {
  auto port = IoCompletionPort::create();
  REQUIRE(port.ok());
  auto base = base_handle(s);
  REQUIRE(base.ok());
  REQUIRE(port->associate(reinterpret_cast<HANDLE>(base.value()), kAfdKey).ok());
  return Armed{std::move(port).value(), base.value()};
}

std::size_t dequeue(IoCompletionPort& port, std::array<Completion, 4>& out, int timeout_ms) {
  auto n = port.dequeue(out, timeout_ms);
  REQUIRE(n.ok());
  return n.value();
}
}  // namespace

TEST_CASE("AFD event bits translate to readiness", "[platform][afd]") {
  CHECK(afd::to_readiness(afd::kAccept).readable);
  CHECK(afd::to_readiness(afd::kReceive).readable);
  CHECK(afd::to_readiness(afd::kSend).writable);
  const Readiness fin = afd::to_readiness(afd::kDisconnect);
  CHECK((fin.readable && fin.hangup && !fin.error));
  CHECK(afd::to_readiness(afd::kConnectFail).error);
  CHECK(afd::to_readiness(afd::kLocalClose).hangup);
  CHECK(afd::events_to_string(afd::kReceive | afd::kSend) == "RECEIVE|SEND");
  CHECK((afd::events_for(Interest{}) & afd::kReceive) == 0);
  CHECK((afd::events_for(Interest{true, false}) & (afd::kReceive | afd::kAccept)) ==
        (afd::kReceive | afd::kAccept));
}

TEST_CASE("a poll for ACCEPT completes when a client connects, with its ApcContext", "[platform][afd]") {
  unsigned short port_no = 0;
  auto listener = listen_loopback(&port_no);
  auto armed = associate(listener.get());
  int owner = 0;
  AfdPollOp op(&owner);
  REQUIRE(op.submit(armed.base, afd::kAccept).ok());
  std::array<Completion, 4> out{};
  CHECK(dequeue(armed.port, out, 50) == 0);  // nothing yet
  auto client = connect_loopback(port_no);
  REQUIRE(dequeue(armed.port, out, 5000) == 1);
  REQUIRE(AfdPollOp::from(out[0]) == &op);
  CHECK(op.owner() == &owner);
  const auto outcome = op.complete();
  CHECK(outcome.status == kStatusSuccess);
  CHECK((outcome.events & afd::kAccept) != 0);
  CHECK_FALSE(op.pending());
}

TEST_CASE("a poll for RECEIVE completes when data arrives and not before", "[platform][afd]") {
  unsigned short port_no = 0;
  auto listener = listen_loopback(&port_no);
  auto client = connect_loopback(port_no);
  UniqueSocket server(::accept(listener.get(), nullptr, nullptr));
  REQUIRE(server.valid());
  auto armed = associate(server.get());
  AfdPollOp op;
  REQUIRE(op.submit(armed.base, afd::kReceive).ok());
  std::array<Completion, 4> out{};
  CHECK(dequeue(armed.port, out, 100) == 0);
  REQUIRE(::send(client.get(), "ping", 4, 0) == 4);
  REQUIRE(dequeue(armed.port, out, 5000) == 1);
  REQUIRE(AfdPollOp::from(out[0]) == &op);
  const auto outcome = op.complete();
  CHECK(outcome.status == kStatusSuccess);
  CHECK((outcome.events & afd::kReceive) != 0);
}

TEST_CASE("cancel yields one cancelled completion and no later one", "[platform][afd]") {
  unsigned short port_no = 0;
  auto listener = listen_loopback(&port_no);
  auto armed = associate(listener.get());
  AfdPollOp op;
  REQUIRE(op.submit(armed.base, afd::kAccept).ok());
  REQUIRE(op.cancel().ok());
  std::array<Completion, 4> out{};
  REQUIRE(dequeue(armed.port, out, 5000) == 1);
  REQUIRE(AfdPollOp::from(out[0]) == &op);
  const auto outcome = op.complete();
  CHECK(outcome.cancelled());
  CHECK(outcome.events == 0);
  // A client connecting now must not produce a second completion for the cancelled poll.
  auto client = connect_loopback(port_no);
  CHECK(dequeue(armed.port, out, 200) == 0);
}

TEST_CASE("cancelling a poll that already completed is harmless", "[platform][afd]") {
  unsigned short port_no = 0;
  auto listener = listen_loopback(&port_no);
  auto armed = associate(listener.get());
  AfdPollOp op;
  auto client = connect_loopback(port_no);  // ACCEPT is already true: the poll completes at once
  REQUIRE(op.submit(armed.base, afd::kAccept).ok());
  std::array<Completion, 4> out{};
  REQUIRE(dequeue(armed.port, out, 5000) == 1);
  REQUIRE(op.cancel().ok());  // still marked pending until complete(); NOT_FOUND is fine
  const auto outcome = op.complete();
  CHECK(outcome.status == kStatusSuccess);
  CHECK((outcome.events & afd::kAccept) != 0);
  CHECK(dequeue(armed.port, out, 100) == 0);
}

TEST_CASE("closing a socket with a poll pending completes the poll exactly once", "[platform][afd]") {
  unsigned short port_no = 0;
  auto listener = listen_loopback(&port_no);
  auto armed = associate(listener.get());
  AfdPollOp op;
  REQUIRE(op.submit(armed.base, afd::events_for(Interest{true, false})).ok());
  listener.reset();  // closesocket with the poll in flight
  std::array<Completion, 4> out{};
  REQUIRE(dequeue(armed.port, out, 5000) == 1);
  REQUIRE(AfdPollOp::from(out[0]) == &op);
  const auto outcome = op.complete();
  // Windows reports LOCAL_CLOSE (status success); Wine may instead complete it as cancelled.
  // Either way the kernel is done with the op: exactly one completion, then silence.
  INFO("status " << std::hex << outcome.status << " events " << afd::events_to_string(outcome.events));
  CHECK((outcome.cancelled() || (outcome.events & afd::kLocalClose) != 0 || outcome.status != 0));
  CHECK(dequeue(armed.port, out, 200) == 0);
}

TEST_CASE("a poll for ACCEPT on an AF_UNIX listener completes when a client connects", "[platform][afd][uds]") {
  REQUIRE(ensure_winsock().ok());
  if (auto why = tofu::test::uds_unsupported_reason()) TOFU_SKIP(*why);
  const std::string path = tofu::test::temp_uds_path("afd");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  REQUIRE(path.size() < sizeof addr.sun_path);
  path.copy(addr.sun_path, path.size());
  ::DeleteFileA(path.c_str());
  UniqueSocket listener(::socket(AF_UNIX, SOCK_STREAM, 0));
  REQUIRE(listener.valid());
  REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener.get(), SOMAXCONN) == 0);
  auto armed = associate(listener.get());
  AfdPollOp op;
  REQUIRE(op.submit(armed.base, afd::kAccept).ok());
  std::array<Completion, 4> out{};
  CHECK(dequeue(armed.port, out, 50) == 0);
  UniqueSocket client(::socket(AF_UNIX, SOCK_STREAM, 0));
  REQUIRE(client.valid());
  REQUIRE(::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(dequeue(armed.port, out, 5000) == 1);
  REQUIRE(AfdPollOp::from(out[0]) == &op);
  CHECK((op.complete().events & afd::kAccept) != 0);
  ::DeleteFileA(path.c_str());
}
