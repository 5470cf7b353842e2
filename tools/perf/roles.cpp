// The four roles of tofu_perf. Clients measure, servers echo (latency) or count (throughput); every
// role ends with exactly one result line on stdout.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "perf.hpp"

namespace perf {
namespace {

using tofu::OpCode;
using tofu::Status;

// The text header of the throughput client's final Request: how many Signals it sent before it.
constexpr std::string_view kCountHeader = "perf_count";

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

const char* transport_of(const std::string& tofu_address) {
  return tofu_address.rfind("uds|", 0) == 0 ? "uds" : "tcp";
}

// The reply to a received message: the same message re-posted with another opcode (no copy).
bool reply(Session& s, tofu::MessagePtr m, OpCode op) {
  const Status st = send_when_possible(*s.engine, *s.group, std::move(m), [op](tofu::Message& r) {
    r.header.opcode = op;
  }, Clock::now() + s.timeout);
  if (st != Status::success && st != Status::invalid_channel_number) {  // the client may be gone already
    std::fprintf(stderr, "server: reply refused: %s\n", std::string(to_string(st)).c_str());
    return false;
  }
  return true;
}

// Per accepted channel: what the server saw.
struct Seen {
  std::size_t messages = 0;
  std::size_t bytes = 0;
  Clock::time_point first{};
};

// Serves clients until `o.sessions` of them have closed (0 = forever). `on_data` gets every
// Request and Signal from a client and returns false on a fatal error.
template <class OnData, class OnClose>
int serve(const Options& o, Session& s, OnData on_data, OnClose on_close) {
  std::size_t done = 0;
  for (;;) {
    tofu::ReceiveEnd end{};
    tofu::MessagePtr m = s.group->wait_receive(std::chrono::seconds(1), &end);
    if (!m) {
      if (end == tofu::ReceiveEnd::shutdown) return 1;
      continue;  // no client yet: servers wait as long as it takes
    }
    const tofu::ChannelNumber ch = m->header.channel_number;
    if (m->header.origin == tofu::Origin::engine) {
      if (m->header.opcode == OpCode::signal && m->header.status == Status::channel_closed) {
        if (ch == s.channel) {
          std::fprintf(stderr, "server: the listener closed\n");
          return 1;
        }
        on_close(ch);
        if (o.sessions != 0 && ++done >= o.sessions) return 0;
      }
      continue;  // pool_empty reports, replies the engine returned because the client left
    }
    switch (m->header.opcode) {
      case OpCode::hello_request:
        if (!reply(s, std::move(m), OpCode::hello_response)) return 1;
        break;
      case OpCode::bye_request:
        if (!reply(s, std::move(m), OpCode::bye_response)) return 1;
        break;
      case OpCode::request:
      case OpCode::signal:
        if (!on_data(std::move(m))) return 1;
        break;
      default:
        break;
    }
  }
}

}  // namespace

int lat_server(const Options& o) {
  Session s;
  if (!start_server(o, s)) return 1;
  std::map<tofu::ChannelNumber, Seen> seen;
  return serve(o, s,
               [&](tofu::MessagePtr m) {
                 Seen& c = seen[m->header.channel_number];
                 ++c.messages;
                 c.bytes = m->body().size();
                 return m->header.opcode != OpCode::request || reply(s, std::move(m), OpCode::response);
               },
               [&](tofu::ChannelNumber ch) {
                 const Seen c = seen[ch];
                 seen.erase(ch);
                 std::printf("lat-server: echoed %zu round trips of %zu B on %s (%s, backend %s)\n", c.messages, c.bytes,
                             s.where.c_str(), transport_of(s.where), to_string(s.engine->backend()));
                 std::fflush(stdout);
               });
}

int thr_server(const Options& o) {
  Session s;
  if (!start_server(o, s)) return 1;
  std::map<tofu::ChannelNumber, Seen> seen;
  return serve(o, s,
               [&](tofu::MessagePtr m) {
                 Seen& c = seen[m->header.channel_number];
                 if (m->header.opcode == OpCode::signal) {
                   if (c.messages++ == 0) c.first = Clock::now();
                   c.bytes += m->body().size();
                   return true;
                 }
                 // The client's final Request: stop the clock, check nothing was lost, acknowledge.
                 const double t = seconds_since(c.first);
                 const std::string expected(m->text_headers.find(kCountHeader).value_or("?"));
                 if (expected != std::to_string(c.messages)) {
                   std::fprintf(stderr, "thr-server: the client sent %s messages, %zu arrived\n", expected.c_str(),
                                c.messages);
                   return false;
                 }
                 const std::size_t size = c.messages ? c.bytes / c.messages : 0;
                 std::printf("thr-server: %zu messages of %zu B in %.3f s: %.0f msg/s, %.1f MB/s (%s, backend %s)\n",
                             c.messages, size, t, static_cast<double>(c.messages) / t,
                             static_cast<double>(c.bytes) / t / 1e6, transport_of(s.where),
                             to_string(s.engine->backend()));
                 std::fflush(stdout);
                 c = Seen{};
                 return reply(s, std::move(m), OpCode::response);
               },
               [&](tofu::ChannelNumber ch) { seen.erase(ch); });
}

int lat_client(const Options& o) {
  Session s;
  if (!start_client(o, s)) return 1;
  const std::string body(o.size, 'x');
  std::vector<double> rtt_us;
  rtt_us.reserve(o.count);
  for (std::size_t i = 0; i < o.warmup + o.count; ++i) {
    const Clock::time_point t0 = Clock::now();
    tofu::PostResult posted;
    const Status st = send_when_possible(*s.engine, *s.group, {}, [&](tofu::Message& m) {
      m.header = tofu::make_header(OpCode::request);
      m.header.channel_number = s.channel;
      m.set_body(body);
    }, t0 + s.timeout, &posted);
    if (st != Status::success) {
      std::fprintf(stderr, "lat-client: request %zu: %s\n", i, std::string(to_string(st)).c_str());
      return 1;
    }
    tofu::MessagePtr echo = s.group->wait_receive(s.timeout);
    if (!echo || echo->header.opcode != OpCode::response || echo->header.message_id != posted.header.message_id ||
        echo->body().size() != o.size) {
      std::fprintf(stderr, "lat-client: request %zu was not echoed (%s)\n", i,
                   echo ? std::string(to_string(echo->header.status)).c_str() : "timed out");
      return 1;
    }
    if (i >= o.warmup) rtt_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  finish_client(s);
  std::sort(rtt_us.begin(), rtt_us.end());
  double sum = 0;
  for (double v : rtt_us) sum += v;
  const auto at = [&](double q) {
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(rtt_us.size())));
    return rtt_us[std::clamp<std::size_t>(rank, 1, rtt_us.size()) - 1];
  };
  std::printf("lat-client: %zu round trips of %zu B to %s (%s, backend %s): p50 %.1f us, p99 %.1f us, mean %.1f us\n",
              o.count, o.size, s.where.c_str(), transport_of(s.where), to_string(s.engine->backend()), at(0.50),
              at(0.99), sum / static_cast<double>(rtt_us.size()));
  return 0;
}

