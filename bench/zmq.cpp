// The libzmq side (C API): REQ/REP for RTT and churn, PUSH/PULL for throughput, DEALER/ROUTER for
// fan-in. tcp://127.0.0.1:* and ipc:///tmp/... endpoints; linger 0 everywhere. One context per
// measurement with the default single I/O thread.
#include <zmq.h>

#include <atomic>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>

#include "bench.hpp"

namespace bench::zmqb {
namespace {

[[noreturn]] void fail(const char* what) { throw std::runtime_error(std::string("zmq ") + what + ": " + zmq_strerror(zmq_errno())); }

class Context {
 public:
  explicit Context(int max_sockets = 1024) : ctx_(zmq_ctx_new()) {
    if (ctx_ == nullptr) fail("ctx_new");
    zmq_ctx_set(ctx_, ZMQ_MAX_SOCKETS, max_sockets);
  }
  ~Context() { zmq_ctx_term(ctx_); }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  void* get() const { return ctx_; }

 private:
  void* ctx_;
};

void* make_socket(const Context& c, int type) {
  void* s = zmq_socket(c.get(), type);
  if (s == nullptr) fail("socket");
  int zero = 0;
  zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
  return s;
}

void set_int(void* s, int opt, int v) { zmq_setsockopt(s, opt, &v, sizeof(v)); }

// Binds to an ephemeral endpoint; returns the endpoint to connect to.
std::string bind_any(void* s, Net net) {
  const std::string ep = net == Net::tcp ? std::string("tcp://127.0.0.1:*") : "ipc://" + uds_path("zmq");
  if (zmq_bind(s, ep.c_str()) != 0) fail("bind");
  char buf[256];
  std::size_t len = sizeof(buf);
  zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, buf, &len);
  return std::string(buf);
}

void unlink_ipc(const std::string& ep) {
  if (ep.rfind("ipc://", 0) == 0) unlink(ep.substr(6).c_str());
}

// REP echo: each request goes back as is (zero copy: the same zmq_msg_t); stops when `stop` is
// set (polls it every 20 ms) or on a zero-size request, which is answered first.
void rep_echo(void* rep, const std::atomic<bool>& stop) {
  set_int(rep, ZMQ_RCVTIMEO, 20);
  zmq_msg_t msg;
  zmq_msg_init(&msg);
  while (!stop.load(std::memory_order_relaxed)) {
    const int n = zmq_msg_recv(&msg, rep, 0);
    if (n < 0) continue;
    zmq_msg_send(&msg, rep, 0);
    if (n == 0) break;
  }
  zmq_msg_close(&msg);
}

}  // namespace

std::string version() {
  int a = 0, b = 0, c = 0;
  zmq_version(&a, &b, &c);
  return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c);
}

std::vector<double> latency(Net net, const LatencyParams& p) {
  Context ctx;
  void* rep = make_socket(ctx, ZMQ_REP);
  const std::string ep = bind_any(rep, net);
  std::atomic<bool> stop{false};
  std::thread server([&] { rep_echo(rep, stop); });
  void* req = make_socket(ctx, ZMQ_REQ);
  if (zmq_connect(req, ep.c_str()) != 0) fail("connect");
  std::vector<char> payload(p.size, 'z');
  std::vector<char> buf(p.size + 1);
  auto ping = [&] {
    if (zmq_send(req, payload.data(), payload.size(), 0) < 0) fail("send");
    if (zmq_recv(req, buf.data(), buf.size(), 0) < 0) fail("recv");
  };
  for (int i = 0; i < p.warmup; ++i) ping();
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(p.iterations));
  const auto start = Clock::now();
  for (int i = 0; i < p.iterations; ++i) {
    const auto t0 = Clock::now();
    ping();
    samples.push_back(micros_between(t0, Clock::now()));
    if ((i & 63) == 0 && seconds_since(start) > p.max_seconds) break;
  }
  zmq_send(req, nullptr, 0, 0);  // end marker: the server answers and exits
  zmq_recv(req, buf.data(), buf.size(), 0);
  server.join();
  zmq_close(req);
  zmq_close(rep);
  unlink_ipc(ep);
  return samples;
}

