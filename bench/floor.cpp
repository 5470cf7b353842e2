// The raw-socket floor: what a careful hand-written program does with the same bytes. Every frame
// is a 16-byte header (the payload length in its first 4 bytes) plus the payload, as tofu's frame
// of a message without text headers. Blocking sockets for RTT, throughput and churn clients; a
// plain level-triggered epoll loop for the fan-in, scale and churn server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "bench.hpp"

namespace bench::raw {
namespace {

struct Endpoint {
  Net net = Net::tcp;
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  // tofu notation: tcp|127.0.0.1|port or uds|path
};

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

sockaddr* sa(sockaddr_storage& s) { return reinterpret_cast<sockaddr*>(&s); }
const sockaddr* sa(const sockaddr_storage& s) { return reinterpret_cast<const sockaddr*>(&s); }

// TCP: `host` is a 127.0.0.x address (the scale scenario listens on several, for the 4-tuples).
Endpoint make_endpoint(Net net, std::uint16_t port, const std::string& path, const std::string& host = "127.0.0.1") {
  Endpoint e;
  e.net = net;
  if (net == Net::tcp) {
    auto* in = reinterpret_cast<sockaddr_in*>(&e.addr);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &in->sin_addr) != 1) throw std::runtime_error("bad host " + host);
    e.len = sizeof(sockaddr_in);
    e.text = "tcp|" + host + "|" + std::to_string(port);
  } else {
    auto* un = reinterpret_cast<sockaddr_un*>(&e.addr);
    un->sun_family = AF_UNIX;
    std::snprintf(un->sun_path, sizeof(un->sun_path), "%s", path.c_str());
    e.len = sizeof(sockaddr_un);
    e.text = "uds|" + path;
  }
  return e;
}

Endpoint parse_endpoint(const std::string& text) {
  if (text.rfind("uds|", 0) == 0) return make_endpoint(Net::uds, 0, text.substr(4));
  const auto bar = text.rfind('|');
  return make_endpoint(Net::tcp, static_cast<std::uint16_t>(std::stoi(text.substr(bar + 1))), {},
                       text.substr(4, bar - 4));
}

int family(Net n) { return n == Net::tcp ? AF_INET : AF_UNIX; }

