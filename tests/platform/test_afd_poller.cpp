// The afd Poller backend itself (not the engine on top of it): what the review of the backend
// against wepoll and mio found untested (../shared/reviews/afd-backend-vs-wepoll-mio.md, rows in
// the test names' comments). Each test drives win::AfdPoller directly and reads its counters.
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "platform/windows/afd_poller.hpp"
#include "win_sockets.hpp"

using namespace tofu::platform;
using namespace tofu::platform::win;
using namespace tofu::test::win;
using namespace std::chrono_literals;

namespace {

constexpr Interest kRead{true, false};
constexpr Interest kWrite{false, true};
constexpr Interest kReadWrite{true, true};
constexpr Interest kNothing{};  // reading paused, nothing to write: errors only

// A connected loopback pair: `client` (blocking) talks to `server` (the socket under test).
struct Pair {
  UniqueSocket listener, client, server;
};

Pair connected_pair() {
  Pair p;
  unsigned short port = 0;
  p.listener = listen_loopback(&port);
  p.client = connect_loopback(port);
  p.server = UniqueSocket(::accept(p.listener.get(), nullptr, nullptr));
  REQUIRE(p.server.valid());
  REQUIRE(set_nonblocking(p.server.get()).ok());
  return p;
}

std::unique_ptr<AfdPoller> make_afd_poller() {
  auto p = AfdPoller::create();
  REQUIRE(p.ok());
  return std::move(p).value();
}

NativeSocket native(const UniqueSocket& s) { return static_cast<NativeSocket>(s.get()); }

// One wait(); the events it reported.
std::vector<ReadyEvent> wait_once(AfdPoller& p, int timeout_ms, std::size_t room = 16) {
  std::vector<ReadyEvent> out(room);
  auto w = p.wait(out, timeout_ms);
  REQUIRE(w.ok());
  out.resize(w.value().count);
  return out;
}

// Waits (bounded) until an event for `key` is reported; returns it.
Readiness wait_for(AfdPoller& p, std::uint64_t key) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const ReadyEvent& e : wait_once(p, 200)) {
      if (e.key == key) return e.readiness;
    }
  }
  FAIL("no event for key " << key << " within 10 s");
  return {};
}

void send_byte(const UniqueSocket& s) { REQUIRE(::send(s.get(), "x", 1, 0) == 1); }

}  // namespace

// Row 1: a socket's own handle can be bound to a completion port only once while it is open.
TEST_CASE("afd poller: a removed socket can be added again, and to another poller", "[platform][afd][poller]") {
  auto poller = make_afd_poller();
  Pair pair = connected_pair();
  send_byte(pair.client);
  REQUIRE(poller->add(native(pair.server), kRead, 7).ok());
  CHECK(wait_for(*poller, 7).readable);
  REQUIRE(poller->remove(native(pair.server)).ok());

  const auto again = poller->add(native(pair.server), kRead, 8);
  INFO((again.ok() ? std::string() : again.error().message()));
  REQUIRE(again.ok());
  CHECK(wait_for(*poller, 8).readable);  // the byte is still unread: level semantics
  REQUIRE(poller->remove(native(pair.server)).ok());

  auto other = make_afd_poller();
  const auto moved = other->add(native(pair.server), kRead, 9);
  INFO((moved.ok() ? std::string() : moved.error().message()));
  REQUIRE(moved.ok());
  CHECK(wait_for(*other, 9).readable);
  REQUIRE(other->remove(native(pair.server)).ok());
}

