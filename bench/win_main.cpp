// tofu_bench for Windows (run under Wine here): request/response RTT, one-way throughput and
// connection churn over TCP, tofu with the afd backend vs a blocking-Winsock floor written here,
// both in this process. No libzmq, no UDS (Wine 8 has no AF_UNIX), no fan-in/scale yet. Wine figures are only ever
// compared with Wine's own floor from the same run, never with Linux figures.
#include <winsock2.h>
#include <ws2tcpip.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench.hpp"

namespace bench {

const char* net_name(Net n) noexcept { return n == Net::tcp ? "tcp" : "uds"; }

std::string uds_path(const char* tag) {
  static int counter = 0;
  return std::string("C:\\tofu-bench-") + tag + "-" + std::to_string(counter++) + ".sock";
}

namespace raw {
namespace {

struct Listener {
  SOCKET fd = INVALID_SOCKET;
  sockaddr_in addr{};
};

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string(what) + ": WSA error " + std::to_string(WSAGetLastError()));
}

Listener make_listener() {
  Listener l;
  l.fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (l.fd == INVALID_SOCKET) fail("socket");
  l.addr.sin_family = AF_INET;
  l.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  l.addr.sin_port = 0;
  if (bind(l.fd, reinterpret_cast<const sockaddr*>(&l.addr), sizeof(l.addr)) != 0) fail("bind");
  if (listen(l.fd, 64) != 0) fail("listen");
  int len = sizeof(l.addr);
  getsockname(l.fd, reinterpret_cast<sockaddr*>(&l.addr), &len);
  return l;
}

void nodelay(SOCKET s) {
  BOOL one = TRUE;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&one), sizeof(one));
}

SOCKET connect_to(const sockaddr_in& addr) {
  const SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (s == INVALID_SOCKET) fail("socket");
  if (connect(s, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) fail("connect");
  nodelay(s);
  return s;
}

void write_all(SOCKET s, const std::byte* p, std::size_t n) {
  while (n > 0) {
    const int chunk = static_cast<int>(std::min<std::size_t>(n, 1 << 20));
    const int w = send(s, reinterpret_cast<const char*>(p), chunk, 0);
    if (w <= 0) fail("send");
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

bool read_all(SOCKET s, std::byte* p, std::size_t n) {
  while (n > 0) {
    const int chunk = static_cast<int>(std::min<std::size_t>(n, 1 << 20));
    const int r = recv(s, reinterpret_cast<char*>(p), chunk, 0);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

std::uint32_t frame_len(const std::byte* h) {
  std::uint32_t len = 0;
  std::memcpy(&len, h, sizeof(len));
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

}  // namespace

std::vector<double> latency(Net, const LatencyParams& p) {
  Listener l = make_listener();
  std::thread server([&] {
    const SOCKET c = accept(l.fd, nullptr, nullptr);
    if (c == INVALID_SOCKET) return;
    nodelay(c);
    std::vector<std::byte> buf(kHeader + 65536);
    for (;;) {
      if (!read_all(c, buf.data(), kHeader)) break;
      const std::uint32_t len = frame_len(buf.data());
      if (!read_all(c, buf.data() + kHeader, len)) break;
      write_all(c, buf.data(), kHeader + len);
    }
    closesocket(c);
  });
  const SOCKET s = connect_to(l.addr);
  const std::vector<std::byte> frame = make_frame(p.size);
  std::vector<std::byte> buf(frame.size());
  auto ping = [&] {
    write_all(s, frame.data(), frame.size());
    return read_all(s, buf.data(), frame.size());
  };
  for (int i = 0; i < p.warmup; ++i) ping();
  std::vector<double> samples;
  const auto start = Clock::now();
  for (int i = 0; i < p.iterations; ++i) {
    const auto t0 = Clock::now();
    if (!ping()) break;
    samples.push_back(micros_between(t0, Clock::now()));
    if ((i & 63) == 0 && seconds_since(start) > p.max_seconds) break;
  }
  closesocket(s);
  server.join();
  closesocket(l.fd);
  return samples;
}

ThroughputResult throughput(Net, const ThroughputParams& p) {
  Listener l = make_listener();
  ThroughputResult res;
  Clock::time_point end{};
  std::thread receiver([&] {
    const SOCKET c = accept(l.fd, nullptr, nullptr);
    if (c == INVALID_SOCKET) return;
    std::vector<std::byte> buf(256 * 1024);
    std::size_t have = 0;
    for (;;) {
      const int r = recv(c, reinterpret_cast<char*>(buf.data() + have), static_cast<int>(buf.size() - have), 0);
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
        res.msgs += 1;
        res.bytes += len;
        pos += kHeader + len;
      }
      if (finished) {
        end = Clock::now();
        break;
      }
      std::memmove(buf.data(), buf.data() + pos, have - pos);
      have -= pos;
    }
    closesocket(c);
  });
  const SOCKET s = connect_to(l.addr);
  constexpr std::size_t kBatch = 16;
  const std::size_t frame = kHeader + p.size;
  std::vector<std::byte> batch(kBatch * frame);
  const std::vector<std::byte> one = make_frame(p.size);
  const auto t0 = Clock::now();
  for (std::uint64_t i = 0;; ++i) {
    if ((i & 3) == 0 && seconds_since(t0) > p.seconds) break;
    for (std::size_t k = 0; k < kBatch; ++k) std::copy(one.begin(), one.end(), batch.begin() + static_cast<std::ptrdiff_t>(k * frame));
    write_all(s, batch.data(), batch.size());
  }
  const std::vector<std::byte> marker = make_frame(0);
  write_all(s, marker.data(), marker.size());
  receiver.join();
  closesocket(s);
  closesocket(l.fd);
  res.seconds = std::chrono::duration<double>(end - t0).count();
  return res;
}

// Connect, one request/response, close, as many times as fit in p.seconds (at most p.max_cycles:
// TIME_WAIT). The echo server serves one connection at a time, like the client makes them.
ChurnResult churn(Net, const ChurnParams& p) {
  Listener l = make_listener();
  std::thread server([&] {
    std::vector<std::byte> buf(kHeader + 65536);
    for (;;) {
      const SOCKET c = accept(l.fd, nullptr, nullptr);
      if (c == INVALID_SOCKET) return;  // the listener was closed: done
      nodelay(c);
      while (read_all(c, buf.data(), kHeader)) {
        const std::uint32_t len = frame_len(buf.data());
        if (!read_all(c, buf.data() + kHeader, len)) break;
        write_all(c, buf.data(), kHeader + len);
      }
      closesocket(c);
    }
  });
  const std::vector<std::byte> frame = make_frame(p.size);
  std::vector<std::byte> buf(frame.size());
  ChurnResult res;
  std::exception_ptr failed;
  const auto t0 = Clock::now();
  try {
    for (int i = 0; i < p.max_cycles && seconds_since(t0) < p.seconds; ++i) {
      const SOCKET s = connect_to(l.addr);
      write_all(s, frame.data(), frame.size());
      if (read_all(s, buf.data(), buf.size())) {
        res.cycles += 1;
      } else {
        ++res.failures;
      }
      closesocket(s);
    }
  } catch (...) {
    failed = std::current_exception();  // rethrown once the server thread is joined
  }
  res.seconds = seconds_since(t0);
  closesocket(l.fd);
  server.join();
  if (failed) std::rethrow_exception(failed);
  return res;
}

}  // namespace raw

namespace {

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  const auto idx = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, idx == 0 ? 0 : idx - 1)];
}

std::string fmt(double v) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof(buf), v >= 100 ? "%.0f" : "%.1f", v);
  return buf;
}