int thr_client(const Options& o) {
  Session s;
  if (!start_client(o, s)) return 1;
  const std::string body(o.size, 'x');
  const Clock::time_point t0 = Clock::now();
  for (std::size_t i = 0; i < o.count; ++i) {
    const Status st = send_when_possible(*s.engine, *s.group, {}, [&](tofu::Message& m) {
      m.header = tofu::make_header(OpCode::signal);
      m.header.channel_number = s.channel;
      m.set_body(body);
    }, Clock::now() + s.timeout);
    if (st != Status::success) {
      std::fprintf(stderr, "thr-client: message %zu: %s\n", i, std::string(to_string(st)).c_str());
      return 1;
    }
  }
  // The final Request: answered once the server has counted every Signal before it.
  tofu::PostResult posted;
  const Status st = send_when_possible(*s.engine, *s.group, {}, [&](tofu::Message& m) {
    m.header = tofu::make_header(OpCode::request);
    m.header.channel_number = s.channel;
    (void)m.text_headers.add(kCountHeader, std::to_string(o.count));
  }, Clock::now() + s.timeout, &posted);
  if (st != Status::success) {
    std::fprintf(stderr, "thr-client: final request: %s\n", std::string(to_string(st)).c_str());
    return 1;
  }
  tofu::MessagePtr ack;
  do {
    ack = s.group->wait_receive(s.timeout);
  } while (ack && ack->header.origin == tofu::Origin::engine && ack->header.status == Status::pool_empty);
  const double t = seconds_since(t0);
  if (!ack || ack->header.opcode != OpCode::response || ack->header.message_id != posted.header.message_id) {
    std::fprintf(stderr, "thr-client: no acknowledgement (%s)\n",
                 ack ? std::string(to_string(ack->header.status)).c_str() : "timed out");
    return 1;
  }
  ack.reset();
  finish_client(s);
  std::printf("thr-client: %zu messages of %zu B in %.3f s: %.0f msg/s, %.1f MB/s (%s, backend %s)\n", o.count,
              o.size, t, static_cast<double>(o.count) / t, static_cast<double>(o.count * o.size) / t / 1e6,
              transport_of(s.where), to_string(s.engine->backend()));
  return 0;
}

}  // namespace perf
