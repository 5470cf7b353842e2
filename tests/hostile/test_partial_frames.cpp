// Peers that stall mid-frame (spec 9.3): an incomplete frame holds no pool message, so a thousand
// of them starve nobody; when they leave, nothing of theirs stays.
#include <catch2/catch.hpp>

#include "hostile.hpp"
#include "support/skip.hpp"

using namespace tofu;
using namespace tofu::parity;
using namespace tofu::hostile;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kPeers = 1000;

enum class Stall { header, body, mixed_with_flooder };

// 7 bytes of a HelloRequest's binary header.
std::vector<std::byte> partial_header(std::uint16_t port, std::uint64_t id) {
  auto f = hello_frame(port, id);
  f.resize(7);
  return f;
}

// A whole HelloRequest, then a Request announcing 1 KiB of body of which 500 bytes come.
std::vector<std::byte> partial_body(std::uint16_t port, std::uint64_t id) {
  auto f = hello_frame(port, id);
  auto r = request_frame(id + 1, 1024);
  f.insert(f.end(), r.begin(), r.begin() + 16 + 500);
  return f;
}

void crowd(Stall kind) {
  if (const std::string why = ensure_fd_limit(4 * kPeers + 256); !why.empty()) test::skip(why);
  EngineOptions o;  // the DEFAULT pool; timeouts long enough not to fire while the crowd waits
  o.flow.handshake_timeout = 300s;
  o.flow.frame_timeout = 300s;
  EchoBed bed(o);

  std::vector<RawSocket> peers;
  peers.reserve(kPeers);
  for (std::size_t i = 0; i < kPeers; ++i) {
    peers.push_back(connect_raw(bed.listener.port));
    const bool header = kind == Stall::header || (kind == Stall::mixed_with_flooder && i % 2 == 0);
    REQUIRE(peers.back().send_all(header ? partial_header(bed.listener.port, 1000 + i) : partial_body(bed.listener.port, 1000 + i)));
  }
  // The crowd is in place once every peer is accepted and every whole HelloRequest answered: from
  // then on they only stall. (Measured before that, a session also waits behind up to 1,000
  // accepts and HelloResponses, the crowd's arrival rather than its presence.)
  wait_channel_count(*bed.server_engine, bed.base.channels + kPeers);
  std::size_t bodies = 0;
  for (std::size_t i = 0; i < kPeers; ++i) {
    if (kind == Stall::body || (kind == Stall::mixed_with_flooder && i % 2 == 1)) ++bodies;
  }
  REQUIRE(bed.echo->wait_hellos(bodies, kWait));
  REQUIRE(bed.echo->hellos() == bodies);
  std::unique_ptr<Flooder> flood;  // the flood runs while the session below runs
  if (kind == Stall::mixed_with_flooder) flood = std::make_unique<Flooder>(bed.listener.port, 10'000, 1024);
  if (flood) wait_channel_count(*bed.server_engine, bed.base.channels + kPeers + 1);
  const auto during = bed.serve(100);
  if (flood) REQUIRE(flood->join(kWait));
  // Incomplete frames hold no pool message: once the application has taken what was delivered,
  // only the flooder's capped queue (a quarter of the pool) may still be in use, however many
  // stalled peers stay connected. (Without D-31, 64 stalled bodies would hold the whole pool.)
  const auto settle = std::chrono::steady_clock::now() + kWait;
  PoolStats mid = bed.server_engine->pool_stats();
  while (mid.in_use > mid.max / 4 && std::chrono::steady_clock::now() < settle) {
    std::this_thread::sleep_for(5ms);  // the echo application drains what was delivered
    mid = bed.server_engine->pool_stats();
  }
  CHECK(mid.in_use <= mid.max / 4);
  for (std::size_t i = 0; i < peers.size(); ++i) {
    if (i % 2 == 0) {
      peers[i].abort();
    } else {
      peers[i].close();
    }
  }
  if (flood) flood->reset();
  const auto back = bed.back_to_baseline();
  const auto after = bed.serve(100);
  WARN(kPeers << " stalled peers" << (flood ? " + a flooder" : "") << ": hello + 100 echoes took " << during.count()
              << " us while they were connected, " << after.count() << " us after; back at baseline " << back.count()
              << " ms after they left; pool in use while connected " << mid.in_use << "/" << mid.max);
}

}  // namespace

TEST_CASE("hostile: 1,000 peers each holding a partial frame header stop no other channel and leave no trace",
          "[hostile]") {
  crowd(Stall::header);
}

TEST_CASE("hostile: 1,000 peers each holding a partial frame body stop no other channel and leave no trace",
          "[hostile]") {
  crowd(Stall::body);
}

TEST_CASE("hostile: 1,000 partial-frame peers and a non-reading flooder at once stop no other channel",
          "[hostile]") {
  crowd(Stall::mixed_with_flooder);
}
