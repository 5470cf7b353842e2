// Soak (issue G): a random mix of traffic, graceful and local closes, reconnects, slow-reader pauses
// and misbehaving raw peers across up to 100 channels, for --seconds N (default 300). Progress every
// 10 s on stderr. At the end every channel still open answers one last request, then every channel
// is closed with a ByeRequest, and the run is judged (each line printed PASS or FAIL):
//   - traffic really flowed: at least kMinResponsesPerChannel verified responses on every channel
//     the soak closed during the run (it closes only such channels), at least kMinBusyChannels of
//     them, and responses at a minimum rate over the whole run;
//   - every response is the echo of its request (body byte-exact) and arrives in order on its channel;
//     every request reaches the server intact;
//   - accounting, per connection: requests posted = received by the server application + handed
//     back with a status. One exception: a local close (ByeSignal) while responses are still unread
//     makes the kernel reset the connection (RST), and the server's kernel may then drop requests
//     it had received but the server engine had not read yet; on such a connection at most the
//     requests unanswered at the ByeSignal may be missing. Never more, never one counted twice;
//   - no channel closed for a reason the soak did not cause, no unexpected engine report or post failure;
//   - afterwards both engines are back at their baseline: client channels 0, server channels 1 (the
//     listener), pool in_use 0 on both.
// Each channel keeps at most kWindow requests unanswered. Exit 0 when every line passes, 1 if not.
//   soak [--seconds N] [--backend poll|epoll|afd|best] [--seed S]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "raw_socket.hpp"
#include "tofu/address.hpp"
#include "tofu/engine.hpp"
#include "wire.hpp"

using namespace tofu;
using namespace std::chrono_literals;
namespace wire = tofu::parity::wire;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kChannels = 100;
constexpr unsigned kWindow = 8;                    // unanswered requests per channel
constexpr std::uint64_t kMinResponsesPerChannel = 10;  // before the soak may close a channel
constexpr std::uint64_t kMinBusyChannels = 10;         // channels closed after carrying that much
constexpr double kMinResponsesPerSecond = 20;          // over the whole run, every backend and build
constexpr std::size_t kMaxBody = 3000;

// The request body: "g<connection> c<channel> s<seq> l<len>|" then `len` bytes derived from
// (seq, len). The connection number (1, 2, ... in the order of connects) tells apart channels
// that reuse a number.
std::string make_body(std::uint64_t gen, ChannelNumber ch, std::uint64_t seq, std::size_t len) {
  std::string s = "g" + std::to_string(gen) + " c" + std::to_string(ch) + " s" + std::to_string(seq) + " l" +
                  std::to_string(len) + "|";
  s.reserve(s.size() + len);
  for (std::size_t i = 0; i < len; ++i) s.push_back(static_cast<char>('!' + (seq * 31 + i * 7 + len) % 94));
  return s;
}

struct Parsed {
  std::uint64_t gen = 0;
  ChannelNumber channel = 0;
  std::uint64_t seq = 0;
  bool ok = false;
};

// Parses a body and checks that it is exactly what make_body() wrote for its own prefix.
Parsed parse_body(std::string_view body) {
  Parsed p;
  unsigned long long gen = 0, ch = 0, seq = 0, len = 0;
  const std::string head(body.substr(0, std::min<std::size_t>(body.size(), 80)));
  if (std::sscanf(head.c_str(), "g%llu c%llu s%llu l%llu|", &gen, &ch, &seq, &len) != 4 || len > kMaxBody) return p;
  p.gen = gen;
  p.channel = static_cast<ChannelNumber>(ch);
  p.seq = seq;
  p.ok = body == make_body(gen, p.channel, seq, static_cast<std::size_t>(len));
  return p;
}

struct ChannelState {
  std::uint64_t gen = 0;         // the connection's number
  bool open = false;             // HelloResponse seen, not yet closing
  std::uint64_t next_seq = 0;    // next request to post
  std::uint64_t expected = 0;    // next response expected
  unsigned outstanding = 0;      // posted, neither answered nor handed back
  std::uint64_t responses = 0;   // verified responses
  bool closed_by_soak = false;   // the soak posted its ByeRequest/ByeSignal
  std::uint64_t final_seq = ~std::uint64_t{0};  // the request of the final round
  bool final_answered = false;   // ... and its response arrived
};

