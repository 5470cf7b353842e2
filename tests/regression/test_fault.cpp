// Fault injection: peers that die mid-frame or send garbage, a slow reader against a fast writer,
// pools exhausted on both ends, shutdown with thousands of queued messages, 10k connect cycles.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "process_stats.hpp"
#include "raw_peer.hpp"
#include "wire.hpp"

using namespace tofu;
using namespace tofu::parity;
using namespace std::chrono_literals;

namespace {

struct Setup {
  std::unique_ptr<Engine> engine;
  std::shared_ptr<ChannelGroup> server;
  std::shared_ptr<ChannelGroup> client;
  Listener listener;
  explicit Setup(EngineOptions o = {}) : engine(make_engine(o)) {
    server = make_group(*engine);
    client = make_group(*engine);
    listener = open_listener(*engine, *server);
  }
  void check_fresh_client_served() {
    const Link fresh = handshake(*engine, *client, *server, listener.address);
    round_trip(*engine, *client, *server, fresh, "fresh client served");
  }
};

// Waits for the channel_closed Signal of `ch`; frames the garbage happened to form are allowed before it.
std::string wait_closed_reason(ChannelGroup& g, ChannelNumber ch) {
  for (;;) {
    MessagePtr m = receive(g);
    if (m->header.opcode == OpCode::signal && m->header.origin == Origin::engine &&
        m->header.status == Status::channel_closed) {
      REQUIRE(m->header.channel_number == ch);
      return reason_of(*m);
    }
    INFO("before the close: " << describe(*m));
    REQUIRE(m->header.channel_number == ch);
  }
}

std::uint64_t seq_of(const Message& m) { return std::stoull(std::string(m.body_text().substr(0, 20))); }
std::string seq_body(std::uint64_t i, std::size_t size) {
  std::string s = std::to_string(i);
  s.insert(0, 20 - s.size(), '0');
  return s + pattern(size, i).substr(0, size - std::min<std::size_t>(size, 20));
}

}  // namespace

TEST_CASE("fault: a peer killed mid-header or mid-body closes only its channel", "[fault]") {
  Setup s;
  const auto frame = wire::encode(wire::Frame{1, wire::kRequest, 0, 42, "k:v\r\n", pattern(3000)});
  const std::size_t cuts[] = {1, 8, 15, 16, 18, 21, 22, 500, frame.size() - 1};
  for (std::size_t cut : cuts) {
    for (bool reset : {false, true}) {
      RawClient raw = raw_hello(*s.server, s.listener.port);
      REQUIRE(raw.socket.send_all(std::span<const std::byte>(frame.data(), cut)));
      if (reset) {
        raw.socket.abort();
      } else {
        raw.socket.close();
      }
      INFO("cut after " << cut << " bytes, reset=" << reset);
      CHECK(wait_closed_reason(*s.server, raw.server_channel) == "peer_disconnected");
    }
  }
  wait_channel_count(*s.engine, 1);
  s.check_fresh_client_served();
}

TEST_CASE("fault: garbage and oversized lengths from a raw socket", "[fault]") {
  Setup s;
  {  // Declares 65535 + 65535 bytes, sends 1000, then closes.
    RawClient raw = raw_hello(*s.server, s.listener.port);
    auto bytes = wire::header_bytes(1, wire::kRequest, 0, 7, 65535, 65535);
    const auto filler = wire::bytes_of(std::string(1000, 'a'));
    bytes.insert(bytes.end(), filler.begin(), filler.end());
    REQUIRE(raw.socket.send_all(bytes));
    raw.socket.close();
    CHECK(wait_closed_reason(*s.server, raw.server_channel) == "peer_disconnected");
  }
  {  // Opcode 15.
    RawClient raw = raw_hello(*s.server, s.listener.port);
    REQUIRE(raw.socket.send_all(wire::header_bytes(1, 15, 0, 7, 0, 0)));
    CHECK(wait_closed_reason(*s.server, raw.server_channel) == "invalid_op_code");
    CHECK(raw.socket.wait_closed(kWait));
  }
  std::mt19937 rng(20261127);
  for (int round = 0; round < 30; ++round) {  // random bytes, then close
    RawClient raw = raw_hello(*s.server, s.listener.port, 0x100 + static_cast<std::uint64_t>(round));
    std::vector<std::byte> junk(16 + rng() % 4096);
    for (auto& b : junk) b = static_cast<std::byte>(rng() & 0xFF);
    REQUIRE(raw.socket.send_all(junk));
    raw.socket.close();
    const std::string reason = wait_closed_reason(*s.server, raw.server_channel);
    INFO("round " << round << " closed with " << reason);
    CHECK_FALSE(reason.empty());
  }
  wait_channel_count(*s.engine, 1);
  s.check_fresh_client_served();
}

