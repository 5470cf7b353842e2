#include <catch2/catch.hpp>

#include <array>

#include "platform/windows/afd_device.hpp"
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
  CHECK((outcome.cancelled() || (outcome.status == kStatusSuccess && (outcome.events & afd::kLocalClose) != 0)));
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

// Row 3 of ../shared/reviews/afd-backend-vs-wepoll-mio.md: with METHOD_BUFFERED only
// IoStatus.Information bytes come back, so a poll that reports no handle still holds the mask it
// asked for. A zero timeout provokes exactly that (Wine 8: STATUS_SUCCESS, NumberOfHandles 0).
TEST_CASE("a poll that reports no handle reports no events", "[platform][afd]") {
  unsigned short port_no = 0;
  auto listener = listen_loopback(&port_no);
  auto port = IoCompletionPort::create();
  REQUIRE(port.ok());
  auto device = AfdDevice::open(port.value(), 5);
  REQUIRE(device.ok());
  auto base = base_handle(listener.get());
  REQUIRE(base.ok());
  AfdPollOp op;
  // Nothing to accept and no error: nothing is true, and the poll may not wait.
  REQUIRE(op.submit(device->handle(), base.value(), afd::kAccept | afd::events_for(Interest{}), 0).ok());
  std::array<Completion, 4> out{};
  REQUIRE(dequeue(port.value(), out, 5000) == 1);
  REQUIRE(AfdPollOp::from(out[0]) == &op);
  const auto outcome = op.complete();
  INFO("status " << std::hex << outcome.status << " events " << afd::events_to_string(outcome.events));
  CHECK(outcome.events == 0);
}

TEST_CASE("a poll issued on an AFD helper completes for the socket it names, and cancels through the helper",
          "[platform][afd]") {
  unsigned short port_no = 0;
  auto listener = listen_loopback(&port_no);
  auto port = IoCompletionPort::create();
  REQUIRE(port.ok());
  auto device = AfdDevice::open(port.value(), 9);
  REQUIRE(device.ok());
  auto base = base_handle(listener.get());
  REQUIRE(base.ok());
  AfdPollOp op;
  REQUIRE(op.submit(device->handle(), base.value(), afd::kAccept).ok());
  std::array<Completion, 4> out{};
  CHECK(dequeue(port.value(), out, 50) == 0);
  REQUIRE(op.cancel().ok());
  REQUIRE(dequeue(port.value(), out, 5000) == 1);
  CHECK(out[0].key == 9);
  CHECK(op.complete().cancelled());
  REQUIRE(op.submit(device->handle(), base.value(), afd::kAccept).ok());
  auto client = connect_loopback(port_no);
  REQUIRE(dequeue(port.value(), out, 5000) == 1);
  REQUIRE(AfdPollOp::from(out[0]) == &op);
  CHECK((op.complete().events & afd::kAccept) != 0);
  // The listener was never bound to the port: it can still be bound elsewhere.
  auto other = IoCompletionPort::create();
  REQUIRE(other.ok());
  CHECK(other->associate(reinterpret_cast<HANDLE>(base.value()), kAfdKey).ok());
}

// Row 8: nobody waits on the helper handle itself, so its completions must not signal it.
TEST_CASE("an AFD helper does not signal its handle on completion", "[platform][afd]") {
  auto port = IoCompletionPort::create();
  REQUIRE(port.ok());
  auto device = AfdDevice::open(port.value(), 9);
  REQUIRE(device.ok());
  using QueryInformationFile = LONG(NTAPI*)(HANDLE, IoStatusBlock*, void*, ULONG, ULONG);
  const auto query = reinterpret_cast<QueryInformationFile>(
      reinterpret_cast<void*>(GetProcAddress(GetModuleHandleA("ntdll.dll"), "NtQueryInformationFile")));
  REQUIRE(query != nullptr);
  constexpr ULONG kFileIoCompletionNotificationInformation = 41;
  ULONG flags = 0;
  IoStatusBlock iosb{};
  REQUIRE(query(device->handle(), &iosb, &flags, sizeof flags, kFileIoCompletionNotificationInformation) == 0);
  CHECK((flags & FILE_SKIP_SET_EVENT_ON_HANDLE) != 0);
  CHECK((flags & FILE_SKIP_COMPLETION_PORT_ON_SUCCESS) == 0);  // D-13: one packet per submit
}