// Row 7: only the poller's own polls may be read as AfdPollOps.
TEST_CASE("afd poller: packets someone else posts on its port are ignored", "[platform][afd][poller]") {
  auto poller = make_afd_poller();
  Pair pair = connected_pair();
  REQUIRE(poller->add(native(pair.server), kRead, 5).ok());
  CHECK(wait_once(*poller, 0).empty());  // armed, nothing to read yet
  auto api = nt_api();
  REQUIRE(api.ok());
  AfdPollOp idle;  // a real op that has no poll pending: not in flight, so not ours either
  const std::pair<ULONG_PTR, void*> foreign[] = {
      {0, reinterpret_cast<void*>(0x10)},            // the key a foreign poster most likely uses
      {kAfdPollKey, reinterpret_cast<void*>(0x10)},  // our poll key with a context that is no op
      {kAfdPollKey, nullptr},
      {kAfdPollKey, &idle},
      {0x1234, reinterpret_cast<void*>(0x20)},
  };
  for (const auto& [key, context] : foreign) {
    REQUIRE(api.value()->NtSetIoCompletion(poller->port_handle(), key, context, 0, 0) == 0);
  }
  const auto events = wait_once(*poller, 200);
  CHECK(events.empty());
  CHECK(poller->stats().foreign_completions == std::size(foreign));
  CHECK(poller->stats().completions == 0);
  // And the real poll is untouched: data arriving now is reported.
  send_byte(pair.client);
  CHECK(wait_for(*poller, 5).readable);
  REQUIRE(poller->remove(native(pair.server)).ok());
}

// Row 4: a poll issued under a wider interest completes after the interest shrank.
TEST_CASE("afd poller: a completion after the interest shrank reports only what is still wanted",
          "[platform][afd][poller]") {
  auto poller = make_afd_poller();
  Pair pair = connected_pair();
  REQUIRE(poller->add(native(pair.server), kRead, 3).ok());
  CHECK(wait_once(*poller, 0).empty());  // the read poll is now pending
  // Data and FIN: the pending read poll completes with RECEIVE|DISCONNECT...
  send_byte(pair.client);
  REQUIRE(::shutdown(pair.client.get(), SD_SEND) == 0);
  // Time for the completion to reach the port: nothing reports a queued completion without
  // dequeuing it, which is what this test must not do yet.
  std::this_thread::sleep_for(200ms);
  // ...but before it is dequeued, reading is paused (the engine's pool ran dry).
  REQUIRE(poller->modify(native(pair.server), kNothing, 3).ok());
  const auto events = wait_once(*poller, 500);
  CHECK(poller->stats().completions == 1);  // the completion did arrive...
  for (const ReadyEvent& e : events) {      // ...and neither data nor the peer's FIN was reported
    INFO("readable " << e.readiness.readable << " hangup " << e.readiness.hangup);
    CHECK_FALSE(e.readiness.any());
  }
  CHECK(events.empty());
  CHECK(wait_once(*poller, 200).empty());  // re-armed with errors only: still quiet
  // Reading resumes: the byte and then the FIN are still there (level semantics), nothing was lost.
  REQUIRE(poller->modify(native(pair.server), kRead, 3).ok());
  CHECK(wait_for(*poller, 3).readable);
  char byte = 0;
  REQUIRE(::recv(pair.server.get(), &byte, 1, 0) == 1);
  CHECK(wait_for(*poller, 3).hangup);
  REQUIRE(poller->remove(native(pair.server)).ok());
}

// Row 5: cancel only when the pending poll does not cover the new interest, and at most once.
TEST_CASE("afd poller: modify() cancels only a poll that does not cover the new interest, once",
          "[platform][afd][poller]") {
  auto poller = make_afd_poller();
  Pair pair = connected_pair();
  REQUIRE(poller->add(native(pair.server), kRead, 1).ok());
  CHECK(wait_once(*poller, 0).empty());
  REQUIRE(poller->stats().submits == 1);

  REQUIRE(poller->modify(native(pair.server), kNothing, 1).ok());  // a subset: the poll stays
  CHECK(poller->stats().cancels == 0);
  REQUIRE(poller->modify(native(pair.server), kRead, 1).ok());  // the same mask again
  CHECK(poller->stats().cancels == 0);
  REQUIRE(poller->modify(native(pair.server), kReadWrite, 1).ok());  // SEND is not covered: cancel
  CHECK(poller->stats().cancels == 1);
  REQUIRE(poller->modify(native(pair.server), kWrite, 1).ok());  // already being cancelled
  REQUIRE(poller->modify(native(pair.server), kReadWrite, 1).ok());
  CHECK(poller->stats().cancels == 1);

  // The cancelled completion re-arms with the interest now in force, which reports writable.
  const Readiness r = wait_for(*poller, 1);
  CHECK(r.writable);
  CHECK(poller->stats().cancels == 1);
  CHECK(poller->stats().submits == 2);
  REQUIRE(poller->remove(native(pair.server)).ok());
}