void tune(int fd, Net net) {
  if (net == Net::tcp) {
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
}

// A listening socket on host:0 (TCP) or a fresh /tmp path; `ep` gets the address to connect to.
int make_listener(Net net, Endpoint& ep, bool nonblocking, const std::string& host = "127.0.0.1") {
  const int fd = socket(family(net), SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) fail("socket");
  if (net == Net::tcp) {
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    ep = make_endpoint(net, 0, {}, host);
  } else {
    ep = make_endpoint(net, 0, uds_path("floor"));
  }
  if (bind(fd, sa(ep.addr), ep.len) != 0) fail("bind");
  if (listen(fd, 4096) != 0) fail("listen");
  if (net == Net::tcp) {
    sockaddr_in got{};
    socklen_t l = sizeof(got);
    getsockname(fd, reinterpret_cast<sockaddr*>(&got), &l);
    ep = make_endpoint(net, ntohs(got.sin_port), {}, host);
  }
  return fd;
}

int connect_to(const Endpoint& ep) {
  const int fd = socket(family(ep.net), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  for (int attempt = 0;; ++attempt) {
    if (connect(fd, sa(ep.addr), ep.len) == 0) break;
    // A full UDS backlog says EAGAIN even to a blocking connect: retry shortly.
    if (errno == EAGAIN && attempt < 10000) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      continue;
    }
    fail("connect");
  }
  tune(fd, ep.net);
  return fd;
}

void write_all(int fd, const std::byte* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("send");
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

bool read_all(int fd, std::byte* p, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::recv(fd, p, n, 0);
    if (r == 0) return false;
    if (r < 0) {
      if (errno == EINTR) continue;
      fail("recv");
    }
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

std::uint32_t frame_len(const std::byte* header) {
  std::uint32_t len = 0;
  std::memcpy(&len, header, sizeof(len));
  return len;
}

std::vector<std::byte> make_frame(std::size_t size) {
  std::vector<std::byte> f(kHeader + size, std::byte{0x5a});
  const auto len = static_cast<std::uint32_t>(size);
  for (std::size_t i = 0; i < kHeader; ++i) {
    f.at(i) = i < sizeof(len) ? static_cast<std::byte>((len >> (8 * i)) & 0xffu) : std::byte{0};
  }
  return f;
}

// Sends `frame`, reads the echoed frame into `buf` (sized for it). False on EOF.
bool ping(int fd, const std::vector<std::byte>& frame, std::vector<std::byte>& buf) {
  write_all(fd, frame.data(), frame.size());
  if (!read_all(fd, buf.data(), kHeader)) return false;
  return read_all(fd, buf.data() + kHeader, frame_len(buf.data()));
}

// Blocking one-connection echo server (RTT).
class BlockingEcho {
 public:
  explicit BlockingEcho(Net net) {
    lfd_ = make_listener(net, ep, false);
    thread_ = std::thread([this] {
      const int c = accept4(lfd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      tune(c, ep.net);
      std::vector<std::byte> buf(kHeader + 65536);
      for (;;) {
        if (!read_all(c, buf.data(), kHeader)) break;
        const std::uint32_t len = frame_len(buf.data());
        if (!read_all(c, buf.data() + kHeader, len)) break;
        write_all(c, buf.data(), kHeader + len);
      }
      close(c);
    });
  }
  ~BlockingEcho() {
    thread_.join();
    close(lfd_);
    if (ep.net == Net::uds) unlink(reinterpret_cast<sockaddr_un*>(&ep.addr)->sun_path);
  }
  BlockingEcho(const BlockingEcho&) = delete;
  BlockingEcho& operator=(const BlockingEcho&) = delete;
  Endpoint ep;

 private:
  int lfd_ = -1;
  std::thread thread_;
};

// A plain level-triggered epoll echo server: non-blocking sockets, a read buffer and a write
// buffer per connection, EPOLLOUT only while a write is pending.
class EpollEcho {
 public:
  // `listeners` > 1 (TCP, the scale scenario): also listens on 127.0.0.2, 127.0.0.3, ... so that
  // more connections than one 4-tuple's ephemeral ports can be opened; `addresses` lists them all.
  explicit EpollEcho(Net net, int listeners = 1) {
    efd_ = epoll_create1(EPOLL_CLOEXEC);
    if (efd_ < 0) fail("epoll_create1");
    for (int i = 0; i < std::max(1, listeners); ++i) {
      Endpoint e;
      const int lfd = make_listener(net, e, true, "127.0.0." + std::to_string(i + 1));
      if (i == 0) ep = e;
      if (i > 0) addresses.append(",");
      addresses.append(e.text);
      lfds_.push_back(lfd);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = lfd;
      epoll_ctl(efd_, EPOLL_CTL_ADD, lfd, &ev);
      if (net == Net::uds) break;
    }
    thread_ = std::thread([this] { run(); });
  }
  ~EpollEcho() {
    stop_.store(true);
    thread_.join();
    for (auto& c : conns_) {
      if (c) close(c->fd);
    }
    close(efd_);
    for (int lfd : lfds_) close(lfd);
    if (ep.net == Net::uds) unlink(reinterpret_cast<sockaddr_un*>(&ep.addr)->sun_path);
  }
  EpollEcho(const EpollEcho&) = delete;
  EpollEcho& operator=(const EpollEcho&) = delete;

  Endpoint ep;
  std::string addresses;  // every listener, comma-separated
  std::atomic<int> open{0};

 private:
  struct Conn {
    int fd = -1;
    std::vector<std::byte> in;
    std::vector<std::byte> out;
    std::size_t out_off = 0;
    bool want_out = false;
  };

  void run() {
    std::vector<epoll_event> events(256);
    std::vector<std::byte> scratch(64 * 1024);
    while (!stop_.load(std::memory_order_relaxed)) {
      const int n = epoll_wait(efd_, events.data(), static_cast<int>(events.size()), 20);
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        const std::uint32_t what = events[static_cast<std::size_t>(i)].events;
        if (std::find(lfds_.begin(), lfds_.end(), fd) != lfds_.end()) {
          accept_all(fd);
          continue;
        }
        Conn* c = static_cast<std::size_t>(fd) < conns_.size() ? conns_[static_cast<std::size_t>(fd)].get() : nullptr;
        if (c == nullptr) continue;
        if ((what & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 && !on_read(*c, scratch)) continue;
        if ((what & EPOLLOUT) != 0) flush(*c);
      }
    }
  }

  void accept_all(int lfd) {
    for (int i = 0; i < 64; ++i) {
      const int c = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c < 0) return;
      tune(c, ep.net);
      const auto idx = static_cast<std::size_t>(c);
      if (idx >= conns_.size()) conns_.resize(idx + 1024);
      conns_[idx] = std::make_unique<Conn>();
      conns_[idx]->fd = c;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = c;
      epoll_ctl(efd_, EPOLL_CTL_ADD, c, &ev);
      open.fetch_add(1);
    }
  }

  void drop(Conn& c) {
    epoll_ctl(efd_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    conns_[static_cast<std::size_t>(c.fd)].reset();
    open.fetch_sub(1);
  }

  // Returns false when the connection was closed.
  bool on_read(Conn& c, std::vector<std::byte>& scratch) {
    for (int round = 0; round < 16; ++round) {
      const ssize_t r = ::recv(c.fd, scratch.data(), scratch.size(), 0);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        drop(c);
        return false;
      }
      if (r < 0) break;
      c.in.insert(c.in.end(), scratch.begin(), scratch.begin() + r);
      if (static_cast<std::size_t>(r) < scratch.size()) break;
    }
    // Echo every complete frame.
    std::size_t pos = 0;
    while (c.in.size() - pos >= kHeader) {
      const std::size_t total = kHeader + frame_len(c.in.data() + pos);
      if (c.in.size() - pos < total) break;
      c.out.insert(c.out.end(), c.in.begin() + static_cast<std::ptrdiff_t>(pos),
                   c.in.begin() + static_cast<std::ptrdiff_t>(pos + total));
      pos += total;
    }
    c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(pos));
    if (!c.out.empty()) flush(c);
    return true;
  }

  void flush(Conn& c) {
    while (c.out_off < c.out.size()) {
      const ssize_t w = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        c.out.clear();
        c.out_off = 0;
        return;  // the read side will see the error and drop the connection
      }
      c.out_off += static_cast<std::size_t>(w);
    }
    if (c.out_off == c.out.size()) {
      c.out.clear();
      c.out_off = 0;
    }
    const bool want = !c.out.empty();
    if (want != c.want_out) {
      epoll_event ev{};
      ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
      ev.data.fd = c.fd;
      epoll_ctl(efd_, EPOLL_CTL_MOD, c.fd, &ev);
      c.want_out = want;
    }
  }

  std::vector<int> lfds_;
  int efd_ = -1;
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<Conn>> conns_;
  std::thread thread_;
};

}  // namespace

