// Soak (issue G): a random mix of traffic, graceful and local closes, reconnects, slow-reader pauses
// and misbehaving raw peers across up to 100 channels, for --seconds N (default 300). Progress every
// 10 s on stderr; at the end the accounting of the client's Requests must balance:
//   sent = received (by the server application) + returned-with-status (to the client)
// Exit 0 when it balances, 1 when not.
//   soak [--seconds N] [--backend poll|epoll|afd|best] [--seed S]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

namespace {

constexpr std::size_t kChannels = 100;

struct Counters {
  std::atomic<std::uint64_t> sent{0};               // Requests the client posted successfully
  std::atomic<std::uint64_t> server_received{0};    // Requests the server application received
  std::atomic<std::uint64_t> returned{0};           // Requests handed back to the client with a status
  std::atomic<std::uint64_t> responses{0};          // Responses the client received (informational)
  std::atomic<std::uint64_t> opened{0}, closed{0}, raw_peers{0}, pauses{0}, pool_empty{0};
};

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
  Counters c;

  // Server application: answers Hello / Request / ByeRequest; counts Requests from soak clients only.
  std::atomic<bool> stop_server{false};
  std::thread server([&] {
    std::set<ChannelNumber> soak_channels;
    while (!stop_server.load()) {
      MessagePtr m = gs->wait_receive(200ms);
      if (!m) continue;
      const auto& h = m->header;
      if (h.origin == Origin::engine) {
        if (h.opcode == OpCode::signal && h.status == Status::channel_closed) soak_channels.erase(h.channel_number);
        continue;
      }
      switch (h.opcode) {
        case OpCode::hello_request:
          soak_channels.insert(h.channel_number);
          m->header.opcode = OpCode::hello_response;
          break;
        case OpCode::request:
          if (soak_channels.count(h.channel_number)) c.server_received.fetch_add(1);
          m->header.opcode = OpCode::response;
          break;
        case OpCode::bye_request: m->header.opcode = OpCode::bye_response; break;
        default: continue;
      }
      (void)gs->post(m);  // refused (peer gone): dropped back to the pool
    }
  });

