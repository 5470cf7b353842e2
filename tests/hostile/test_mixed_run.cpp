// One long run (60 s; 20 s in the sanitizer presets; TOFU_HOSTILE_MIX_SECONDS overrides): hostile peers of every kind
// come and go beside 100 well-behaved channels. At the end every request the well-behaved client
// posted is either answered (byte-exact, in order per channel) or handed back with a status, and
// the server is back at its baseline.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <random>

#include "hostile.hpp"
#include "support/skip.hpp"
#include "wire.hpp"

using namespace tofu;
using namespace tofu::parity;
using namespace tofu::hostile;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kChannels = 100;
constexpr std::size_t kWindow = 4;  // requests in flight per channel

#ifndef TOFU_HOSTILE_MIX_DEFAULT_SECONDS
#define TOFU_HOSTILE_MIX_DEFAULT_SECONDS 60
#endif

// The build's length (CMake TOFU_HOSTILE_MIX_SECONDS: 60, 20 under the sanitizers); the
// environment variable of the same name overrides it.
std::chrono::seconds run_length() {
  if (const char* s = std::getenv("TOFU_HOSTILE_MIX_SECONDS")) return std::chrono::seconds(std::atoi(s));
  return std::chrono::seconds(TOFU_HOSTILE_MIX_DEFAULT_SECONDS);
}

// Comes and goes until `stop`: a different kind of hostile peer each round.
// Runs on its own thread: no Catch2 assertion here (Catch2 v2 is not thread-safe); what it could
// not do is counted in `failures` and checked by the test.
void hostile_crowd(std::uint16_t port, const std::atomic<bool>& stop, std::atomic<std::size_t>& rounds,
                   std::atomic<std::size_t>& failures) {
  std::minstd_rand rng(7);
  for (std::size_t round = 0; !stop.load(); ++round) {
    switch (round % 6) {
      case 0: {  // a flooder that never reads, then leaves (reset or FIN)
        Flooder f(port, 2000, 1024);
        if (!f.connected() || !f.join(kWait) || f.sent() != 2000) failures.fetch_add(1);
        if (round % 12 == 0) {
          f.reset();
        } else {
          f.close();
        }
        break;
      }
      case 1:
      case 2: {  // 50 peers stalled mid-header or mid-body for a while
        std::vector<RawSocket> peers;
        for (int i = 0; i < 50; ++i) {
          peers.push_back(try_connect_raw(port));
          auto bytes = hello_frame(port, 10 + static_cast<std::uint64_t>(i));
          if (round % 6 == 2) {
            const auto r = request_frame(99, 1024);
            bytes.insert(bytes.end(), r.begin(), r.begin() + 300);
          } else {
            bytes.resize(9);
          }
          (void)peers.back().send_all(bytes);
        }
        std::this_thread::sleep_for(300ms);  // how long they stall is the input
        for (std::size_t i = 0; i < peers.size(); ++i) {
          if (i % 2 == 0) peers[i].abort();
        }
        break;
      }
      case 3: {  // protocol violations after a handshake
        RawSocket p = try_connect_raw(port);
        (void)p.send_all(hello_frame(port, 5));
        wire::Frame bad;
        bad.channel = 1;
        bad.message_id = 6;
        const std::uint8_t kinds[] = {wire::kHelloRequest, wire::kWelcomeRequest, wire::kRequest | 0x80,
                                      wire::kResponse /* id 0 */, wire::kByeRequest | 0x20};
        bad.proto = kinds[rng() % 5];
        if (bad.proto == wire::kResponse) bad.message_id = 0;
        if (bad.proto == wire::kHelloRequest) bad.text_headers = "~connect_to:tcp|127.0.0.1|1\r\n";
        (void)p.send_all(wire::encode(bad));
        (void)p.wait_closed(kWait);
        break;
      }
      case 4: {  // garbage
        RawSocket p = try_connect_raw(port);
        std::vector<std::byte> junk(200);
        for (auto& b : junk) b = static_cast<std::byte>(rng());
        (void)p.send_all(junk);
        (void)p.wait_closed(2000ms);
        break;
      }
      case 5: {  // silent: the handshake timeout (1 s here) closes it
        RawSocket p = try_connect_raw(port);
        (void)p.wait_closed(kWait);
        break;
      }
    }
    rounds.fetch_add(1);
  }
}

}  // namespace