std::vector<double> latency(Net net, const LatencyParams& p) {
  BlockingEcho srv(net);
  const int fd = connect_to(srv.ep);
  const std::vector<std::byte> frame = make_frame(p.size);
  std::vector<std::byte> buf(frame.size());
  for (int i = 0; i < p.warmup; ++i) ping(fd, frame, buf);
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(p.iterations));
  const auto start = Clock::now();
  for (int i = 0; i < p.iterations; ++i) {
    const auto t0 = Clock::now();
    if (!ping(fd, frame, buf)) break;
    samples.push_back(micros_between(t0, Clock::now()));
    if ((i & 63) == 0 && seconds_since(start) > p.max_seconds) break;
  }
  close(fd);  // the server sees EOF and exits
  return samples;
}

ThroughputResult throughput(Net net, const ThroughputParams& p) {
  Endpoint ep;
  const int lfd = make_listener(net, ep, false);
  ThroughputResult res;
  Clock::time_point end{};
  std::thread receiver([&] {
    const int c = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    std::vector<std::byte> buf(256 * 1024);
    std::size_t have = 0;
    std::uint64_t msgs = 0;
    std::uint64_t bytes = 0;
    for (;;) {
      const ssize_t r = ::recv(c, buf.data() + have, buf.size() - have, 0);
      if (r <= 0) break;
      have += static_cast<std::size_t>(r);
      std::size_t pos = 0;
      bool finished = false;
      while (have - pos >= kHeader) {
        const std::uint32_t len = frame_len(buf.data() + pos);
        if (have - pos < kHeader + len) break;
        if (len == 0) {
          finished = true;
          break;
        }
        ++msgs;
        bytes += len;
        pos += kHeader + len;
      }
      if (finished) {
        end = Clock::now();
        break;
      }
      std::memmove(buf.data(), buf.data() + pos, have - pos);
      have -= pos;
    }
    res.msgs = static_cast<double>(msgs);
    res.bytes = static_cast<double>(bytes);
    close(c);
  });
  const int fd = connect_to(ep);
  // Batches of 16 frames per send (tofu gathers up to 16 frames per send too); each payload is
  // written per message, as an application would fill it.
  constexpr std::size_t kBatch = 16;
  const std::size_t frame = kHeader + p.size;
  std::vector<std::byte> batch(kBatch * frame);
  const auto len = static_cast<std::uint32_t>(p.size);
  const auto t0 = Clock::now();
  for (std::uint64_t i = 0;; ++i) {
    if (p.messages > 0 ? i * kBatch >= p.messages : ((i & 3) == 0 && seconds_since(t0) > p.seconds)) break;
    for (std::size_t k = 0; k < kBatch; ++k) {
      std::byte* f = batch.data() + k * frame;
      std::memset(f, 0, kHeader);
      std::memcpy(f, &len, sizeof(len));
      std::memset(f + kHeader, static_cast<int>(i & 0x7f), p.size);
    }
    write_all(fd, batch.data(), batch.size());
  }
  const std::vector<std::byte> marker = make_frame(0);
  write_all(fd, marker.data(), marker.size());
  receiver.join();
  close(fd);
  close(lfd);
  if (net == Net::uds) unlink(reinterpret_cast<sockaddr_un*>(&ep.addr)->sun_path);
  res.seconds = std::chrono::duration<double>(end - t0).count();
  return res;
}

