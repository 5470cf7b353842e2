// Fault injection: peers that die mid-frame or send garbage, a slow reader against a fast writer,
// pools exhausted on both ends, shutdown with thousands of queued messages, connect and disconnect churn (10000 cycles, 1000 under Wine).
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
#include "support/process_stats.hpp"
#include "support/skip.hpp"
#include "raw_peer.hpp"
#include "tofu/address.hpp"
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
      expect_closed_signal(*s.server, raw.server_channel, {Status::peer_disconnected});  // nothing before it
    }
  }
  wait_channel_count(*s.engine, 1);
  s.check_fresh_client_served();
}

// Lengths cannot be oversized on the wire: both length fields are u16 and 65535 is legal (the
// decoder's own limits are tested in core/test_codec). So this sends (1) a frame announcing the
// maximum 65535 + 65535 bytes cut short by FIN, and (2) 32 rounds of random junk behind a header
// that is malformed in one of four ways, with the socket kept OPEN: only the decoder's validation
// can close those channels, and each must close at once with that malformation's reason.
TEST_CASE("fault: a maximum-length frame cut short, and 32 rounds of malformed random frames", "[fault]") {
  Setup s;
  {  // Declares 65535 + 65535 bytes, sends 1000, then closes.
    RawClient raw = raw_hello(*s.server, s.listener.port);
    auto bytes = wire::header_bytes(1, wire::kRequest, 0, 7, 65535, 65535);
    const auto filler = wire::bytes_of(std::string(1000, 'a'));
    bytes.insert(bytes.end(), filler.begin(), filler.end());
    REQUIRE(raw.socket.send_all(bytes));
    raw.socket.close();
    expect_closed_signal(*s.server, raw.server_channel, {Status::peer_disconnected});
  }
  std::mt19937 rng(20261127);
  auto random_bytes = [&](std::size_t n, bool letters_only) {
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(letters_only ? 'a' + rng() % 26 : rng() & 0xFF);
    return out;
  };
  for (int round = 0; round < 32; ++round) {
    RawClient raw = raw_hello(*s.server, s.listener.port, 0x100 + static_cast<std::uint64_t>(round));
    const std::string body = random_bytes(rng() % 4096, false);
    std::string headers;
    std::uint8_t proto = wire::kRequest;
    std::uint8_t status = 0;
    Status reason = Status::invalid_message;
    std::string kind;
    switch (round % 4) {
      case 0:
        proto = static_cast<std::uint8_t>(10 + rng() % 6);  // opcodes 10..15 do not exist
        reason = Status::invalid_op_code;
        kind = "opcode " + std::to_string(proto);
        break;
      case 1:
        status = static_cast<std::uint8_t>(1 + rng() % 255);
        kind = "status " + std::to_string(status);
        break;
      case 2:
        proto = wire::kSignal | 0x10;  // origin = engine
        kind = "engine origin";
        break;
      default:
        headers = random_bytes(1 + rng() % 200, true) + "\r\n";  // a header line without ':'
        kind = "text header line without a colon";
        break;
    }
    const std::uint64_t id = rng();
    auto bytes = wire::header_bytes(1, proto, status, id, static_cast<std::uint16_t>(headers.size()),
                                    static_cast<std::uint16_t>(body.size()));
    const auto rest = wire::bytes_of(headers + body);
    bytes.insert(bytes.end(), rest.begin(), rest.end());
    REQUIRE(raw.socket.send_all(bytes));
    INFO("round " << round << ": " << kind << ", " << body.size() << " random body bytes; socket kept open");
    expect_closed_signal(*s.server, raw.server_channel, {reason});
    CHECK(raw.socket.wait_closed(kWait));  // the engine closed the connection itself
  }
  wait_channel_count(*s.engine, 1);
  s.check_fresh_client_served();
}