ThroughputResult throughput(Net net, const ThroughputParams& p) {
  Context ctx;
  void* pull = make_socket(ctx, ZMQ_PULL);
  const std::string ep = bind_any(pull, net);
  ThroughputResult res;
  Clock::time_point end{};
  std::thread receiver([&] {
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    std::uint64_t msgs = 0;
    std::uint64_t bytes = 0;
    for (;;) {
      const int n = zmq_msg_recv(&msg, pull, 0);
      if (n < 0) break;
      if (n == 0) {
        end = Clock::now();
        break;
      }
      ++msgs;
      bytes += static_cast<std::uint64_t>(n);
    }
    zmq_msg_close(&msg);
    res.msgs = static_cast<double>(msgs);
    res.bytes = static_cast<double>(bytes);
  });
  void* push = make_socket(ctx, ZMQ_PUSH);
  if (zmq_connect(push, ep.c_str()) != 0) fail("connect");
  std::vector<char> payload(p.size, 'z');
  const auto t0 = Clock::now();
  for (std::uint64_t i = 0;; ++i) {
    if (p.messages > 0 ? i >= p.messages : ((i & 63) == 0 && seconds_since(t0) > p.seconds)) break;
    std::memset(payload.data(), static_cast<int>(i & 0x7f), payload.size());  // as the floor fills each payload
    if (zmq_send(push, payload.data(), payload.size(), 0) < 0) fail("send");
  }
  zmq_send(push, nullptr, 0, 0);
  receiver.join();
  zmq_close(push);
  zmq_close(pull);
  unlink_ipc(ep);
  res.seconds = std::chrono::duration<double>(end - t0).count();
  return res;
}

FaninResult fanin(Net net, const FaninParams& p) {
  Context ctx(p.clients + 64);
  void* router = make_socket(ctx, ZMQ_ROUTER);
  set_int(router, ZMQ_RCVTIMEO, 20);
  set_int(router, ZMQ_SNDHWM, 0);
  set_int(router, ZMQ_RCVHWM, 0);
  const std::string ep = bind_any(router, net);
  std::atomic<bool> stop{false};
  std::thread server([&] {
    zmq_msg_t id;
    zmq_msg_t body;
    zmq_msg_init(&id);
    zmq_msg_init(&body);
    while (!stop.load(std::memory_order_relaxed)) {
      if (zmq_msg_recv(&id, router, 0) < 0) continue;
      if (zmq_msg_recv(&body, router, 0) < 0) continue;
      zmq_msg_send(&id, router, ZMQ_SNDMORE);
      zmq_msg_send(&body, router, 0);
    }
    zmq_msg_close(&id);
    zmq_msg_close(&body);
  });
  std::vector<void*> dealers;
  for (int i = 0; i < p.clients; ++i) {
    void* d = make_socket(ctx, ZMQ_DEALER);
    if (zmq_connect(d, ep.c_str()) != 0) fail("connect");
    dealers.push_back(d);
  }
  std::vector<char> payload(p.size, 'z');
  std::vector<char> buf(p.size + 1);
  auto round = [&] {
    for (void* d : dealers) {
      if (zmq_send(d, payload.data(), payload.size(), 0) < 0) fail("send");
    }
    for (void* d : dealers) {
      if (zmq_recv(d, buf.data(), buf.size(), 0) < 0) fail("recv");
    }
  };
  round();
  FaninResult res;
  const auto t0 = Clock::now();
  do {
    round();
    res.requests += static_cast<double>(dealers.size());
  } while (seconds_since(t0) < p.seconds);
  res.seconds = seconds_since(t0);
  stop.store(true);
  server.join();
  for (void* d : dealers) zmq_close(d);
  zmq_close(router);
  unlink_ipc(ep);
  return res;
}

ChurnResult churn(Net net, const ChurnParams& p) {
  Context ctx;
  void* rep = make_socket(ctx, ZMQ_REP);
  const std::string ep = bind_any(rep, net);
  std::atomic<bool> stop{false};
  std::thread server([&] {
    // Like rep_echo, but a zero-size request is not an end marker here.
    set_int(rep, ZMQ_RCVTIMEO, 20);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    while (!stop.load(std::memory_order_relaxed)) {
      if (zmq_msg_recv(&msg, rep, 0) < 0) continue;
      zmq_msg_send(&msg, rep, 0);
    }
    zmq_msg_close(&msg);
  });
  std::vector<char> payload(p.size, 'z');
  std::vector<char> buf(p.size + 1);
  ChurnResult res;
  const auto t0 = Clock::now();
  for (int i = 0; i < p.max_cycles && seconds_since(t0) < p.seconds; ++i) {
    void* req = make_socket(ctx, ZMQ_REQ);
    set_int(req, ZMQ_RCVTIMEO, 5000);
    if (zmq_connect(req, ep.c_str()) != 0) fail("connect");
    if (zmq_send(req, payload.data(), payload.size(), 0) >= 0 && zmq_recv(req, buf.data(), buf.size(), 0) >= 0) {
      res.cycles += 1;
    } else {
      ++res.failures;
    }
    zmq_close(req);
  }
  res.seconds = seconds_since(t0);
  stop.store(true);
  server.join();
  zmq_close(rep);
  unlink_ipc(ep);
  return res;
}

}  // namespace bench::zmqb