// Row 9: LOCAL_CLOSE means the handle is gone; its value may already name something else.
TEST_CASE("afd poller: a socket closed while registered is reported once and never polled again",
          "[platform][afd][poller]") {
  auto poller = make_afd_poller();
  Pair pair = connected_pair();
  const NativeSocket s = native(pair.server);
  REQUIRE(poller->add(s, kRead, 4).ok());
  CHECK(wait_once(*poller, 0).empty());
  pair.server.reset();  // misuse: closed without remove()
  CHECK(wait_for(*poller, 4).hangup);
  const auto submits = poller->stats().submits;
  CHECK(wait_once(*poller, 300).empty());
  CHECK(wait_once(*poller, 0).empty());
  CHECK(poller->stats().submits == submits);  // not re-armed on the dead handle value
  CHECK(poller->remove(s).ok());
}

// Row 11: an arm failure is an event too, and must not be lost when `out` has no room for it.
TEST_CASE("afd poller: arm failures are all reported even when the event array is full",
          "[platform][afd][poller]") {
  auto poller = make_afd_poller();
  Pair a = connected_pair();
  Pair b = connected_pair();
  const NativeSocket sa = native(a.server);
  const NativeSocket sb = native(b.server);
  REQUIRE(poller->add(sa, kRead, 1).ok());
  REQUIRE(poller->add(sb, kRead, 2).ok());
  a.server.reset();  // misuse again, the simplest way to make AFD refuse a poll
  b.server.reset();
  std::set<std::uint64_t> keys;
  for (int i = 0; i < 4 && keys.size() < 2; ++i) {
    for (const ReadyEvent& e : wait_once(*poller, 0, 1)) {  // room for one event per wait
      CHECK(e.readiness.error);
      keys.insert(e.key);
    }
  }
  CHECK(keys == std::set<std::uint64_t>{1, 2});
  CHECK(wait_once(*poller, 0).empty());  // each reported once, not retried until modify()
  CHECK(poller->remove(sa).ok());
  CHECK(poller->remove(sb).ok());
}

TEST_CASE("afd poller: sockets share AFD helper handles, 32 to a helper", "[platform][afd][poller]") {
  REQUIRE(ensure_winsock().ok());
  auto poller = make_afd_poller();
  CHECK(poller->helper_count() == 1);  // opened with the poller
  std::vector<UniqueSocket> sockets;
  for (int i = 0; i < 70; ++i) {
    sockets.emplace_back(::socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP));
    REQUIRE(sockets.back().valid());
    REQUIRE(poller->add(native(sockets.back()), kRead, static_cast<std::uint64_t>(i)).ok());
  }
  CHECK(poller->helper_count() == 3);
  CHECK(wait_once(*poller, 0, 128).empty());  // 70 polls pending on 3 helpers
  CHECK(poller->stats().submits == 70);
  for (const auto& s : sockets) REQUIRE(poller->remove(native(s)).ok());
  for (int i = 0; i < 50 && poller->stats().completions < 70; ++i) {
    CHECK(wait_once(*poller, 100, 128).empty());  // the 70 cancelled completions are drained
  }
  CHECK(poller->stats().completions == 70);
  CHECK(poller->helper_count() == 1);  // emptied helpers are closed, the first one is kept
}
