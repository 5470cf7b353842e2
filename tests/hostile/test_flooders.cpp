// Peers that flood and never read (spec 9.1): one of them holds at most its channel's share of the
// pool, every other channel keeps being served, and when it leaves (reset or FIN) everything it
// held comes back.
#include <catch2/catch.hpp>

#include <limits>

#include "hostile.hpp"
#include "support/blocked_waiter.hpp"
#include "raw_peer.hpp"

using namespace tofu;
using namespace tofu::parity;
using namespace tofu::hostile;
using namespace std::chrono_literals;

namespace {

// Posts copies of `body` to a stalled peer's channel with post(.., 200 ms) until one is refused. A
// refusal only says the queue is full at that instant (the reactor may not have written yet), so
// the queue is full once a post found no room for 200 ms. Returns why the last post was refused and
// the refused message (which the caller keeps).
struct Filled {
  Status status = Status::success;
  MessagePtr refused;
};
Filled fill_send_queue(Engine& engine, ChannelGroup& client, ChannelNumber channel, const std::string& body) {
  Filled f;
  for (std::size_t accepted = 0;; ++accepted) {
    REQUIRE(accepted < 2000);
    MessagePtr m = make_message(engine, OpCode::request, channel, body);
    const PostResult r = client.post(m, 200ms);
    if (r.status != Status::success) {
      f.status = r.status;
      f.refused = std::move(m);
      return f;
    }
    CHECK_FALSE(m);
  }
}

void flood_then_leave(bool reset) {
  EchoBed bed;  // the DEFAULT pool (16..64) and flow options

  Flooder flood(bed.listener.port, 10'000, 1024);
  const auto during = bed.serve(100);
  // The engine read every request although the flooder never read one answer.
  REQUIRE(flood.join(kWait));
  CHECK(flood.sent() == 10'000);
  const auto stuck = bed.serve(100);
  // Its answers past the cap were refused (send_queue_full) and dropped by the application.
  CHECK(bed.echo->dropped_full() > 0);
  if (reset) {
    flood.reset();
  } else {
    flood.close();
  }
  const auto back = bed.back_to_baseline();
  const auto after = bed.serve(100);
  WARN("hello + 100 echoes: " << during.count() << " us while flooding, " << stuck.count()
                              << " us with the flooder stuck, " << after.count() << " us after; back at baseline "
                              << back.count() << " ms after the flooder " << (reset ? "reset" : "closed")
                              << "; answers dropped (send_queue_full): " << bed.echo->dropped_full());
}

}  // namespace

TEST_CASE("hostile: a peer that sends 10,000 1 KiB requests and never reads, then resets, stops no other channel",
          "[hostile]") {
  flood_then_leave(true);
}

TEST_CASE("hostile: a peer that sends 10,000 1 KiB requests and never reads, then sends FIN, stops no other channel",
          "[hostile]") {
  flood_then_leave(false);
}

// A flood that does not end keeps the pool empty for as long as it lasts. A channel that connects
// meanwhile must still be read and given messages (D-94): without a poll between the resumes a
// poster makes, and with the flooder always resumed first, its HelloRequest waited for the flood's
// end (1.1 s of a 1 s flood under Wine); here that end never comes, so the session would time out.
TEST_CASE("hostile: a channel that connects during an endless flood is served while the flood goes on",
          "[hostile]") {
  EchoBed bed;  // the DEFAULT pool and flow options

  Flooder flood(bed.listener.port, std::numeric_limits<std::size_t>::max(), 1024);
  REQUIRE(flood.connected());
  // The flood is under way: more requests sent than the pool holds.
  REQUIRE(flood.wait_sent(4 * 64, kWait));
  // The flood goes on for as long as these take (it stops only when told): a session that waits
  // for its end times out.
  (void)bed.serve(20);
  (void)bed.serve(20);  // a second connection, same story
  flood.stop();
  REQUIRE(flood.join(kWait));
  flood.reset();
  (void)bed.back_to_baseline();
  INFO("echo server: " << bed.echo->error());
  CHECK(bed.echo->error().empty());  // nothing went wrong as the flooder left either
}

TEST_CASE("hostile: post() past the per-channel cap is refused at once with send_queue_full and the caller keeps the message",
          "[hostile]") {
  EngineOptions o;
  o.flow.max_queued_per_channel = 3;
  auto engine = make_engine(o);
  auto client = make_group(*engine);
  StalledPeer peer = connect_to_stalled_peer(*engine, *client);  // reads the handshake, then nothing
  const std::string body = pattern(kMaxBodyLen, 3);
  // Far more than the socket buffers take.
  CHECK(fill_send_queue(*engine, *client, peer.link.client, body).status == Status::send_queue_full);
  // Now an immediate post is refused at once, and the caller keeps the message untouched.
  MessagePtr extra = make_message(*engine, OpCode::request, peer.link.client, body);
  const PostResult refused = client->post(extra);
  CHECK(refused.status == Status::send_queue_full);
  REQUIRE(extra);
  CHECK(extra->body_text() == body);
  CHECK(extra->header.channel_number == peer.link.client);
  CHECK(extra->header.message_id == 0);
  // The peer leaves: every queued message comes back with a status, then the close.
  peer.connection.abort();
  std::size_t returned = 0;
  for (;;) {
    MessagePtr m = receive(*client);
    if (m->header.opcode == OpCode::signal && m->header.status == Status::channel_closed) {
      check_closed_signal(*m, peer.link.client, {Status::peer_disconnected, Status::send_failed});
      break;
    }
    INFO(describe(*m));
    CHECK(m->header.origin == Origin::engine);
    CHECK(m->header.opcode == OpCode::request);
    ++returned;
  }
  CHECK(returned == 3);  // exactly the capped queue: the rest had gone into the socket before it stalled
  // Room again: a post to the closed channel is refused for what it is, not for room.
  CHECK(client->post(extra, 100ms).status == Status::invalid_channel_number);
}

TEST_CASE("hostile: post() past the per-channel byte cap is refused with send_queue_full, and a message larger than the cap still goes alone",
          "[hostile]") {
  // Frames of 65,551 bytes count 1,025 units of 64 bytes. A post is admitted while the channel holds
  // fewer units than the cap: 256 KiB (4,096 units) admits a fourth frame and refuses a fifth; 1 KiB
  // admits one frame, larger than the cap, into an empty queue and nothing after it (D-100).
  const auto [cap, expected] = GENERATE(table<std::size_t, std::size_t>({{256 * 1024, 4}, {1024, 1}}));
  INFO("max_queued_bytes_per_channel " << cap);
  EngineOptions o;
  o.flow.max_queued_per_channel = 1000;  // the byte cap is the one that binds
  o.flow.max_queued_bytes_per_channel = cap;
  auto engine = make_engine(o);
  auto client = make_group(*engine);
  StalledPeer peer = connect_to_stalled_peer(*engine, *client);
  const std::string body = pattern(kMaxBodyLen, 5);
  const Filled filled = fill_send_queue(*engine, *client, peer.link.client, body);
  CHECK(filled.status == Status::send_queue_full);
  REQUIRE(filled.refused);  // the caller keeps a refused message
  // A small message is refused too: the cap counts bytes already queued, whatever the next size.
  MessagePtr small = make_message(*engine, OpCode::request, peer.link.client, "x");
  CHECK(client->post(small).status == Status::send_queue_full);
  REQUIRE(small);
  peer.connection.abort();
  std::size_t returned = 0;
  for (;;) {
    MessagePtr m = receive(*client);
    if (m->header.opcode == OpCode::signal && m->header.status == Status::channel_closed) break;
    INFO(describe(*m));
    CHECK(m->header.origin == Origin::engine);
    CHECK(m->body_size() == kMaxBodyLen);
    ++returned;
  }
  CHECK(returned == expected);  // exactly what the byte cap admits: the rest went into the socket before it stalled
}

TEST_CASE("hostile: post with wait_for_room succeeds as soon as the peer reads again", "[hostile]") {
  EngineOptions o;
  o.flow.max_queued_per_channel = 2;
  auto engine = make_engine(o);
  auto client = make_group(*engine);
  StalledPeer peer = connect_to_stalled_peer(*engine, *client);
  const std::string body = pattern(kMaxBodyLen, 4);
  (void)fill_send_queue(*engine, *client, peer.link.client, body);
  MessagePtr m = make_message(*engine, OpCode::request, peer.link.client, "after the wait");
  PostResult r;
  // The post waits for room (asleep, where the OS says so) before the peer reads anything.
  test::BlockedWaiter poster([&] { r = client->post(m, kWait); });
  if (test::BlockedWaiter::can_confirm_asleep()) CHECK(poster.asleep_confirmed());
  const auto drain_start = std::chrono::steady_clock::now();
  std::thread reader([&] {
    std::size_t discarded = 0;
    (void)peer.connection.wait_closed(3000ms, &discarded);
  });
  REQUIRE(poster.returned_within(kWait));
  reader.join();
  CHECK(r.status == Status::success);
  CHECK_FALSE(m);
  CHECK(poster.returned() >= drain_start);  // it waited for room until the peer read again
}