struct Row {
  std::string scenario;
  std::size_t size;
  std::string metric;
  std::string unit;
  bool lower_better;
  double ours;
  double floor;
};

int g_failures = 0;

template <typename F>
void attempt(const std::string& what, F&& f) {
  std::fprintf(stderr, "  %s\n", what.c_str());
  try {
    f();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "    FAILED: %s\n", e.what());
    ++g_failures;
  }
}

}  // namespace
}  // namespace bench

namespace bench {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

bool wanted(const std::string& only, const char* scenario) {
  if (only.empty()) return true;
  const std::string list = "," + only + ",";
  return list.find(std::string(",") + scenario + ",") != std::string::npos;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  bool quick = false;
  int rounds = 3;
  std::string csv;
  std::string only;
  std::string impls = "ours,floor";
  std::vector<std::size_t> sizes{64, 1024, 65535};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") quick = true;
    else if (a == "--csv" && i + 1 < argc) csv = argv[++i];
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else if (a == "--rounds" && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else if (a == "--impls" && i + 1 < argc) impls = argv[++i];
    else if (a == "--sizes" && i + 1 < argc) {
      sizes.clear();
      std::stringstream list(argv[++i]);
      for (std::string item; std::getline(list, item, ',');) sizes.push_back(std::clamp<std::size_t>(std::stoul(item), 1, 65535));
    }
    else {
      std::puts("tofu_bench_win [--quick] [--rounds N] [--only rtt,throughput,churn] [--sizes 64,1024,65535]\n"
                "               [--impls ours,floor] [--csv FILE]:\n"
                "RTT, throughput and churn over TCP, tofu (afd) vs blocking Winsock. Each point is measured\n"
                "N times (default 3), floor and tofu interleaved: RTT percentiles over all samples, rates as\n"
                "the median of the rounds. --impls measures only some columns (the others show n/a), e.g. to\n"
                "trace one of them.");
      return a == "--help" ? 0 : 2;
    }
  }
  if (quick) rounds = 1;
  WSADATA wsa;
  if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) return 1;
  std::vector<Row> rows;
  LatencyParams lp;
  if (quick) {
    lp.warmup = 20;
    lp.iterations = 200;
    lp.max_seconds = 0.5;
  } else {
    lp.iterations = 4000;
  }
  ThroughputParams tp;
  tp.seconds = quick ? 0.2 : 1.0;
  const bool floor_on = wanted(impls, "floor");
  const bool ours_on = wanted(impls, "ours");
  for (std::size_t size : sizes) {
    if (!wanted(only, "rtt")) break;
    LatencyParams p = lp;
    p.size = size;
    std::vector<double> fl, us;
    for (int r = 0; r < rounds; ++r) {
      if (floor_on) attempt("rtt floor " + std::to_string(size), [&] {
        auto v = raw::latency(Net::tcp, p);
        fl.insert(fl.end(), v.begin(), v.end());
      });
      if (ours_on) attempt("rtt tofu-afd " + std::to_string(size), [&] {
        auto v = ours::latency(Net::tcp, "afd", p);
        us.insert(us.end(), v.begin(), v.end());
      });
    }
    std::sort(fl.begin(), fl.end());
    std::sort(us.begin(), us.end());
    for (auto [name, q] : {std::pair{"p50", 0.5}, std::pair{"p99", 0.99}, std::pair{"p99.9", 0.999}, std::pair{"max", 1.0}}) {
      rows.push_back({"rtt", size, name, "µs", true, percentile(us, q), percentile(fl, q)});
    }
  }
  for (std::size_t size : sizes) {
    if (!wanted(only, "throughput")) break;
    ThroughputParams p = tp;
    p.size = size;
    std::vector<double> fl_msgs, us_msgs, fl_mb, us_mb;
    for (int r = 0; r < rounds; ++r) {
      if (floor_on) attempt("throughput floor " + std::to_string(size), [&] {
        const ThroughputResult t = raw::throughput(Net::tcp, p);
        fl_msgs.push_back(t.msgs_per_s());
        fl_mb.push_back(t.mb_per_s());
      });
      if (ours_on) attempt("throughput tofu-afd " + std::to_string(size), [&] {
        const ThroughputResult t = ours::throughput(Net::tcp, "afd", p);
        us_msgs.push_back(t.msgs_per_s());
        us_mb.push_back(t.mb_per_s());
      });
    }
    rows.push_back({"throughput", size, "msgs/s", "1/s", false, median(us_msgs), median(fl_msgs)});
    rows.push_back({"throughput", size, "MB/s", "MB/s", false, median(us_mb), median(fl_mb)});
  }
  if (wanted(only, "churn")) {
    ChurnParams p;
    p.seconds = quick ? 0.2 : 1.0;
    p.max_cycles = quick ? 100 : 2000;  // bounded: every cycle leaves a socket in TIME_WAIT
    std::vector<double> fl, us;
    for (int r = 0; r < rounds; ++r) {
      if (floor_on) attempt("churn floor", [&] { fl.push_back(raw::churn(Net::tcp, p).per_s()); });
      if (ours_on) attempt("churn tofu-afd", [&] { us.push_back(ours::churn(Net::tcp, "afd", p).per_s()); });
    }
    rows.push_back({"churn", p.size, "cycles/s", "1/s", false, median(us), median(fl)});
  }
  std::cout << "# tofu_bench_win" << (quick ? " --quick" : "") << " (" << rounds << (rounds == 1 ? " round" : " rounds") << ")"
            << " (Windows build; under Wine compare only with the Wine floor of this run)\n\n"
            << "| scenario | size | transport | backend | metric | unit | better | ours | floor | ours/floor |\n"
            << "|---|---|---|---|---|---|---|---:|---:|---:|\n";
  std::ofstream f;
  if (!csv.empty()) {
    f.open(csv);
    f << "scenario,size,transport,backend,metric,unit,better,ours,floor,zmq,ours_over_floor,ours_over_zmq\n";
  }
  for (const Row& r : rows) {
    const double ratio = r.ours / r.floor;
    char rbuf[32];
    std::snprintf(rbuf, sizeof(rbuf), "%.2f×", ratio);
    std::cout << "| " << r.scenario << " | " << r.size << " B | tcp | afd | " << r.metric << " | " << r.unit << " | "
              << (r.lower_better ? "lower" : "higher") << " | " << fmt(r.ours) << " | " << fmt(r.floor) << " | "
              << (std::isnan(ratio) ? std::string("n/a") : std::string(rbuf)) << " |\n";
    if (f) {
      f << r.scenario << ',' << r.size << ",tcp,afd," << r.metric << ',' << r.unit << ','
        << (r.lower_better ? "lower" : "higher") << ',' << r.ours << ',' << r.floor << ",," << ratio << ",\n";
    }
  }
  std::cout << "\nrows: " << rows.size() << "\n";
  WSACleanup();
  // Everything is printed first; the exit status then says whether every measurement worked.
  if (g_failures > 0) std::fprintf(stderr, "tofu_bench_win: %d measurement(s) failed\n", g_failures);
  return rows.empty() || g_failures > 0 ? 1 : 0;
}