  // Client receiver: tracks which channels are open, counts returns; sometimes pauses (slow reader).
  std::mutex mu;
  std::set<ChannelNumber> open;     // HelloResponse seen
  std::set<ChannelNumber> pending;  // Hello posted, not yet answered or closed
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
      if (h.origin == Origin::engine) {
        if (h.opcode == OpCode::request) c.returned.fetch_add(1);
        if (h.opcode == OpCode::signal && h.status == Status::channel_closed) {
          open.erase(h.channel_number);
          pending.erase(h.channel_number);
          c.closed.fetch_add(1);
        }
        if (h.opcode == OpCode::signal && h.status == Status::pool_empty) c.pool_empty.fetch_add(1);
        continue;
      }
      if (h.opcode == OpCode::hello_response) {
        pending.erase(h.channel_number);
        open.insert(h.channel_number);
      } else if (h.opcode == OpCode::response) {
        c.responses.fetch_add(1);
      }
    }
  });

  std::mt19937 rng(seed);
  const auto start = std::chrono::steady_clock::now();
  const auto end_at = start + std::chrono::seconds(seconds);
  auto next_report = start + 10s;
  auto pick_open = [&]() -> ChannelNumber {
    std::lock_guard lock(mu);
    if (open.empty()) return 0;
    auto it = open.begin();
    std::advance(it, static_cast<long>(rng() % open.size()));
    return *it;
  };
  const std::string body = std::string(3000, 'x');
  while (std::chrono::steady_clock::now() < end_at) {
    const auto dice = static_cast<unsigned>(rng() % 1000);
    std::size_t live = 0;
    {
      std::lock_guard lock(mu);
      live = open.size() + pending.size();
    }
    if (dice < 60 && live < kChannels) {  // connect
      MessagePtr m = client_engine->get();
      if (m && ok(prepare_hello(*m, Address::tcp("127.0.0.1", port)))) {
        std::lock_guard lock(mu);
        const PostResult r = gc->post(m);
        if (ok(r.status)) {
          pending.insert(r.header.channel_number);
          c.opened.fetch_add(1);
        }
      }
    } else if (dice < 950) {  // traffic
      const ChannelNumber ch = pick_open();
      MessagePtr m = ch ? client_engine->get() : MessagePtr{};
      if (m) {
        m->header = make_header(OpCode::request);
        m->header.channel_number = ch;
        m->set_body(std::string_view(body).substr(0, 1 + rng() % body.size()));
        if (ok(gc->post(m).status)) c.sent.fetch_add(1);
      } else {
        std::this_thread::sleep_for(200us);  // pool exhausted or nothing open: back off
      }
    } else if (dice < 970) {  // graceful or local close
      const ChannelNumber ch = pick_open();
      MessagePtr m = ch ? client_engine->get() : MessagePtr{};
      if (m) {
        m->header = make_header(dice < 960 ? OpCode::bye_request : OpCode::bye_signal);
        m->header.channel_number = ch;
        (void)gc->post(m);
        std::lock_guard lock(mu);
        open.erase(ch);
      }
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
    } else if (dice < 987) {
      pause_request.store(true);
    }
    if (std::chrono::steady_clock::now() >= next_report) {
      next_report += 10s;
      const auto ps = client_engine->pool_stats();
      std::fprintf(stderr,
                   "[soak %3llds] sent %llu server-received %llu returned %llu responses %llu | opened %llu closed %llu "
                   "raw %llu pauses %llu pool_empty %llu | client channels %zu pool in_use %zu/%zu\n",
                   static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count()),
                   static_cast<unsigned long long>(c.sent), static_cast<unsigned long long>(c.server_received), static_cast<unsigned long long>(c.returned),
                   static_cast<unsigned long long>(c.responses), static_cast<unsigned long long>(c.opened), static_cast<unsigned long long>(c.closed),
                   static_cast<unsigned long long>(c.raw_peers), static_cast<unsigned long long>(c.pauses), static_cast<unsigned long long>(c.pool_empty),
                   client_engine->channel_count(), ps.in_use, ps.max);
    }
  }
  // Shutdown: everything still queued in the client engine comes back with shutdown_started.
  client_engine->shutdown();
  receiver.join();
  // The server reads what was written before each close; wait until only its listener is left.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (server_engine->channel_count() > 1 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  const std::size_t server_channels = server_engine->channel_count();
  // Let the server application drain its queue (its channels are closed: no more arrivals).
  gs->update_receiver();
  for (int i = 0; i < 50 && server_engine->pool_stats().in_use > 0; ++i) std::this_thread::sleep_for(20ms);
  stop_server.store(true);
  server.join();
  server_engine->shutdown();
  const auto sent = c.sent.load();
  const auto received = c.server_received.load();
  const auto returned = c.returned.load();
  const bool balanced = sent == received + returned;
  std::fprintf(stderr, "[soak] backend %s, %d s, server channels left %zu\n", to_string(client_engine->backend()), seconds,
               server_channels);
  std::printf("sent = received + returned-with-status: %llu %s %llu + %llu (responses %llu, opened %llu, closed %llu, raw peers %llu, "
              "slow-reader pauses %llu, pool_empty signals %llu)\n",
              static_cast<unsigned long long>(sent), balanced ? "==" : "!=", static_cast<unsigned long long>(received),
              static_cast<unsigned long long>(returned), static_cast<unsigned long long>(c.responses), static_cast<unsigned long long>(c.opened),
              static_cast<unsigned long long>(c.closed), static_cast<unsigned long long>(c.raw_peers), static_cast<unsigned long long>(c.pauses),
              static_cast<unsigned long long>(c.pool_empty));
  return balanced ? 0 : 1;
}
