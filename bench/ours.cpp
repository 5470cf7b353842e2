// The tofu side of every scenario. Two engines per measurement, as two processes would have: a
// server engine (its own group and receiving thread) and a client engine (the calling thread
// receives). Handshake: WelcomeRequest `~listen_on: tcp|127.0.0.1|0` / `uds|/tmp/...`, then
// HelloRequest `~connect_to`, answered by re-posting it as HelloResponse. Echo = the server
// re-posts the received Request as Response (zero extra copies); the client re-posts the received
// Response as its next Request.
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "bench.hpp"
#include "tofu/address.hpp"
#include "tofu/engine.hpp"

namespace bench::ours {
namespace {

using namespace tofu;
using namespace std::chrono_literals;

constexpr auto kWait = 5000ms;  // no single message may take longer than this
std::chrono::microseconds g_spin{0};

std::unique_ptr<Engine> make_engine(const std::string& backend, std::size_t initial, std::size_t max) {
  EngineOptions o;
  o.pool.initial = initial;
  o.pool.max = max;
  // The scenarios measure one busy channel at a time: it may use the whole pool, as a libzmq pipe
  // may fill its whole high-water mark (the default caps are a quarter, spec 9.1 and 9.3).
  o.flow.max_queued_per_channel = max;
  o.flow.max_untaken_per_channel = max;
  o.spin = g_spin;
  if (!parse_backend(backend, o.backend)) throw std::runtime_error("unknown backend " + backend);
  std::string err;
  auto e = Engine::create(o, &err);
  if (!e) throw std::runtime_error("Engine::create: " + err);
  return e;
}

// A message from the pool; when every message is in flight (backpressure), sleeps in the engine
// until one comes back (Engine::get with a timeout: no polling, bounded at 30 s).
MessagePtr get_blocking(Engine& e) {
  if (MessagePtr m = e.get(30s)) return m;
  throw std::runtime_error("pool stayed empty for 30 s");
}

bool is_app(const Message& m) { return m.header.origin == Origin::application && m.header.status == Status::success; }

// Posts a WelcomeRequest and returns the bound address from the WelcomeResponse (TCP: on `host`).
std::string listen_on(Engine& e, ChannelGroup& g, Net net, const std::string& host = "127.0.0.1") {
  MessagePtr m = get_blocking(e);
  const Address a = net == Net::tcp ? Address::tcp(host, 0) : Address::uds(uds_path("ours"));
  if (!ok(prepare_welcome(*m, a))) throw std::runtime_error("prepare_welcome");
  if (const PostResult r = g.post(m); !ok(r.status)) throw std::runtime_error(std::string("post welcome: ") + std::string(to_string(r.status)));
  for (;;) {
    MessagePtr r = g.wait_receive(kWait);
    if (!r) throw std::runtime_error("no WelcomeResponse");
    if (r->header.opcode != OpCode::welcome_response) continue;
    if (!is_app(*r)) throw std::runtime_error(std::string("listen failed: ") + std::string(to_string(r->header.status)));
    const auto v = r->text_headers.find(kListenOnHeader);
    if (!v) throw std::runtime_error("WelcomeResponse without ~listen_on");
    return std::string(*v);
  }
}

// Opens `n` client channels to `address` (a comma-separated list: round-robin), at most `batch`
// handshakes in flight (a UDS listener's backlog refuses a non-blocking connect when full).
// Returns the channel numbers.
std::vector<ChannelNumber> connect_many(Engine& e, ChannelGroup& g, const std::string& address, int n,
                                        int batch = 256) {
  std::vector<Address> targets;
  for (const std::string& one : split_list(address)) {
    const AddressResult parsed = parse_address(one, AddressRole::connect);
    if (!ok(parsed.status)) throw std::runtime_error("bad address " + one);
    targets.push_back(parsed.address);
  }
  std::vector<ChannelNumber> chans;
  chans.reserve(static_cast<std::size_t>(n));
  int posted = 0;
  int pending = 0;
  while (static_cast<int>(chans.size()) < n) {
    while (posted < n && pending < batch) {
      MessagePtr m = get_blocking(e);
      if (!ok(prepare_hello(*m, targets[static_cast<std::size_t>(posted) % targets.size()]))) {
        throw std::runtime_error("prepare_hello");
      }
      if (const PostResult r = g.post(m); !ok(r.status)) throw std::runtime_error(std::string("post hello: ") + std::string(to_string(r.status)));
      ++posted;
      ++pending;
    }
    MessagePtr r = g.wait_receive(kWait);
    if (!r) throw std::runtime_error("handshake timed out after " + std::to_string(chans.size()) + " channels");
    if (r->header.opcode == OpCode::hello_response && is_app(*r)) {
      chans.push_back(r->header.channel_number);
      --pending;
    } else if (r->header.opcode == OpCode::hello_request) {
      throw std::runtime_error(std::string("connect failed: ") + std::string(to_string(r->header.status)));
    }
  }
  return chans;
}

// Waits for an application Response (or, with `op`, another opcode) on channel `ch`; other
// messages are dropped (returned to the pool).
MessagePtr wait_for(ChannelGroup& g, ChannelNumber ch, OpCode op) {
  for (;;) {
    MessagePtr r = g.wait_receive(kWait);
    if (!r) return r;
    if (r->header.channel_number == ch && r->header.opcode == op) return r;
  }
}

// The server: its own engine, group and receiving thread. Echo mode answers Hello and Request;
// sink mode counts Signals until one with an empty body (the end marker).
class Server {
 public:
  enum class Mode : std::uint8_t { echo, sink };
  // `listeners` > 1 (TCP, scale): also on 127.0.0.2, ...; `address` then lists them all (see
  // scale_listeners).
  Server(Net net, const std::string& backend, std::size_t pool_initial, std::size_t pool_max, Mode mode,
         int listeners = 1)
      : mode_(mode), engine_(make_engine(backend, pool_initial, pool_max)), group_(engine_->create_group()) {
    address = listen_on(*engine_, *group_, net);
    for (int i = 1; i < listeners && net == Net::tcp; ++i) {
      const std::string more = listen_on(*engine_, *group_, net, "127.0.0." + std::to_string(i + 1));
      address.append(",").append(more);
    }
    thread_ = std::thread([this] { run(); });
  }
  ~Server() {
    stop_.store(true);
    thread_.join();
    group_->destroy();
    engine_->shutdown();
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::string address;
  std::atomic<std::uint64_t> msgs{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<bool> done{false};
  Clock::time_point end_time{};

 private:
  void run() {
    while (!stop_.load(std::memory_order_relaxed)) {
      MessagePtr m = group_->wait_receive(20ms);
      if (!m || m->header.origin == Origin::engine) continue;  // engine reports: dropped
      switch (m->header.opcode) {
        case OpCode::hello_request:
          m->header.opcode = OpCode::hello_response;
          (void)group_->post(m);
          break;
        case OpCode::request:
          m->header.opcode = OpCode::response;
          (void)group_->post(m);
          break;
        case OpCode::signal:
          if (mode_ == Mode::sink) {
            if (m->body_size() == 0) {
              end_time = Clock::now();
              done.store(true, std::memory_order_release);
            } else {
              msgs.fetch_add(1, std::memory_order_relaxed);
              bytes.fetch_add(m->body_size(), std::memory_order_relaxed);
            }
          }
          break;
        default: break;
      }
    }
  }

  Mode mode_;
  std::unique_ptr<Engine> engine_;
  std::shared_ptr<ChannelGroup> group_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The client: an engine and one group received by the calling thread.
struct Client {
  Client(const std::string& backend, std::size_t pool_initial, std::size_t pool_max)
      : engine(make_engine(backend, pool_initial, pool_max)), group(engine->create_group()) {}
  ~Client() {
    group->destroy();
    engine->shutdown();
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  std::unique_ptr<Engine> engine;
  std::shared_ptr<ChannelGroup> group;
};

MessagePtr make_request(Engine& e, ChannelNumber ch, std::size_t size) {
  MessagePtr m = get_blocking(e);
  m->header = make_header(OpCode::request);
  m->header.channel_number = ch;
  (void)m->resize_body(size);
  return m;
}

// One round trip: post `m` as Request, return the Response (the same bytes back).
MessagePtr round_trip(ChannelGroup& g, MessagePtr m) {
  const ChannelNumber ch = m->header.channel_number;
  m->header.opcode = OpCode::request;
  if (const PostResult r = g.post(m); !ok(r.status)) throw std::runtime_error(std::string("post request: ") + std::string(to_string(r.status)));
  MessagePtr r = wait_for(g, ch, OpCode::response);
  if (!r) throw std::runtime_error("response timed out");
  return r;
}

}  // namespace

void set_spin(std::chrono::microseconds spin) { g_spin = spin; }

std::vector<double> latency(Net net, const std::string& backend, const LatencyParams& p) {
  Server srv(net, backend, 64, 1024, Server::Mode::echo);
  Client cli(backend, 64, 1024);
  const ChannelNumber ch = connect_many(*cli.engine, *cli.group, srv.address, 1).front();
  MessagePtr m = make_request(*cli.engine, ch, p.size);
  for (int i = 0; i < p.warmup; ++i) m = round_trip(*cli.group, std::move(m));
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(p.iterations));
  const auto start = Clock::now();
  for (int i = 0; i < p.iterations; ++i) {
    const auto t0 = Clock::now();
    m = round_trip(*cli.group, std::move(m));
    const auto t1 = Clock::now();
    samples.push_back(micros_between(t0, t1));
    if ((i & 63) == 0 && seconds_since(start) > p.max_seconds) break;
  }
  return samples;
}

ThroughputResult throughput(Net net, const std::string& backend, const ThroughputParams& p) {
  Server srv(net, backend, 1024, 1024, Server::Mode::sink);
  Client cli(backend, 1024, 1024);
  const ChannelNumber ch = connect_many(*cli.engine, *cli.group, srv.address, 1).front();
  const auto t0 = Clock::now();
  for (std::uint64_t i = 0;; ++i) {
    if (p.messages > 0 ? i >= p.messages : ((i & 63) == 0 && seconds_since(t0) > p.seconds)) break;
    MessagePtr m = get_blocking(*cli.engine);
    m->header = make_header(OpCode::signal);
    m->header.channel_number = ch;
    (void)m->resize_body(p.size);
    if (const PostResult r = cli.group->post(m, 30s); !ok(r.status)) throw std::runtime_error("post signal");
  }
  MessagePtr end = get_blocking(*cli.engine);
  end->header = make_header(OpCode::signal);
  end->header.channel_number = ch;
  if (const PostResult r = cli.group->post(end, 30s); !ok(r.status)) throw std::runtime_error("post end");
  const auto deadline = Clock::now() + 60s;
  while (!srv.done.load(std::memory_order_acquire)) {
    if (Clock::now() > deadline) throw std::runtime_error("end marker never arrived");
    std::this_thread::sleep_for(200us);
  }
  ThroughputResult res;
  res.msgs = static_cast<double>(srv.msgs.load());
  res.bytes = static_cast<double>(srv.bytes.load());
  res.seconds = std::chrono::duration<double>(srv.end_time - t0).count();
  return res;
}

FaninResult fanin(Net net, const std::string& backend, const FaninParams& p) {
  const auto n = static_cast<std::size_t>(p.clients);
  Server srv(net, backend, 256, 2 * n + 1024, Server::Mode::echo);
  Client cli(backend, 256, 2 * n + 1024);
  const std::vector<ChannelNumber> chans = connect_many(*cli.engine, *cli.group, srv.address, p.clients);
  std::vector<MessagePtr> held;
  held.reserve(n);
  for (ChannelNumber ch : chans) held.push_back(make_request(*cli.engine, ch, p.size));
  // One round = a request on every channel, then every response (they arrive in any order).
  auto round = [&] {
    for (MessagePtr& m : held) {
      m->header.opcode = OpCode::request;
      if (const PostResult r = cli.group->post(m); !ok(r.status)) throw std::runtime_error("post request");
    }
    held.clear();
    while (held.size() < n) {
      MessagePtr r = cli.group->wait_receive(kWait);
      if (!r) throw std::runtime_error("fan-in response timed out");
      if (r->header.opcode == OpCode::response && is_app(*r)) held.push_back(std::move(r));
    }
  };
  round();  // warm-up
  FaninResult res;
  const auto t0 = Clock::now();
  do {
    round();
    res.requests += static_cast<double>(n);
  } while (seconds_since(t0) < p.seconds);
  res.seconds = seconds_since(t0);
  return res;
}

ChurnResult churn(Net net, const std::string& backend, const ChurnParams& p) {
  Server srv(net, backend, 64, 1024, Server::Mode::echo);
  Client cli(backend, 64, 1024);
  const AddressResult parsed = parse_address(srv.address, AddressRole::connect);
  ChurnResult res;
  const auto t0 = Clock::now();
  for (int i = 0; i < p.max_cycles && seconds_since(t0) < p.seconds; ++i) {
    // connect + handshake
    MessagePtr m = get_blocking(*cli.engine);
    (void)prepare_hello(*m, parsed.address);
    const PostResult pr = cli.group->post(m);
    if (!ok(pr.status)) throw std::runtime_error("post hello");
    const ChannelNumber ch = pr.header.channel_number;
    MessagePtr r = wait_for(*cli.group, ch, OpCode::hello_response);
    if (!r || !is_app(*r)) {
      ++res.failures;
      continue;
    }
    // one request / response
    r->header = make_header(OpCode::request);
    r->header.channel_number = ch;
    r->text_headers.clear();
    (void)r->resize_body(p.size);
    if (!ok(cli.group->post(r).status)) throw std::runtime_error("post request");
    r = wait_for(*cli.group, ch, OpCode::response);
    if (!r) {
      ++res.failures;
      continue;
    }
    // local close; done when the channel_closed Signal arrives
    r->header = make_header(OpCode::bye_signal);
    r->header.channel_number = ch;
    r->clear_body();
    if (!ok(cli.group->post(r).status)) throw std::runtime_error("post bye");
    for (;;) {
      MessagePtr s = cli.group->wait_receive(kWait);
      if (!s) throw std::runtime_error("channel_closed never arrived");
      if (s->header.channel_number == ch && s->header.opcode == OpCode::signal &&
          s->header.status == Status::channel_closed)
        break;
    }
    res.cycles += 1;
  }
  res.seconds = seconds_since(t0);
  return res;
}

#ifndef _WIN32  // scale needs the POSIX child process (bench/common.cpp)
ScaleResult scale(Net net, const std::string& backend, const ScaleParams& p) {
  ScaleResult res;
  // Pool created in full up front so that the RSS delta is the channels' own cost.
  Server srv(net, backend, 4096, 4096, Server::Mode::echo, scale_listeners(net, p.channels));
  std::this_thread::sleep_for(20ms);
  const std::size_t before = trimmed_rss_bytes();
  ScaleChild child("ours", srv.address, backend, p);
  const std::string ready = child.next_line(900);  // 60,000 handshakes on a loaded machine
  if (ready.rfind("ready ", 0) != 0) {
    res.error = "child: " + (ready.empty() ? std::string("no ready line") : ready);
    return res;
  }
  const std::size_t after = rss_bytes();
  res.client_rss_per_channel = std::stod(ready.substr(6));
  res.server_rss_per_channel = (static_cast<double>(after) - static_cast<double>(before)) / p.channels;
  const std::string result = child.next_line(300);
  if (!parse_result_line(result, res)) {
    res.error = "child: bad result line " + result;
    return res;
  }
  res.ok = child.wait() == 0;
  if (!res.ok) res.error = "child failed";
  return res;
}

int scale_child(const std::string& address, const std::string& backend, const ScaleParams& p) {
  const auto n = static_cast<std::size_t>(p.channels);
  Client cli(backend, n + 1024, n + 1024);
  std::this_thread::sleep_for(20ms);
  const std::size_t before = rss_bytes();
  const std::vector<ChannelNumber> chans = connect_many(*cli.engine, *cli.group, address, p.channels);
  MessagePtr m = make_request(*cli.engine, chans.front(), 64);
  for (ChannelNumber ch : chans) {  // one round trip on every channel: all are fully set up
    m->header.channel_number = ch;
    m = round_trip(*cli.group, std::move(m));
  }
  const std::size_t after = rss_bytes();
  std::printf("ready %.1f\n", (static_cast<double>(after) - static_cast<double>(before)) / p.channels);
  std::fflush(stdout);
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(p.iterations));
  const auto t0 = Clock::now();
  for (int i = 0; i < p.iterations; ++i) {
    m->header.channel_number = chans[static_cast<std::size_t>(i) % n];
    const auto a = Clock::now();
    m = round_trip(*cli.group, std::move(m));
    samples.push_back(micros_between(a, Clock::now()));
    if ((i & 63) == 0 && seconds_since(t0) > p.max_seconds) break;
  }
  print_result_line(samples);
  return 0;
}
#endif

}  // namespace bench::ours