struct Counters {
  std::atomic<std::uint64_t> sent{0};             // Requests the client posted successfully
  std::atomic<std::uint64_t> server_received{0};  // Requests the server application received
  std::atomic<std::uint64_t> returned{0};         // Requests handed back to the client with a status
  std::atomic<std::uint64_t> responses{0};        // verified Responses
  std::atomic<std::uint64_t> bad_responses{0};    // wrong body, wrong channel or out of order
  std::atomic<std::uint64_t> server_bad{0};       // a request that reached the server altered
  std::atomic<std::uint64_t> unexpected{0};       // engine reports, close reasons or post failures the soak did not cause
  std::atomic<std::uint64_t> opened{0}, closed{0}, raw_peers{0}, pauses{0}, pool_empty{0};
  std::atomic<std::uint64_t> busy_closed{0};  // channels the soak closed after kMinResponsesPerChannel responses
  std::mutex mu;
  std::vector<std::string> first_unexpected;
  void note(const std::string& what) {
    unexpected.fetch_add(1);
    std::lock_guard lock(mu);
    if (first_unexpected.size() < 5) first_unexpected.push_back(what);
  }
};

std::string describe(const Message& m) {
  std::string s = std::string(to_string(m.header.opcode)) + " ch " + std::to_string(m.header.channel_number) +
                  " status " + std::string(to_string(m.header.status));
  if (const auto r = m.text_headers.find("~reason")) s += " ~reason " + std::string(*r);
  return s;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 300;
  unsigned seed = 12345;
  Backend backend = Backend::best;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--seed") == 0) seed = static_cast<unsigned>(std::atoi(argv[i + 1]));
    else if (std::strcmp(argv[i], "--backend") == 0 && !parse_backend(argv[i + 1], backend)) {
      std::fprintf(stderr, "unknown backend %s\n", argv[i + 1]);
      return 2;
    }
  }
  if (!backend_available(backend)) {
    std::printf("SKIPPED: backend %s is not available on this host/build\n", to_string(backend));
    return 77;
  }
  EngineOptions so;
  so.backend = backend;
  so.pool = {64, 1024, 65536};
  EngineOptions co = so;
  co.pool = {64, 512, 65536};
  std::string err;
  auto server_engine = Engine::create(so, &err);
  auto client_engine = server_engine ? Engine::create(co, &err) : nullptr;
  if (!client_engine) {
    std::fprintf(stderr, "engine: %s\n", err.c_str());
    return 2;
  }
  auto gs = server_engine->create_group();
  auto gc = client_engine->create_group();
  {
    MessagePtr w = server_engine->get();
    (void)prepare_welcome(*w, Address::tcp("127.0.0.1", 0));
    if (gs->post(w).status != Status::success) return 2;
  }
  MessagePtr wr = gs->wait_receive(10s);
  if (!wr || wr->header.status != Status::success) return 2;
  const std::string listen = std::string(*wr->text_headers.find(kListenOnHeader));
  const auto port = parse_address(listen, AddressRole::connect).address.port;
  wr.reset();
  const std::size_t server_baseline = server_engine->channel_count();  // the listener
  Counters c;

  // Server application: answers Hello / Request / ByeRequest; checks and counts every Request (raw
  // peers never get that far).
  std::atomic<bool> stop_server{false};
  std::map<std::string, std::uint64_t> server_close_reasons;  // informational (read after join)
  std::map<std::uint64_t, std::uint64_t> received_by_gen;      // read after join
  std::thread server([&] {
    std::set<ChannelNumber> soak_channels;
    while (!stop_server.load()) {
      MessagePtr m = gs->wait_receive(200ms);
      if (!m) continue;
      const auto& h = m->header;
      if (h.origin == Origin::engine) {
        if (h.opcode == OpCode::signal && h.status == Status::channel_closed) {
          if (soak_channels.erase(h.channel_number) != 0) {
            const auto reason = m->text_headers.find("~reason");
            ++server_close_reasons[reason ? std::string(*reason) : std::string("?")];
          }
        } else if (h.status != Status::pool_empty && h.status != Status::channel_closed &&
                   h.status != Status::peer_disconnected && h.status != Status::send_failed) {
          // channel_closed / peer_disconnected / send_failed: an answer of ours to a client that left
          c.note("server: engine report " + describe(*m));
        }
        continue;
      }
      switch (h.opcode) {
        case OpCode::hello_request:
          soak_channels.insert(h.channel_number);
          m->header.opcode = OpCode::hello_response;
          break;
        case OpCode::request: {
          // Only the soak's client sends whole Requests (raw peers die before a frame completes);
          // the body names its connection, so this count does not depend on channel numbers.
          c.server_received.fetch_add(1);
          const Parsed p = parse_body(m->body_text());
          if (!p.ok) c.server_bad.fetch_add(1);
          ++received_by_gen[p.gen];
          m->header.opcode = OpCode::response;
          break;
        }
        case OpCode::bye_request: m->header.opcode = OpCode::bye_response; break;
        default:
          c.note("server: unexpected " + describe(*m));
          continue;
      }
      const Status st = gs->post(m).status;
      if (st != Status::success && st != Status::invalid_channel_number) c.note("server: post " + std::string(to_string(st)));
    }
  });

  // Client receiver: verifies responses, tracks channels and windows; sometimes pauses (slow reader).
  std::mutex mu;
  std::map<ChannelNumber, ChannelState> chans;  // Hello posted and not yet closed
  struct GenAccount {
    std::uint64_t sent = 0, returned = 0;
    std::uint64_t may_miss = 0;  // unanswered when the soak posted a ByeSignal
  };
  std::map<std::uint64_t, GenAccount> by_gen;  // every connection, kept after its close
  std::atomic<bool> pause_request{false};
  std::thread receiver([&] {
    for (;;) {
      if (pause_request.exchange(false)) {
        c.pauses.fetch_add(1);
        std::this_thread::sleep_for(1500ms);  // slow reader: the pool and socket buffers fill up
      }
      ReceiveEnd end = ReceiveEnd::message;
      MessagePtr m = gc->wait_receive(200ms, &end);
      if (!m) {
        if (end == ReceiveEnd::shutdown) return;
        continue;
      }
      const auto& h = m->header;
      std::lock_guard lock(mu);
      auto it = chans.find(h.channel_number);
      if (h.origin == Origin::engine) {
        if (h.opcode == OpCode::request) {
          c.returned.fetch_add(1);
          ++by_gen[parse_body(m->body_text()).gen].returned;
          if (h.status != Status::channel_closed && h.status != Status::shutdown_started) c.note("client: " + describe(*m));
          if (it != chans.end() && it->second.outstanding > 0) --it->second.outstanding;
        } else if (h.opcode == OpCode::signal && h.status == Status::channel_closed) {
          const auto reason = m->text_headers.find("~reason");
          const bool ours = it != chans.end() && it->second.closed_by_soak && reason &&
                            (*reason == "channel_closed" || *reason == "peer_disconnected");
          if (!ours) c.note("client: close " + describe(*m));
          if (it != chans.end()) chans.erase(it);
          c.closed.fetch_add(1);
        } else if (h.opcode == OpCode::signal && h.status == Status::pool_empty) {
          c.pool_empty.fetch_add(1);
        } else if (h.opcode == OpCode::bye_request || h.opcode == OpCode::bye_signal) {
          // our Bye handed back as the channel closed
        } else {
          c.note("client: engine report " + describe(*m));
        }
        continue;
      }
      if (it == chans.end()) {
        c.note("client: message for an unknown channel " + describe(*m));
        continue;
      }
      ChannelState& st = it->second;
      if (h.opcode == OpCode::hello_response) {
        st.open = true;
      } else if (h.opcode == OpCode::response) {
        const Parsed p = parse_body(m->body_text());
        if (!p.ok || p.channel != h.channel_number || p.seq != st.expected) {
          c.bad_responses.fetch_add(1);
        } else {
          c.responses.fetch_add(1);
          ++st.responses;
          if (p.seq == st.final_seq) st.final_answered = true;
        }
        st.expected = p.seq + 1;
        if (st.outstanding > 0) --st.outstanding;
      } else if (h.opcode != OpCode::bye_response) {
        c.note("client: unexpected " + describe(*m));
      }
    }
  });

  std::mt19937 rng(seed);
  // Posts one request on `ch` if its window allows; false when it does not or the pool is empty.
  auto post_request = [&](ChannelNumber ch) -> bool {
    MessagePtr m = client_engine->get();
    if (!m) return false;
    std::lock_guard lock(mu);
    auto it = chans.find(ch);
    if (it == chans.end() || !it->second.open || it->second.outstanding >= kWindow) return false;
    ChannelState& st = it->second;
    m->header = make_header(OpCode::request);
    m->header.channel_number = ch;
    m->set_body(make_body(st.gen, ch, st.next_seq, 1 + rng() % (kMaxBody - 60)));
    const Status s = gc->post(m).status;
    if (s != Status::success) {
      c.note("client: post " + std::string(to_string(s)));
      return false;
    }
    ++st.next_seq;
    ++st.outstanding;
    ++by_gen[st.gen].sent;
    c.sent.fetch_add(1);
    return true;
  };
  auto pick_open = [&](bool busy_only) -> ChannelNumber {
    std::lock_guard lock(mu);
    std::vector<ChannelNumber> candidates;
    for (const auto& [n, st] : chans) {
      if (st.open && (!busy_only || st.responses >= kMinResponsesPerChannel)) candidates.push_back(n);
    }
    return candidates.empty() ? 0 : candidates[rng() % candidates.size()];
  };
  auto close_channel = [&](ChannelNumber ch, OpCode op, bool during_run) {
    MessagePtr m = client_engine->get();
    if (!m) return false;
    std::lock_guard lock(mu);
    auto it = chans.find(ch);
    if (it == chans.end() || !it->second.open) return false;
    m->header = make_header(op);
    m->header.channel_number = ch;
    const Status s = gc->post(m).status;
    if (s != Status::success) {
      c.note("client: post " + std::string(to_string(op)) + " " + std::string(to_string(s)));
      return false;
    }
    it->second.open = false;
    it->second.closed_by_soak = true;
    if (op == OpCode::bye_signal) by_gen[it->second.gen].may_miss = it->second.outstanding;
    if (during_run && it->second.responses >= kMinResponsesPerChannel) c.busy_closed.fetch_add(1);
    return true;
  };

  const auto start = Clock::now();
  const auto end_at = start + std::chrono::seconds(seconds);
  auto next_report = start + 10s;
  auto next_pause = start + 2s;
  while (Clock::now() < end_at) {
    const auto dice = static_cast<unsigned>(rng() % 1000);
    std::size_t live = 0;
    {
      std::lock_guard lock(mu);
      live = chans.size();
    }
    if (dice < 60 && live < kChannels) {  // connect
      MessagePtr m = client_engine->get();
      if (m && ok(prepare_hello(*m, Address::tcp("127.0.0.1", port)))) {
        std::lock_guard lock(mu);
        const PostResult r = gc->post(m);
        if (ok(r.status)) {
          ChannelState fresh;
          fresh.gen = c.opened.fetch_add(1) + 1;
          chans[r.header.channel_number] = fresh;
        } else {
          c.note("client: post HelloRequest " + std::string(to_string(r.status)));
        }
      }
    } else if (dice < 950) {  // traffic
      const ChannelNumber ch = pick_open(false);
      if (ch == 0 || !post_request(ch)) std::this_thread::sleep_for(200us);  // window full, pool empty or nothing open
    } else if (dice < 970) {  // graceful or local close of a channel that carried its minimum
      const ChannelNumber ch = pick_open(true);
      if (ch != 0) (void)close_channel(ch, dice < 960 ? OpCode::bye_request : OpCode::bye_signal, true);
    } else if (dice < 985) {  // misbehaving raw peer on the server
      auto s = parity::RawSocket::connect_tcp("127.0.0.1", port);
      if (s.valid()) {
        c.raw_peers.fetch_add(1);
        if (dice % 2 == 0) {
          (void)s.send_all(wire::header_bytes(1, 15, 0, 1, 0, 0));  // opcode 15
        } else {
          auto h = wire::header_bytes(1, wire::kRequest, 0, 1, 0, 1000);  // killed mid-body
          h.resize(h.size() + 10);
          (void)s.send_all(h);
        }
        s.abort();
      }
    } else if (dice < 987 && Clock::now() >= next_pause) {  // at most one 1.5 s pause per 10 s
      pause_request.store(true);
      next_pause = Clock::now() + 10s;
    }
    if (Clock::now() >= next_report) {
      next_report += 10s;
      const auto ps = client_engine->pool_stats();
      std::fprintf(stderr,
                   "[soak %3llds] sent %llu server-received %llu returned %llu responses %llu | opened %llu closed "
                   "%llu raw %llu pauses %llu pool_empty %llu | client channels %zu pool in_use %zu/%zu\n",
                   static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start).count()),
                   static_cast<unsigned long long>(c.sent), static_cast<unsigned long long>(c.server_received),
                   static_cast<unsigned long long>(c.returned), static_cast<unsigned long long>(c.responses),
                   static_cast<unsigned long long>(c.opened), static_cast<unsigned long long>(c.closed),
                   static_cast<unsigned long long>(c.raw_peers), static_cast<unsigned long long>(c.pauses),
                   static_cast<unsigned long long>(c.pool_empty), client_engine->channel_count(), ps.in_use, ps.max);
    }
  }
  const double run_s = std::chrono::duration<double>(Clock::now() - start).count();
  const std::uint64_t responses_in_run = c.responses.load();

  // Final round: every window drains, then every open channel answers one last request.
  std::size_t final_total = 0;
  const bool drained = wait_until([&] {
    std::lock_guard lock(mu);
    for (const auto& [n, st] : chans) {
      if (st.outstanding > 0 || !st.open) return false;  // unanswered requests, or a Hello/Bye in flight
    }
    return true;
  }, 30s);
  std::vector<ChannelNumber> open_now;
  {
    std::lock_guard lock(mu);
    for (auto& [n, st] : chans) {
      open_now.push_back(n);
      st.final_seq = st.next_seq;
    }
  }
  final_total = open_now.size();
  auto is_open = [&](ChannelNumber ch) {
    std::lock_guard lock(mu);
    const auto it = chans.find(ch);
    return it != chans.end() && it->second.open;
  };
  bool final_posted = true;
  for (ChannelNumber ch : open_now) {
    const auto deadline = Clock::now() + 10s;  // the pool refills as answers come back
    while (is_open(ch) && !post_request(ch)) {
      if (Clock::now() >= deadline) {
        final_posted = false;
        break;
      }
      std::this_thread::sleep_for(1ms);
    }
  }
  const bool final_answered = final_posted && wait_until([&] {
    std::lock_guard lock(mu);
    for (const auto& [n, st] : chans) {
      if (!st.final_answered) return false;
    }
    return true;
  }, 30s);
  // Close everything gracefully; both engines must come back to their baseline.
  for (ChannelNumber ch : open_now) {
    const auto deadline = Clock::now() + 10s;
    while (is_open(ch) && !close_channel(ch, OpCode::bye_request, false) && Clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
  }
  const bool client_back = wait_until([&] { return client_engine->channel_count() == 0; }, 30s);
  const bool server_back = wait_until([&] { return server_engine->channel_count() == server_baseline; }, 30s);
  const bool client_pool_back = wait_until([&] { return client_engine->pool_stats().in_use == 0; }, 10s);
  const bool server_pool_back = wait_until([&] { return server_engine->pool_stats().in_use == 0; }, 10s);
  const std::size_t client_channels = client_engine->channel_count();
  const std::size_t server_channels = server_engine->channel_count();
  const std::size_t client_in_use = client_engine->pool_stats().in_use;
  const std::size_t server_in_use = server_engine->pool_stats().in_use;

  client_engine->shutdown();
  receiver.join();
  stop_server.store(true);
  server.join();
  server_engine->shutdown();

  const auto sent = c.sent.load();
  const auto received = c.server_received.load();
  const auto returned = c.returned.load();
  const double rate = run_s > 0 ? static_cast<double>(responses_in_run) / run_s : 0;
  std::printf("soak: backend %s, %d s, seed %u; sent %llu, server-received %llu, returned %llu, responses %llu "
              "(%.0f/s); opened %llu, closed %llu, raw peers %llu, slow-reader pauses %llu, pool_empty signals %llu\n",
              to_string(client_engine->backend()), seconds, seed,
              static_cast<unsigned long long>(sent), static_cast<unsigned long long>(received),
              static_cast<unsigned long long>(returned), static_cast<unsigned long long>(c.responses.load()), rate,
              static_cast<unsigned long long>(c.opened), static_cast<unsigned long long>(c.closed),
              static_cast<unsigned long long>(c.raw_peers), static_cast<unsigned long long>(c.pauses),
              static_cast<unsigned long long>(c.pool_empty));
  std::printf("soak: server-side closes of soak channels by reason:");
  for (const auto& [reason, n] : server_close_reasons) std::printf(" %s %llu", reason.c_str(), static_cast<unsigned long long>(n));
  std::printf("\n");
  bool all = true;
  auto judge = [&](bool ok_, const std::string& what) {
    std::printf("%s: %s\n", ok_ ? "PASS" : "FAIL", what.c_str());
    all = all && ok_;
  };
  auto u = [](std::uint64_t v) { return std::to_string(v); };
  judge(c.busy_closed.load() >= kMinBusyChannels,
        u(c.busy_closed) + " channels closed during the run after >= " + u(kMinResponsesPerChannel) +
            " verified responses each (need >= " + u(kMinBusyChannels) + ")");
  judge(rate >= kMinResponsesPerSecond, "responses during the run: " + std::to_string(static_cast<long long>(rate)) +
                                            "/s (need >= " + std::to_string(static_cast<long long>(kMinResponsesPerSecond)) + "/s)");
  judge(c.opened.load() == c.busy_closed.load() + final_total,
        "every channel carried traffic: " + u(c.opened) + " opened = " + u(c.busy_closed) +
            " closed after their minimum + " + std::to_string(final_total) + " open at the end");
  judge(drained && final_answered, "final round: every window drained and all " + std::to_string(final_total) +
                                       " channels still open answered one more request");
  judge(c.bad_responses.load() == 0 && c.server_bad.load() == 0,
        "responses are the byte-exact echo of their request, in order per channel: " + u(c.bad_responses) +
            " bad; requests altered on the way: " + u(c.server_bad));
  std::uint64_t bad_gens = 0, missing = 0, may_miss = 0;
  std::string first_bad;
  for (const auto& [gen, a] : by_gen) {
    const std::uint64_t got = received_by_gen[gen] + a.returned;
    const std::uint64_t lost = a.sent > got ? a.sent - got : 0;
    missing += lost;
    may_miss += a.may_miss;
    if (got > a.sent || lost > a.may_miss) {
      if (bad_gens++ == 0) {
        first_bad = "; first: connection " + u(gen) + " sent " + u(a.sent) + ", received " + u(received_by_gen[gen]) +
                    ", returned " + u(a.returned) + ", may miss " + u(a.may_miss);
      }
    }
  }
  judge(bad_gens == 0 && received_by_gen.size() <= by_gen.size(),
        "per connection, requests posted = received by the server + handed back (+ at most those unanswered at a "
        "ByeSignal): " + u(sent) + " = " + u(received) + " + " + u(returned) + " + " + u(missing) + " missing (" +
            u(may_miss) + " in doubt); connections off: " + u(bad_gens) + first_bad);
  std::string unexpected = u(c.unexpected);
  {
    std::lock_guard lock(c.mu);
    for (const auto& e : c.first_unexpected) unexpected += "; " + e;
  }
  judge(c.unexpected.load() == 0, "unexpected engine reports, close reasons or post failures: " + unexpected);
  judge(client_back && server_back, "channels back at baseline: client " + std::to_string(client_channels) +
                                        " (want 0), server " + std::to_string(server_channels) + " (want " +
                                        std::to_string(server_baseline) + ")");
  judge(client_pool_back && server_pool_back, "pools back at baseline: in_use client " + std::to_string(client_in_use) +
                                                  ", server " + std::to_string(server_in_use) + " (want 0)");
  return all ? 0 : 1;
}
