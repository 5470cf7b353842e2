// tofu_probe: one scenario of tofu_bench for a fixed number of messages, with the process's own
// per-message counters (context switches, CPU time). Meant to run under tools whose figures do not
// depend on the machine's load: `valgrind --tool=callgrind` (instructions) and `strace -f -c`
// (syscalls); bench/probe.sh runs it twice with different counts and prints the per-message
// difference, so set-up and tear-down cancel out.
//
//   tofu_probe rtt|throughput|scale [--impl ours|floor|zmq] [--transport tcp|uds] [--backend epoll]
//              [--size 64] [--count N] [--spin US] [--channels N]
// scale: round trips over N open channels (clients in a child process; run callgrind with
// --trace-children=yes and add both processes' totals).
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

#include "bench.hpp"

namespace {

struct Usage {
  double user_us = 0;
  double sys_us = 0;
  long voluntary = 0;    // a thread slept (a hand-off or a lock wait)
  long involuntary = 0;  // a thread was preempted
};

Usage usage_now() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);  // every thread of the process, finished ones included
  Usage u;
  u.user_us = static_cast<double>(r.ru_utime.tv_sec) * 1e6 + static_cast<double>(r.ru_utime.tv_usec);
  u.sys_us = static_cast<double>(r.ru_stime.tv_sec) * 1e6 + static_cast<double>(r.ru_stime.tv_usec);
  u.voluntary = r.ru_nvcsw;
  u.involuntary = r.ru_nivcsw;
  return u;
}

// The client side of the scale scenario (ScaleChild re-runs this executable), as in tofu_bench.
int scale_child_main(int argc, char** argv) {
  if (argc < 8) return 2;
  bench::raise_fd_limit(150000);
  bench::ScaleParams p;
  p.channels = std::atoi(argv[5]);
  p.iterations = std::atoi(argv[6]);
  p.max_seconds = std::atof(argv[7]);
  try {
    if (std::string(argv[2]) == "ours") return bench::ours::scale_child(argv[3], argv[4], p);
    return bench::raw::scale_child(argv[3], p);
  } catch (const std::exception& e) {
    std::printf("error %s\n", e.what());
    return 1;
  }
}

int usage_error() {
  std::fputs("tofu_probe rtt|throughput|scale [--impl ours|floor|zmq] [--transport tcp|uds] [--backend epoll]\n"
             "           [--size 64] [--count N] [--spin US] [--channels N]\n",
             stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace bench;
  if (argc > 1 && std::string(argv[1]) == "--scale-child") return scale_child_main(argc, argv);
  if (argc < 2) return usage_error();
  const std::string scenario = argv[1];
  std::string impl = "ours";
  std::string backend = "epoll";
  Net net = Net::tcp;
  std::size_t size = 64;
  long count = 10000;
  int channels = 10;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const std::string v = argv[i + 1];
    if (a == "--impl") {
      impl = v;
    } else if (a == "--transport") {
      net = v == "uds" ? Net::uds : Net::tcp;
    } else if (a == "--backend") {
      backend = v;
    } else if (a == "--size") {
      size = static_cast<std::size_t>(std::stoul(v));
    } else if (a == "--count") {
      count = std::stol(v);
    } else if (a == "--channels") {
      channels = std::stoi(v);
    } else if (a == "--spin") {
      ours::set_spin(std::chrono::microseconds(std::stol(v)));
    } else {
      return usage_error();
    }
  }
  if ((scenario != "rtt" && scenario != "throughput" && scenario != "scale") || count <= 0) return usage_error();
  raise_fd_limit(150000);
  const Usage u0 = usage_now();
  const auto t0 = Clock::now();
  double done = 0;
  try {
    if (scenario == "rtt") {
      LatencyParams p;
      p.size = size;
      p.warmup = 0;
      p.iterations = static_cast<int>(count);
      p.max_seconds = 1e9;
      std::vector<double> v;
      if (impl == "floor") {
        v = raw::latency(net, p);
      } else if (impl == "zmq") {
        v = zmqb::latency(net, p);
      } else {
        v = ours::latency(net, backend, p);
      }
      done = static_cast<double>(v.size());
    } else if (scenario == "scale") {
      ScaleParams p;
      p.channels = channels;
      p.iterations = static_cast<int>(count);
      p.max_seconds = 1e9;
      const ScaleResult r = impl == "floor" ? raw::scale(net, p) : ours::scale(net, backend, p);
      if (!r.ok) throw std::runtime_error(r.error);
      done = static_cast<double>(count);
      std::printf("scale %d channels: RTT p50 %.1f us, mean %.1f us; RSS per idle channel: server %.0f B, client %.0f B\n",
                  channels, r.p50_rtt_us, r.mean_rtt_us, r.server_rss_per_channel, r.client_rss_per_channel);
    } else {
      ThroughputParams p;
      p.size = size;
      p.messages = static_cast<std::uint64_t>(count);
      ThroughputResult r;
      if (impl == "floor") {
        r = raw::throughput(net, p);
      } else if (impl == "zmq") {
        r = zmqb::throughput(net, p);
      } else {
        r = ours::throughput(net, backend, p);
      }
      done = r.msgs;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tofu_probe: %s\n", e.what());
    return 1;
  }
  const double secs = seconds_since(t0);
  const Usage u1 = usage_now();
  const double n = done > 0 ? done : 1;
  std::printf("%s %s %s %zu B: %.0f messages in %.3f s (%.2f us each); per message: %.3f voluntary, %.3f "
              "involuntary context switches, %.2f us user, %.2f us sys\n",
              scenario.c_str(), impl.c_str(), net_name(net), size, done, secs, secs * 1e6 / n,
              static_cast<double>(u1.voluntary - u0.voluntary) / n,
              static_cast<double>(u1.involuntary - u0.involuntary) / n, (u1.user_us - u0.user_us) / n,
              (u1.sys_us - u0.sys_us) / n);
  return done > 0 ? 0 : 1;
}