TEST_CASE("fault: a slow reader keeps memory bounded by the pool and loses nothing", "[fault]") {
  // Two engines, so the writer's and the reader's pools are separate.
  auto reader_engine = make_engine(pool_options(8, 32));
  auto writer_engine = make_engine(pool_options(8, 64));
  auto reader = make_group(*reader_engine);
  auto writer = make_group(*writer_engine);
  const Listener l = open_listener(*reader_engine, *reader);
  const Link link = handshake(*writer_engine, *writer, *reader, l.address);
  constexpr std::uint64_t kCount = 4000;

  std::atomic<bool> done{false};
  std::atomic<std::size_t> max_reader{0};
  std::atomic<std::size_t> max_writer{0};
  std::thread monitor([&] {
    while (!done.load()) {
      max_reader.store(std::max(max_reader.load(), reader_engine->pool_stats().in_use));
      max_writer.store(std::max(max_writer.load(), writer_engine->pool_stats().in_use));
      std::this_thread::sleep_for(2ms);  // sampling period
    }
  });
  std::atomic<std::uint64_t> posted{0};
  std::thread fast_writer([&] {
    for (std::uint64_t i = 0; i < kCount;) {
      MessagePtr m = writer_engine->get(kWait);  // backpressure: waits for a message to come back
      if (!m) break;
      m->header = make_header(OpCode::signal);
      m->header.channel_number = link.client;
      m->set_body(seq_body(i, 16384));
      // The channel's queue is capped too (a quarter of the pool): wait for room.
      if (const Status st = writer->post(m, kWait).status; st != Status::success) {
        std::fprintf(stderr, "writer: post %llu: %s\n", static_cast<unsigned long long>(i), std::string(to_string(st)).c_str());
        break;
      }
      posted.store(++i);
    }
  });
  // The test is about time: the application does not read for 2 s while the writer runs.
  std::this_thread::sleep_for(2000ms);
  const std::uint64_t posted_while_stalled = posted.load();
  std::uint64_t next = 0;
  std::size_t pool_signals = 0;
  while (next < kCount) {
    MessagePtr m = receive(*reader);
    if (m->header.origin == Origin::engine) {
      INFO(describe(*m));
      REQUIRE(m->header.status == Status::pool_empty);
      ++pool_signals;
      continue;
    }
    REQUIRE(m->header.opcode == OpCode::signal);
    REQUIRE(seq_of(*m) == next);
    CHECK(m->body_text() == seq_body(next, 16384));
    ++next;
  }
  fast_writer.join();
  done.store(true);
  monitor.join();
  const PoolStats rs = reader_engine->pool_stats();
  const PoolStats ws = writer_engine->pool_stats();
  WARN("slow reader: posted " << posted_while_stalled << " while stalled; pool_empty signals " << pool_signals
                              << "; reader in_use max " << max_reader.load() << "/" << rs.max << " high_water "
                              << rs.high_water << "; writer in_use max " << max_writer.load() << "/" << ws.max);
  CHECK(posted_while_stalled < kCount);  // the writer really was held back
  CHECK(max_reader.load() <= rs.max);
  CHECK(rs.high_water <= rs.max);
  CHECK(max_writer.load() <= ws.max);
  CHECK(ws.high_water <= ws.max);
  CHECK(pool_signals >= 1);
}