FaninResult fanin(Net net, const FaninParams& p) {
  EpollEcho srv(net);
  std::vector<int> fds;
  for (int i = 0; i < p.clients; ++i) fds.push_back(connect_to(srv.ep));
  const std::vector<std::byte> frame = make_frame(p.size);
  std::vector<std::byte> buf(frame.size());
  auto round = [&] {
    for (int fd : fds) write_all(fd, frame.data(), frame.size());
    for (int fd : fds) {
      if (!read_all(fd, buf.data(), frame.size())) throw std::runtime_error("floor fan-in: EOF");
    }
  };
  round();
  FaninResult res;
  const auto t0 = Clock::now();
  do {
    round();
    res.requests += static_cast<double>(fds.size());
  } while (seconds_since(t0) < p.seconds);
  res.seconds = seconds_since(t0);
  for (int fd : fds) close(fd);
  return res;
}

ChurnResult churn(Net net, const ChurnParams& p) {
  EpollEcho srv(net);
  const std::vector<std::byte> frame = make_frame(p.size);
  std::vector<std::byte> buf(frame.size());
  ChurnResult res;
  const auto t0 = Clock::now();
  for (int i = 0; i < p.max_cycles && seconds_since(t0) < p.seconds; ++i) {
    const int fd = connect_to(srv.ep);
    if (ping(fd, frame, buf)) {
      res.cycles += 1;
    } else {
      ++res.failures;
    }
    close(fd);
  }
  res.seconds = seconds_since(t0);
  return res;
}

ScaleResult scale(Net net, const ScaleParams& p) {
  ScaleResult res;
  EpollEcho srv(net, scale_listeners(net, p.channels));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const std::size_t before = trimmed_rss_bytes();
  ScaleChild child("floor", srv.addresses, "-", p);
  const std::string ready = child.next_line(900);  // 60,000 connections on a loaded machine
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

int scale_child(const std::string& address, const ScaleParams& p) {
  std::vector<Endpoint> eps;
  for (const std::string& a : split_list(address)) eps.push_back(parse_endpoint(a));
  const std::size_t before = rss_bytes();
  std::vector<int> fds;
  fds.reserve(static_cast<std::size_t>(p.channels));
  for (int i = 0; i < p.channels; ++i) fds.push_back(connect_to(eps[static_cast<std::size_t>(i) % eps.size()]));
  const std::vector<std::byte> frame = make_frame(64);
  std::vector<std::byte> buf(frame.size());
  for (int fd : fds) {
    if (!ping(fd, frame, buf)) return 1;
  }
  const std::size_t after = rss_bytes();
  std::printf("ready %.1f\n", (static_cast<double>(after) - static_cast<double>(before)) / p.channels);
  std::fflush(stdout);
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(p.iterations));
  const auto t0 = Clock::now();
  for (int i = 0; i < p.iterations; ++i) {
    const auto a = Clock::now();
    if (!ping(fds[static_cast<std::size_t>(i) % fds.size()], frame, buf)) return 1;
    samples.push_back(micros_between(a, Clock::now()));
    if ((i & 63) == 0 && seconds_since(t0) > p.max_seconds) break;
  }
  print_result_line(samples);
  for (int fd : fds) close(fd);
  return 0;
}

}  // namespace bench::raw
