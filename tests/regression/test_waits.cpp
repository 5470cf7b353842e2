// The library's waits end (D-47). ChannelGroup::destroy() and Engine::shutdown() wait without a
// timeout, and the reactor sleeps without one while it has nothing to do; each test here names
// the wake-up such a wait depends on and fails (instead of hanging: must_return_within) when that
// wake-up is missing. D-47 lists the one-line removals tried and which test caught each.
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string_view>
#include <thread>

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "raw_peer.hpp"
#include "support/blocked_waiter.hpp"
#include "support/bounded_call.hpp"

using namespace tofu;
using namespace tofu::parity;
using namespace std::chrono_literals;
using tofu::test::BlockedWaiter;
using tofu::test::must_return_within;

namespace {

// An engine whose reactor sleeps `delay` before each command while `armed`, then, if `fail`,
// throws (the reactor fails). The delay makes sure the application thread already waits when
// the reactor gets to the command.
struct SlowReactor {
  std::atomic<bool> armed{false};
  std::atomic<bool> fail{false};
  std::chrono::milliseconds delay{300};
  std::unique_ptr<Engine> engine;
  std::shared_ptr<ChannelGroup> server;
  std::shared_ptr<ChannelGroup> client;
  Listener listener;
  Link link;

  SlowReactor() {
    EngineOptions options;
    options.fault_hook = [this](std::string_view point) {
      if (point != "dispatch" || !armed.load()) return;
      std::this_thread::sleep_for(delay);
      if (fail.load()) throw std::runtime_error("injected reactor failure");
    };
    engine = make_engine(options);
    server = make_group(*engine);
    client = make_group(*engine);
    listener = open_listener(*engine, *server);
    link = handshake(*engine, *client, *server, listener.address);
  }
};

}  // namespace

// Wake-up: the reactor's dispatch() marks the group destroyed, and mark_destroyed() notifies the
// waiting destroy().
TEST_CASE("waits: destroy() returns when the reactor dispatches it late", "[regression]") {
  SlowReactor r;
  r.armed = true;
  must_return_within(kWait, "ChannelGroup::destroy()", [&] { r.client->destroy(); });
  r.armed = false;
  // It did what it promises: the channel is closed and reported, then the group's queue ends.
  expect_closed_signal(*r.client, r.link.client, {Status::channel_closed});
  expect_shutdown_end(*r.client);
  expect_closed_signal(*r.server, r.link.server, {Status::peer_disconnected});
}

// Wake-up: the failing reactor marks the group destroyed twice over, for the destroy command it
// was dispatching and for every live group (fail_everything()).
TEST_CASE("waits: destroy() returns when the reactor fails while dispatching it", "[regression]") {
  SlowReactor r;
  r.fail = true;
  r.armed = true;
  must_return_within(kWait, "ChannelGroup::destroy() on a failing reactor", [&] { r.client->destroy(); });
  expect_closed_signal(*r.client, r.link.client, {Status::processing_failed});
  expect_shutdown_end(*r.client);
  MessagePtr m = r.engine->get();
  CHECK_FALSE(m);  // the engine is stopped
}

// Wake-up: shutdown() wakes the sleeping reactor after setting its stop flag.
TEST_CASE("waits: shutdown() returns while the reactor sleeps with nothing to do", "[regression]") {
  auto engine = make_engine();
  auto group = make_group(*engine);
  const Listener listener = open_listener(*engine, *group);  // a round trip: the reactor ran, then slept
  must_return_within(kWait, "Engine::shutdown()", [&] { engine->shutdown(); });
  expect_closed_signal(*group, listener.channel, {Status::shutdown_started});
  expect_shutdown_end(*group);
}

// wait_receive() with a timeout too large for "now + timeout" (here milliseconds::max(), "wait
// for ever") used to return at once with ReceiveEnd::timeout.
TEST_CASE("waits: wait_receive with milliseconds::max() waits for the message", "[regression]") {
  auto engine = make_engine();
  auto group = make_group(*engine);
  MessagePtr m;
  ReceiveEnd end = ReceiveEnd::shutdown;
  // Woken only once the receiver is inside the wait (asleep, where the OS says so).
  BlockedWaiter receiver([&] { m = group->wait_receive(std::chrono::milliseconds::max(), &end); });
  if (BlockedWaiter::can_confirm_asleep()) CHECK(receiver.asleep_confirmed());
  (void)group->update_receiver();
  REQUIRE(receiver.returned_within(kWait));
  REQUIRE(m);
  CHECK(end == ReceiveEnd::message);
  CHECK(m->header.status == Status::receiver_update);
}

// The same for the other two waits of the API: a message coming back to an exhausted pool, and
// room in a full send queue.
TEST_CASE("waits: Engine::get and post with milliseconds::max() wait for what they wait for", "[regression]") {
  auto engine = make_engine(pool_options(1, 1));
  MessagePtr only = engine->get();
  REQUIRE(only);
  MessagePtr got;
  BlockedWaiter getter([&] { got = engine->get(std::chrono::milliseconds::max()); });
  if (BlockedWaiter::can_confirm_asleep()) CHECK(getter.asleep_confirmed());
  only.reset();
  REQUIRE(getter.returned_within(kWait));
  CHECK(got);

  // post() into a send queue full because the peer stopped reading waits until it reads again.
  EngineOptions o = pool_options(16, 64);
  o.flow.max_queued_per_channel = 2;
  auto sender = make_engine(o);
  auto client = make_group(*sender);
  StalledPeer peer = connect_to_stalled_peer(*sender, *client);
  const std::string body = pattern(kMaxBodyLen, 7);
  MessagePtr m;
  PostResult r;
  for (int i = 0; i < 2000 && r.status == Status::success; ++i) {  // until stuck for 200 ms
    m = make_message(*sender, OpCode::request, peer.link.client, body);
    r = client->post(m, 200ms);
  }
  REQUIRE(r.status == Status::send_queue_full);
  REQUIRE(m);
  BlockedWaiter poster([&] { r = client->post(m, std::chrono::milliseconds::max()); });
  if (BlockedWaiter::can_confirm_asleep()) CHECK(poster.asleep_confirmed());
  std::thread reader([&] {
    std::size_t discarded = 0;
    (void)peer.connection.wait_closed(3000ms, &discarded);
  });
  REQUIRE(poster.returned_within(kWait));
  reader.join();
  CHECK(r.status == Status::success);
  CHECK_FALSE(m);
}