TEST_CASE("fault: pools exhausted on both ends recover without loss", "[fault]") {
  auto a = make_engine(pool_options(4, 8));
  EngineOptions bo = pool_options(4, 8);
  bo.flow.max_queued_per_channel = 8;  // this test is about B's whole pool stuck in one channel
  auto b = make_engine(bo);
  auto ga = make_group(*a);
  auto gb = make_group(*b);
  const Listener l = open_listener(*a, *ga);
  const Link link = handshake(*b, *gb, *ga, l.address);  // b is the client
  // A's application holds every message of A's pool: A cannot read.
  std::vector<MessagePtr> held;
  const auto grab_deadline = std::chrono::steady_clock::now() + kWait;
  while (held.size() < 8 && std::chrono::steady_clock::now() < grab_deadline) {
    if (MessagePtr m = a->get()) held.push_back(std::move(m));  // handshake messages still returning
  }
  REQUIRE(held.size() == 8);
  constexpr std::uint64_t kCount = 300;
  std::atomic<std::uint64_t> posted{0};
  std::thread writer([&] {  // B writes until its own pool is full of unsent messages, then waits
    for (std::uint64_t i = 0; i < kCount;) {
      MessagePtr m = b->get(kWait);  // backpressure: waits for a message to come back
      if (!m) break;
      m->header = make_header(OpCode::request);
      m->header.channel_number = link.client;
      m->set_body(seq_body(i, 60000));
      if (gb->post(m).status != Status::success) break;
      posted.store(++i);
    }
  });
  // A reports the pause once; B's pool fills with messages it cannot send.
  MessagePtr sig = receive(*ga);
  INFO(describe(*sig));
  CHECK(sig->header.status == Status::pool_empty);
  sig.reset();
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (b->pool_stats().in_use < 8 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  CHECK(b->pool_stats().in_use == 8);
  // A posts one of its held messages to B while both are exhausted.
  MessagePtr mine = std::move(held.back());
  held.pop_back();
  mine->header = make_header(OpCode::signal);
  mine->header.channel_number = link.server;
  mine->set_body("from A while exhausted");
  post_ok(*ga, mine);
  held.clear();  // A resumes
  std::uint64_t next = 0;
  while (next < kCount) {
    MessagePtr m = receive(*ga);
    if (m->header.origin == Origin::engine) {
      REQUIRE(m->header.status == Status::pool_empty);
      continue;
    }
    REQUIRE(seq_of(*m) == next);
    ++next;
  }
  writer.join();
  bool got_signal = false;
  while (!got_signal) {
    MessagePtr m = receive(*gb);
    if (m->header.origin == Origin::engine) {
      REQUIRE(m->header.status == Status::pool_empty);
      continue;
    }
    CHECK(m->body_text() == "from A while exhausted");
    got_signal = true;
  }
  CHECK(a->pool_stats().high_water <= 8);
  CHECK(b->pool_stats().high_water <= 8);
}

TEST_CASE("fault: shutdown with thousands of queued messages returns each with a status", "[fault]") {
  EngineOptions o = pool_options(16, 3200);
  o.flow.max_queued_per_channel = 3200;  // thousands queued on one channel is the point here
  auto engine = make_engine(o);
  auto client = make_group(*engine);
  StalledPeer peer = connect_to_stalled_peer(*engine, *client);
  constexpr std::size_t kCount = 3000;
  std::set<MessageId> sent;
  const std::string body = pattern(8000, 2);
  for (std::size_t i = 0; i < kCount; ++i) {
    MessagePtr m = make_message(*engine, OpCode::request, peer.link.client, body);
    sent.insert(post_ok(*client, m).message_id);
  }
  engine->shutdown();
  std::set<MessageId> returned;
  std::size_t closed_signals = 0;
  for (;;) {
    ReceiveEnd end = ReceiveEnd::message;
    MessagePtr m = client->wait_receive(kWait, &end);
    if (!m) {
      REQUIRE(end == ReceiveEnd::shutdown);
      break;
    }
    if (m->header.opcode == OpCode::signal) {
      CHECK(m->header.status == Status::channel_closed);
      ++closed_signals;
      continue;
    }
    INFO(describe(*m));
    CHECK(m->header.opcode == OpCode::request);
    CHECK(m->header.origin == Origin::engine);
    CHECK(m->header.status == Status::shutdown_started);
    CHECK(returned.insert(m->header.message_id).second);
  }
  // What reached the wire: whole frames the peer can read now (a cut last frame was returned).
  std::set<MessageId> received;
  while (auto f = wire::read_frame(peer.connection, kWait)) {
    CHECK(received.insert(f->message_id).second);
  }
  WARN("shutdown: sent " << sent.size() << " = received " << received.size() << " + returned " << returned.size());
  CHECK(closed_signals == 1);
  CHECK(sent.size() == received.size() + returned.size());
  CHECK(returned.size() > kCount / 2);
  for (MessageId id : received) CHECK(returned.count(id) == 0);
  for (MessageId id : received) CHECK(sent.count(id) == 1);
  for (MessageId id : returned) CHECK(sent.count(id) == 1);
}

TEST_CASE("fault: 10k connect and disconnect cycles keep fds and RSS flat", "[fault]") {
  const std::size_t cycles = regression::churn_cycles(10000, 1000);
  Setup s(pool_options(16, 256));
  EchoServer echo(s.server);
  const std::size_t baseline = s.engine->channel_count();
  auto cycle = [&](std::size_t i) {
    const Link l = start_connect(*s.engine, *s.client, s.listener.address);
    expect_hello_response(*s.client, l);
    if (i % 3 == 0) {
      MessagePtr bye = make_message(*s.engine, OpCode::bye_request, l.client);
      post_ok(*s.client, bye);
      MessagePtr r = receive(*s.client);
      REQUIRE(r->header.opcode == OpCode::bye_response);
    } else {
      MessagePtr bye = make_message(*s.engine, OpCode::bye_signal, l.client);
      post_ok(*s.client, bye);
      receive(*s.client);  // the ByeSignal back
    }
    MessagePtr closed = receive(*s.client);
    REQUIRE(closed->header.status == Status::channel_closed);
    if (i % 5 == 0) {  // and a raw peer that connects and resets
      RawSocket r = RawSocket::connect_tcp(std::string(kLoopback), s.listener.port);
      REQUIRE(r.valid());
      r.abort();
    }
  };
  for (std::size_t i = 0; i < 100; ++i) cycle(i);  // warm-up: allocator and pool settle
  wait_channel_count(*s.engine, baseline);
  const long fds_before = regression::open_handle_count();
  const long long rss_before = regression::resident_bytes();
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < cycles; ++i) cycle(i);
  wait_channel_count(*s.engine, baseline);
  // The server closes its side when it reads EOF: wait until every accepted channel is gone.
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (regression::open_handle_count() > fds_before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  const long fds_after = regression::open_handle_count();
  const long long rss_after = regression::resident_bytes();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  WARN(cycles << " cycles in " << ms << " ms; open fds/handles before " << fds_before << " after " << fds_after
              << "; RSS before " << rss_before / 1024 << " KiB after " << rss_after / 1024 << " KiB (growth "
              << (rss_after - rss_before) / 1024 << " KiB); channels " << s.engine->channel_count());
  CHECK(echo.error().empty());
  CHECK(fds_after <= fds_before);
  if (rss_before > 0) CHECK(rss_after - rss_before < 16LL * 1024 * 1024);
  const PoolStats ps = s.engine->pool_stats();
  CHECK(ps.high_water <= ps.max);
}