TEST_CASE("hostile: a long run of hostile peers beside 100 well-behaved channels accounts for every message",
          "[hostile][long]") {
  if (const std::string why = ensure_fd_limit(1024); !why.empty()) test::skip(why);
  EngineOptions so;  // the DEFAULT pool; short timeouts so they fire during the run
  so.flow.handshake_timeout = 1s;
  so.flow.frame_timeout = 1s;
  so.flow.send_timeout = 2s;
  auto server_engine = make_engine(so);
  auto server = make_group(*server_engine);
  const Listener l = open_listener(*server_engine, *server);
  EchoServer echo(server, /*hostile_peers=*/true);
  auto client_engine = make_engine(pool_options(64, 4 * kChannels * kWindow));
  auto client = make_group(*client_engine);
  const Baseline base = snapshot(*server_engine);
  std::vector<Link> links;
  for (std::size_t i = 0; i < kChannels; ++i) links.push_back(start_connect(*client_engine, *client, l.address));
  std::map<ChannelNumber, std::size_t> index;
  for (std::size_t i = 0; i < kChannels; ++i) index[links[i].client] = i;
  for (std::size_t seen = 0; seen < kChannels;) {
    MessagePtr m = receive(*client);
    INFO(describe(*m));
    REQUIRE(m->header.opcode == OpCode::hello_response);
    REQUIRE(m->header.status == Status::success);
    ++seen;
  }

  std::atomic<bool> stop{false};
  std::atomic<std::size_t> rounds{0};
  std::atomic<std::size_t> crowd_failures{0};
  std::thread crowd([&] { hostile_crowd(l.port, stop, rounds, crowd_failures); });
  struct Joiner {  // a failed REQUIRE below must still stop and join the crowd
    std::atomic<bool>& stop;
    std::thread& t;
    ~Joiner() {
      stop.store(true);
      if (t.joinable()) t.join();
    }
  } joiner{stop, crowd};

  // Traffic: each channel keeps kWindow requests in flight; the body says channel and sequence.
  struct Flow {
    std::uint64_t next_seq = 0;      // next request to post
    std::uint64_t next_answer = 0;   // next response expected (order per channel)
    std::size_t in_flight = 0;
  };
  std::vector<Flow> flows(kChannels);
  std::size_t sent = 0;
  std::size_t received = 0;
  std::size_t returned = 0;
  const auto body_of = [](std::size_t ch, std::uint64_t seq) {
    return std::to_string(ch) + ":" + std::to_string(seq) + ":" + pattern(40 + (seq % 200), seq);
  };
  const auto end = std::chrono::steady_clock::now() + run_length();
  bool posting = true;
  while (posting || sent != received + returned) {
    if (posting && std::chrono::steady_clock::now() >= end) posting = false;
    if (posting) {
      for (std::size_t i = 0; i < kChannels; ++i) {
        Flow& f = flows[i];
        while (f.in_flight < kWindow) {
          MessagePtr m = client_engine->get(kWait);
          REQUIRE(m);
          m->header = make_header(OpCode::request);
          m->header.channel_number = links[i].client;
          m->set_body(body_of(i, f.next_seq));
          const PostResult r = client->post(m, kWait);
          INFO("post on channel " << links[i].client << ": " << to_string(r.status));
          REQUIRE(r.status == Status::success);
          ++f.next_seq;
          ++f.in_flight;
          ++sent;
        }
      }
    }
    MessagePtr m = client->wait_receive(posting ? 5ms : kWait);
    if (!m) {
      REQUIRE(posting);  // after the run every answer must arrive within the bound
      continue;
    }
    INFO(describe(*m));
    REQUIRE(index.contains(m->header.channel_number));
    const std::size_t i = index[m->header.channel_number];
    Flow& f = flows[i];
    if (m->header.origin == Origin::engine) {
      // A well-behaved channel is never closed by the engine: nothing may come back with a status.
      CHECK(m->header.opcode == OpCode::request);
      ++returned;
      --f.in_flight;
      continue;
    }
    REQUIRE(m->header.opcode == OpCode::response);
    REQUIRE(m->body_text() == body_of(i, f.next_answer));
    ++f.next_answer;
    --f.in_flight;
    ++received;
  }
  stop.store(true);
  crowd.join();

  CHECK(sent == received + returned);
  CHECK(returned == 0);
  std::size_t least = SIZE_MAX;
  for (const Flow& f : flows) least = std::min<std::size_t>(least, f.next_answer);
  // Traffic really flowed on every channel all along (a few per second at the very least).
  CHECK(least >= static_cast<std::size_t>(run_length().count()));
  for (const Link& link : links) {
    MessagePtr bye = make_message(*client_engine, OpCode::bye_signal, link.client);
    post_ok(*client, bye);
  }
  for (std::size_t closes = 0; closes < kChannels;) {
    MessagePtr m = receive(*client);
    if (m->header.opcode == OpCode::signal && m->header.status == Status::channel_closed) ++closes;
  }
  const auto back = wait_baseline(*server_engine, base);
  INFO("echo server: " << echo.error());
  CHECK(echo.error().empty());
  CHECK(rounds.load() >= 6);  // every kind of hostile peer came at least once
  CHECK(crowd_failures.load() == 0);  // every flooder was read to its end although it never read
  WARN("mixed run " << run_length().count() << " s: " << sent << " requests on " << kChannels
                    << " channels, all answered (least per channel " << least << "); " << rounds.load()
                    << " hostile rounds; answers dropped for non-readers " << echo.dropped_full()
                    << "; baseline back " << back.count() << " ms after the last close");
}