// A writer offers 4000 x 16 KiB (64 MiB) while the reader's application does not read for 2 s. The
// pools cap what the engines may hold as messages; the heap (sampled every 2 ms) shows that no
// other buffer took the overflow instead: it may grow by the two pools' messages and a constant.
TEST_CASE("fault: a slow reader keeps heap growth within the pools and loses nothing", "[fault]") {
  const tofu::test::HeapUsage heap_start = tofu::test::heap_in_use();
  if (!heap_start.known()) TOFU_SKIP("heap bytes in use cannot be measured on this host");
  // Two engines, so the writer's and the reader's pools are separate.
  // The reader's whole pool may wait for its application (by default one channel may fill only a
  // quarter of it, D-95): this test is about the pool, so it lets one channel exhaust it.
  EngineOptions reader_options = pool_options(8, 32);
  reader_options.flow.max_untaken_per_channel = 32;
  auto reader_engine = make_engine(reader_options);
  auto writer_engine = make_engine(pool_options(8, 64));
  auto reader = make_group(*reader_engine);
  auto writer = make_group(*writer_engine);
  const Listener l = open_listener(*reader_engine, *reader);
  const Link link = handshake(*writer_engine, *writer, *reader, l.address);
  constexpr std::uint64_t kCount = 4000;

  std::atomic<bool> done{false};
  const long long heap_before = tofu::test::heap_in_use().bytes;
  std::atomic<long long> heap_peak{heap_before};
  std::thread monitor([&] {
    while (!done.load()) {
      heap_peak.store(std::max(heap_peak.load(), tofu::test::heap_in_use().bytes));
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
  // What the pools may legitimately hold (each message up to its 16 KiB body plus bookkeeping); the
  // reader's read buffer, which grows to 1 MiB at its first large-frame read (these 16 KiB frames
  // are large, D-102); what the paused channel may keep of one such read (at most 1 MiB, spec 9.3);
  // plus a constant for socket state, decoder buffers and the allocator. Unbounded buffering of the
  // 64 MiB on offer would exceed it many times over.
  const long long growth = heap_peak.load() - heap_before;
  constexpr long long kLargeRead = 1024 * 1024;
  const long long allowed = static_cast<long long>(rs.max + ws.max) * (16384 + 1024) + 2 * kLargeRead + 2 * 1024 * 1024;
  WARN("slow reader: posted " << posted_while_stalled << " of " << kCount << " while stalled; pool_empty signals "
                              << pool_signals << "; heap (" << heap_start.source << ") peak growth " << growth / 1024
                              << " KiB, allowed " << allowed / 1024 << " KiB; pool high water reader " << rs.high_water
                              << "/" << rs.max << ", writer " << ws.high_water << "/" << ws.max);
  CHECK(posted_while_stalled < kCount);  // the writer really was held back
  CHECK(pool_signals >= 1);              // the reader engine paused reading and said so
  CHECK(growth <= allowed);
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
  // B is stuck once the sockets' buffers are full: its 8 messages stay queued and the writer waits
  // in get(). Until then written messages come back and the writer goes on, so in_use touching 8
  // once proves nothing (under Wine, whose buffers are larger, it dropped back to 1 in 1 of 100
  // stress runs): wait until in_use is 8 and nothing was posted for 200 ms.
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  std::uint64_t seen = posted.load();
  auto unchanged_since = std::chrono::steady_clock::now();
  bool stuck = false;
  while (!stuck && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    const std::uint64_t p = posted.load();
    if (p != seen || b->pool_stats().in_use < 8) {
      seen = p;
      unchanged_since = std::chrono::steady_clock::now();
    } else {
      stuck = std::chrono::steady_clock::now() - unchanged_since >= 200ms;
    }
  }
  INFO("posted " << posted.load() << " of " << kCount << ", B's pool in use " << b->pool_stats().in_use << " of 8");
  CHECK(stuck);
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
  o.flow.max_queued_bytes_per_channel = std::size_t{48} << 20;  // ... of large messages
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

#define TOFU_STR2(x) #x
#define TOFU_STR(x) TOFU_STR2(x)

// Leaks per connection: every cycle opens a client channel and the accepted one (one socket each,
// plus a poll registration), then closes both. After a warm-up (the pools and the allocator settle),
// the open handles must come back to their count and the heap may grow only by a small constant:
// a leaked socket, Event or channel state per cycle shows as thousands of handles or hundreds of KiB.
TEST_CASE("fault: " TOFU_STR(TOFU_CHURN_CYCLES) " connect and disconnect cycles leave handles and heap at baseline",
          "[fault]") {
  constexpr std::size_t kCycles = TOFU_CHURN_CYCLES;
  if (!tofu::test::handle_count().known()) TOFU_SKIP("open handles cannot be counted on this host");
  if (!tofu::test::heap_in_use().known()) TOFU_SKIP("heap bytes in use cannot be measured on this host");
  // Default timeouts: the timer entries of closed channels must not accumulate either (the heap is
  // compacted once stale entries outnumber live ones; without that: +512 KiB over 10000 cycles).
  EngineOptions options = pool_options(16, 256);
  Setup s(options);
  EchoServer echo(s.server);
  const std::size_t baseline = s.engine->channel_count();
  auto cycle = [&](std::size_t i) {
    INFO("cycle " << i);
    const Link l = start_connect(*s.engine, *s.client, s.listener.address);
    {
      INFO("waiting for the HelloResponse on channel " << l.client);
      expect_hello_response(*s.client, l);
    }
    if (i % 3 == 0) {
      MessagePtr bye = make_message(*s.engine, OpCode::bye_request, l.client);
      post_ok(*s.client, bye);
      INFO("waiting for the ByeResponse");
      MessagePtr r = receive(*s.client);
      REQUIRE(r->header.opcode == OpCode::bye_response);
    } else {
      MessagePtr bye = make_message(*s.engine, OpCode::bye_signal, l.client);
      post_ok(*s.client, bye);
      INFO("waiting for the ByeSignal back");
      receive(*s.client);
    }
    INFO("waiting for the close Signal");
    MessagePtr closed = receive(*s.client);
    REQUIRE(closed->header.status == Status::channel_closed);
    if (i % 5 == 0) {  // and a raw peer that connects and resets
      RawSocket r = RawSocket::connect_tcp(std::string(kLoopback), s.listener.port);
      REQUIRE(r.valid());
      r.abort();
    }
  };
  // Every channel gone, the application holding no message: the state to compare.
  auto settle = [&] {
    wait_channel_count(*s.engine, baseline);
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (s.engine->pool_stats().in_use != 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    REQUIRE(s.engine->pool_stats().in_use == 0);
  };
  // Warm-up: pools, allocator and tables settle; four threads cycling at once on their own groups
  // make the engine's locks meet contention, which is when a lock creates its wait object.
  {
    std::vector<std::shared_ptr<ChannelGroup>> groups;
    for (int t = 0; t < 4; ++t) groups.push_back(make_group(*s.engine));
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (auto& g : groups) {
      threads.emplace_back([&, g] {
        for (int i = 0; i < 50; ++i) {
          MessagePtr hello = s.engine->get();
          if (hello) {
            hello->header = make_header(OpCode::hello_request);
            (void)hello->text_headers.add(kConnectToHeader, s.listener.address);
          }
          if (!hello || g->post(hello).status != Status::success) {
            failures.fetch_add(1);
            return;
          }
          MessagePtr m = g->wait_receive(kWait);
          if (!m || m->header.opcode != OpCode::hello_response) {
            failures.fetch_add(1);
            return;
          }
          const ChannelNumber ch = m->header.channel_number;
          m->reset();
          m->header = make_header(OpCode::bye_signal);
          m->header.channel_number = ch;
          if (g->post(m).status != Status::success) {
            failures.fetch_add(1);
            return;
          }
          for (int k = 0; k < 2; ++k) {  // the ByeSignal back, then the close Signal
            if (!g->wait_receive(kWait)) failures.fetch_add(1);
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    REQUIRE(failures.load() == 0);
  }
  for (std::size_t i = 0; i < 200; ++i) cycle(i);
  settle();
  const tofu::test::HandleCount handles_before = tofu::test::handle_count();
  const tofu::test::HeapUsage heap_before = tofu::test::heap_in_use();
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < kCycles / 2; ++i) cycle(i);
  settle();
  const tofu::test::HandleCount handles_half = tofu::test::handle_count();
  const tofu::test::HeapUsage heap_half = tofu::test::heap_in_use();
  for (std::size_t i = kCycles / 2; i < kCycles; ++i) cycle(i);
  settle();
  // The OS may release a closed socket's handle a moment after close returns: look again briefly.
  // Wait objects are judged on the second half: the engine's long-lived locks (pools, mailbox,
  // groups) each get their Event the first time two threads meet there, which the first half gives
  // every chance to happen; one per connection would still add hundreds.
  auto growth_text = [&](const tofu::test::HandleCount& after) {
    tofu::test::HandleCount base = handles_half;
    base.handles = handles_before.handles;
    return tofu::test::handle_growth(base, after);
  };
  tofu::test::HandleCount handles_after = tofu::test::handle_count();
  for (int retry = 0; retry < 20 && !growth_text(handles_after).empty(); ++retry) {
    std::this_thread::sleep_for(50ms);
    handles_after = tofu::test::handle_count();
  }
  const tofu::test::HeapUsage heap_after = tofu::test::heap_in_use();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  const long long growth = heap_after.bytes - heap_before.bytes;
  WARN(kCycles << " cycles in " << ms << " ms; handles before " << tofu::test::to_string(handles_before)
               << ", half-way " << tofu::test::to_string(handles_half) << ", after "
               << tofu::test::to_string(handles_after) << "; heap (" << heap_before.source << ") before "
               << heap_before.bytes / 1024 << " KiB, half-way " << heap_half.bytes / 1024 << " KiB, after "
               << heap_after.bytes / 1024 << " KiB (growth " << growth << " bytes)");
  CHECK(echo.error().empty());
  INFO("handles: " << growth_text(handles_after));
  CHECK(growth_text(handles_after).empty());
  // A constant allowance (hash tables that grew once, the allocator's own bookkeeping, commit
  // charge rounded to pages on Windows), far below a leak of one channel's state per cycle; the
  // second half, after everything grew once, must be flatter still.
  constexpr long long kHeapAllowance = 256 * 1024;
  constexpr long long kSecondHalfAllowance = 64 * 1024;
  CHECK(growth <= kHeapAllowance);
  CHECK(heap_after.bytes - heap_half.bytes <= kSecondHalfAllowance);
  CHECK(echo.hellos() >= kCycles);
}
