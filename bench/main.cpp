// tofu_bench: every scenario of issue F for tofu (poll and epoll backends), the raw-socket floor and
// libzmq, measured in one process run; prints one markdown table, optionally writes CSV and CDF data.
// Usage: see --help and bench/README.md.
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench.hpp"

namespace bench {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Options {
  bool quick = false;
  std::string csv;
  std::string cdf;
  std::vector<std::string> only = {"latency", "throughput", "fanin", "scale", "churn"};
  std::vector<std::string> backends = {"poll", "epoll"};
  std::vector<std::string> scale_backends = {"epoll"};  // poll(2) with 10k fds: see docs/performance.md
  std::vector<std::size_t> sizes = {64, 1024, 65535};
  std::vector<Net> nets = {Net::tcp, Net::uds};
  int scale_channels = 60000;
  std::vector<int> fanin_clients = {100, 1000};
  double seconds = 1.0;  // per throughput / fan-in / churn measurement
  int rounds = 3;          // interleaved slices of each RTT / throughput measurement
  bool run_floor = true;  // --impls: which columns to measure (profiling a single one)
  bool run_zmq = true;
  bool run_ours = true;
};

struct Row {
  std::string scenario;
  std::size_t size = 0;
  std::string net;
  std::string backend;
  std::string metric;
  std::string unit;
  bool lower_better = true;
  double ours = kNaN;
  double floor = kNaN;
  double zmq = kNaN;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool wanted(const Options& o, const std::string& scenario) {
  return std::find(o.only.begin(), o.only.end(), scenario) != o.only.end();
}

std::vector<std::string> g_errors;

// Runs one measurement; an exception becomes a note and NaN results (the run goes on).
template <typename F>
bool attempt(const std::string& what, F&& f) {
  const auto t0 = Clock::now();
  std::fprintf(stderr, "  %-44s", what.c_str());
  std::fflush(stderr);
  try {
    f();
    std::fprintf(stderr, " %6.2f s\n", seconds_since(t0));
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, " FAILED: %s\n", e.what());
    g_errors.push_back(what + ": " + e.what());
    return false;
  }
}

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return kNaN;
  const auto idx = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size()))) ;
  return sorted[std::min(sorted.size() - 1, idx == 0 ? 0 : idx - 1)];
}

struct Cdf {
  std::string label;
  std::vector<double> sorted;
};

std::string fmt(double v) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  const double a = std::fabs(v);
  if (a >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.2fM", v / 1e6);
  } else if (a >= 1e5) {
    std::snprintf(buf, sizeof(buf), "%.0fk", v / 1e3);
  } else if (a >= 100) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else if (a >= 10) {
    std::snprintf(buf, sizeof(buf), "%.1f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f", v);
  }
  return buf;
}

std::string fmt_ratio(double a, double b) {
  if (std::isnan(a) || std::isnan(b) || b == 0) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f×", a / b);
  return buf;
}

std::string size_name(std::size_t s) {
  if (s == 0) return "-";
  if (s == 1024) return "1 KiB";
  return std::to_string(s) + " B";
}

std::string run_cmd(const char* cmd) {
  std::string out;
  if (FILE* f = popen(cmd, "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof(buf), f) != nullptr) out += buf;
    pclose(f);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

class Bench {
 public:
  explicit Bench(Options o) : o_(std::move(o)) {
    if (o_.quick) {
      lat_.warmup = 20;
      lat_.iterations = 300;
      lat_.max_seconds = 0.3;
      o_.seconds = 0.1;
      o_.scale_channels = std::min(o_.scale_channels, 100);
      o_.fanin_clients = {10};
      o_.rounds = 1;
    }
  }

  void run() {
    if (wanted(o_, "latency")) latency();
    if (wanted(o_, "throughput")) throughput();
    if (wanted(o_, "fanin")) fanin();
    if (wanted(o_, "scale")) scale();
    if (wanted(o_, "churn")) churn();
  }

  void print_table(std::ostream& out) const {
    out << "| scenario | size | transport | backend | metric | unit | better | ours | floor | zmq | ours/floor | ours/zmq |\n";
    out << "|---|---|---|---|---|---|---|---:|---:|---:|---:|---:|\n";
    for (const Row& r : rows_) {
      out << "| " << r.scenario << " | " << size_name(r.size) << " | " << r.net << " | " << r.backend << " | "
          << r.metric << " | " << r.unit << " | " << (r.lower_better ? "lower" : "higher") << " | " << fmt(r.ours)
          << " | " << fmt(r.floor) << " | " << fmt(r.zmq) << " | " << fmt_ratio(r.ours, r.floor) << " | "
          << fmt_ratio(r.ours, r.zmq) << " |\n";
    }
  }

  // The targets, checked on the rows measured (every backend).
  void print_targets(std::ostream& out) const {
    out << "\n| target | transport | size | backend | value | goal | met |\n|---|---|---|---|---:|---|---|\n";
    auto line = [&](const std::string& target, const Row& r, double v, const std::string& goal, bool met) {
      out << "| " << target << " | " << r.net << " | " << size_name(r.size) << " | " << r.backend << " | " << fmt(v)
          << (target.find("RSS") == std::string::npos ? "×" : " B") << " | " << goal << " | "
          << (std::isnan(v) ? "n/a" : (met ? "yes" : "**no**")) << " |\n";
    };
    for (const Row& r : rows_) {
      if (r.scenario == "rtt" && r.metric == "p50") {
        const double vf = r.ours / r.floor;
        const double vz = r.ours / r.zmq;
        line("RTT p50 vs floor", r, vf, "≤ 1.15×", vf <= 1.15);
        line("RTT p50 vs zmq REQ/REP", r, vz, "≤ 0.8×", vz <= 0.8);
      }
      if (r.scenario == "throughput" && r.size == 64 && r.metric == "msgs/s") {
        const double v = r.ours / r.zmq;
        line("64 B throughput vs zmq PUSH/PULL", r, v, "≥ 1.5×", v >= 1.5);
      }
      if (r.scenario == "scale" && r.metric.find("/ 10 ch") != std::string::npos) {
        line("scale per message: " + r.metric, r, r.ours, "≤ 1.2×", r.ours <= 1.2);
      }
      if (r.scenario == "scale" && r.metric.find("RSS") != std::string::npos) {
        line("idle channel RSS (" + r.metric.substr(r.metric.find(',') + 2) + ")", r, r.ours, "≤ 1024 B", r.ours <= 1024);
      }
    }
  }

  void write_csv(const std::string& path) const {
    std::ofstream f(path);
    f << "scenario,size,transport,backend,metric,unit,better,ours,floor,zmq,ours_over_floor,ours_over_zmq\n";
    auto num = [](double v) { return std::isnan(v) ? std::string("") : std::to_string(v); };
    auto ratio = [&](double a, double b) { return (std::isnan(a) || std::isnan(b) || b == 0) ? std::string("") : std::to_string(a / b); };
    for (const Row& r : rows_) {
      f << r.scenario << ',' << r.size << ',' << r.net << ',' << r.backend << ',' << r.metric << ',' << r.unit << ','
        << (r.lower_better ? "lower" : "higher") << ',' << num(r.ours) << ',' << num(r.floor) << ',' << num(r.zmq)
        << ',' << ratio(r.ours, r.floor) << ',' << ratio(r.ours, r.zmq) << '\n';
    }
  }

  // Latency CDFs of the 64 B round trips, one gnuplot data block per series.
  void write_cdf(const std::string& path) const {
    std::ofstream f(path);
    for (const Cdf& c : cdfs_) {
      f << "\"" << c.label << "\" \"fraction\"\n";
      const std::size_t n = c.sorted.size();
      if (n == 0) {
        f << "0 0\n\n\n";
        continue;
      }
      const std::size_t points = std::min<std::size_t>(n, 400);
      for (std::size_t i = 0; i < points; ++i) {
        const std::size_t idx = i * n / points;
        f << c.sorted[idx] << ' ' << static_cast<double>(idx + 1) / static_cast<double>(n) << '\n';
      }
      for (double q : {0.99, 0.995, 0.999, 0.9999}) f << percentile(c.sorted, q) << ' ' << q << '\n';
      f << c.sorted.back() << " 1\n\n\n";
    }
  }

  [[nodiscard]] std::size_t row_count() const { return rows_.size(); }

 private:
  // RTT and throughput are measured in `rounds` interleaved slices (floor, zmq, ours..., floor,
  // zmq, ours...), merged afterwards: a burst of load from other processes then hits every column
  // alike instead of one of them.
  static std::string round_tag(int r, int rounds) {
    return rounds > 1 ? " [" + std::to_string(r + 1) + "/" + std::to_string(rounds) + "]" : std::string();
  }
  static void append(std::vector<double>& to, const std::vector<double>& from) { to.insert(to.end(), from.begin(), from.end()); }
  static void add(ThroughputResult& to, const ThroughputResult& from) {
    if (from.seconds <= 0) return;
    to.msgs += from.msgs;
    to.bytes += from.bytes;
    to.seconds += from.seconds;
  }

  void latency() {
    std::fprintf(stderr, "rtt (request/response, one client)\n");
    const int rounds = std::max(1, o_.rounds);
    for (std::size_t size : o_.sizes) {
      LatencyParams p = lat_;
      p.size = size;
      if (size > 4096 && !o_.quick) p.iterations = 6000;
      p.iterations = std::max(1, p.iterations / rounds);
      p.max_seconds /= rounds;
      for (Net net : o_.nets) {
        const std::string tag = std::string(net_name(net)) + " " + size_name(size);
        std::vector<double> fl, zq;
        std::map<std::string, std::vector<double>> us;
        for (int r = 0; r < rounds; ++r) {
          const std::string rt = round_tag(r, rounds);
          if (o_.run_floor) attempt("floor " + tag + rt, [&] { append(fl, raw::latency(net, p)); });
          if (o_.run_zmq) attempt("zmq   " + tag + rt, [&] { append(zq, zmqb::latency(net, p)); });
          for (const std::string& b : o_.backends) {
            if (o_.run_ours) attempt("tofu-" + b + " " + tag + rt, [&] { append(us[b], ours::latency(net, b, p)); });
          }
        }
        std::sort(fl.begin(), fl.end());
        std::sort(zq.begin(), zq.end());
        if (size == 64) {
          cdfs_.push_back({std::string("floor ") + net_name(net), fl});
          cdfs_.push_back({std::string("zmq ") + net_name(net), zq});
        }
        for (const std::string& b : o_.backends) {
          std::vector<double>& v = us[b];
          std::sort(v.begin(), v.end());
          if (size == 64) cdfs_.push_back({"tofu-" + b + " " + net_name(net), v});
          for (auto [name, q] : {std::pair{"p50", 0.5}, std::pair{"p99", 0.99}, std::pair{"p99.9", 0.999}, std::pair{"max", 1.0}}) {
            rows_.push_back({"rtt", size, net_name(net), b, name, "µs", true, percentile(v, q), percentile(fl, q), percentile(zq, q)});
          }
        }
      }
    }
  }

  void throughput() {
    std::fprintf(stderr, "throughput (one way, one connection)\n");
    const int rounds = std::max(1, o_.rounds);
    for (std::size_t size : o_.sizes) {
      ThroughputParams p;
      p.size = size;
      p.seconds = o_.seconds / rounds;
      for (Net net : o_.nets) {
        const std::string tag = std::string(net_name(net)) + " " + size_name(size);
        ThroughputResult fl, zq;
        std::map<std::string, ThroughputResult> us;
        for (int r = 0; r < rounds; ++r) {
          const std::string rt = round_tag(r, rounds);
          if (o_.run_floor) attempt("floor " + tag + rt, [&] { add(fl, raw::throughput(net, p)); });
          if (o_.run_zmq) attempt("zmq   " + tag + rt, [&] { add(zq, zmqb::throughput(net, p)); });
          for (const std::string& b : o_.backends) {
            if (o_.run_ours) attempt("tofu-" + b + " " + tag + rt, [&] { add(us[b], ours::throughput(net, b, p)); });
          }
        }
        for (const std::string& b : o_.backends) {
          const ThroughputResult& u = us[b];
          rows_.push_back({"throughput", size, net_name(net), b, "msgs/s", "1/s", false, u.msgs_per_s(), fl.msgs_per_s(), zq.msgs_per_s()});
          rows_.push_back({"throughput", size, net_name(net), b, "MB/s", "MB/s", false, u.mb_per_s(), fl.mb_per_s(), zq.mb_per_s()});
        }
      }
    }
  }

  void fanin() {
    std::fprintf(stderr, "fan-in (N clients -> one server, rounds of one request per client)\n");
    for (int clients : o_.fanin_clients) {
      for (std::size_t size : o_.sizes) {
        FaninParams p;
        p.size = size;
        p.clients = clients;
        p.seconds = o_.seconds;
        for (Net net : o_.nets) {
          const std::string tag = std::string(net_name(net)) + " " + size_name(size) + " x" + std::to_string(clients);
          FaninResult fl, zq;
          if (o_.run_floor) attempt("floor " + tag, [&] { fl = raw::fanin(net, p); });
          if (o_.run_zmq) attempt("zmq   " + tag, [&] { zq = zmqb::fanin(net, p); });
          for (const std::string& b : o_.backends) {
            FaninResult us;
            if (o_.run_ours) attempt("tofu-" + b + " " + tag, [&] { us = ours::fanin(net, b, p); });
            rows_.push_back({"fan-in " + std::to_string(clients), size, net_name(net), b, "requests/s", "1/s", false,
                             us.per_s(), fl.per_s(), zq.per_s()});
          }
        }
      }
    }
  }

  void scale() {
    std::fprintf(stderr, "scale (round-robin request/response over N open channels; clients in a child process)\n");
    ScaleParams small;
    small.channels = 10;
    ScaleParams big;
    big.channels = o_.scale_channels;
    if (o_.quick) {
      small.iterations = big.iterations = 300;
      small.max_seconds = big.max_seconds = 0.3;
    }
    const std::string n_big = std::to_string(big.channels);
    const int rounds = std::max(1, std::min(o_.rounds, 2));  // each point costs a child process
    if (rounds > 1) {
      small.iterations /= rounds;
      big.iterations /= rounds;
      small.max_seconds /= rounds;
      big.max_seconds /= rounds;
    }
    // Interleaved (10, N, 10, N, ...) and averaged over the rounds, like RTT and throughput.
    auto merge = [](ScaleResult& into, const ScaleResult& r, int& n) {
      if (!r.ok) return;
      into.ok = true;
      into.mean_rtt_us = (into.mean_rtt_us * n + r.mean_rtt_us) / (n + 1);
      into.p50_rtt_us = (into.p50_rtt_us * n + r.p50_rtt_us) / (n + 1);
      into.server_rss_per_channel = (into.server_rss_per_channel * n + r.server_rss_per_channel) / (n + 1);
      into.client_rss_per_channel = (into.client_rss_per_channel * n + r.client_rss_per_channel) / (n + 1);
      ++n;
    };
    auto measure = [&](const std::string& label, const std::function<ScaleResult()>& f, ScaleResult& into, int& n) {
      attempt(label, [&] {
        const ScaleResult r = f();
        if (!r.ok) throw std::runtime_error(r.error);
        merge(into, r, n);
      });
    };
    for (Net net : o_.nets) {
      const std::string tag = std::string(net_name(net));
      ScaleResult fs, fb;
      int nfs = 0, nfb = 0;
      std::map<std::string, ScaleResult> us, ub;
      std::map<std::string, int> nus, nub;
      for (int r = 0; r < rounds; ++r) {
        const std::string rt = round_tag(r, rounds);
        if (o_.run_floor) {
          measure("floor " + tag + " 10 ch" + rt, [&] { return raw::scale(net, small); }, fs, nfs);
          measure("floor " + tag + " " + n_big + " ch" + rt, [&] { return raw::scale(net, big); }, fb, nfb);
        }
        for (const std::string& b : o_.scale_backends) {
          if (!o_.run_ours) continue;
          measure("tofu-" + b + " " + tag + " 10 ch" + rt, [&] { return ours::scale(net, b, small); }, us[b], nus[b]);
          measure("tofu-" + b + " " + tag + " " + n_big + " ch" + rt, [&] { return ours::scale(net, b, big); }, ub[b], nub[b]);
        }
      }
      for (const std::string& b : o_.scale_backends) {
        const ScaleResult& s10 = us[b];
        const ScaleResult& sN = ub[b];
        auto v = [](const ScaleResult& r, double x) { return r.ok ? x : kNaN; };
        rows_.push_back({"scale", 64, net_name(net), b, "RTT p50, 10 ch", "µs", true, v(s10, s10.p50_rtt_us), v(fs, fs.p50_rtt_us), kNaN});
        rows_.push_back({"scale", 64, net_name(net), b, "RTT p50, " + n_big + " ch", "µs", true, v(sN, sN.p50_rtt_us), v(fb, fb.p50_rtt_us), kNaN});
        rows_.push_back({"scale", 64, net_name(net), b, "p50 " + n_big + " ch / 10 ch", "ratio", true,
                         v(sN, sN.p50_rtt_us) / v(s10, s10.p50_rtt_us), v(fb, fb.p50_rtt_us) / v(fs, fs.p50_rtt_us), kNaN});
        rows_.push_back({"scale", 64, net_name(net), b, "RTT mean, 10 ch", "µs", true, v(s10, s10.mean_rtt_us), v(fs, fs.mean_rtt_us), kNaN});
        rows_.push_back({"scale", 64, net_name(net), b, "RTT mean, " + n_big + " ch", "µs", true, v(sN, sN.mean_rtt_us), v(fb, fb.mean_rtt_us), kNaN});
        rows_.push_back({"scale", 64, net_name(net), b, "mean " + n_big + " ch / 10 ch", "ratio", true,
                         v(sN, sN.mean_rtt_us) / v(s10, s10.mean_rtt_us), v(fb, fb.mean_rtt_us) / v(fs, fs.mean_rtt_us), kNaN});
        rows_.push_back({"scale", 0, net_name(net), b, "RSS per idle channel, server (accepted)", "B", true,
                         v(sN, sN.server_rss_per_channel), v(fb, fb.server_rss_per_channel), kNaN});
        rows_.push_back({"scale", 0, net_name(net), b, "RSS per idle channel, client (connected)", "B", true,
                         v(sN, sN.client_rss_per_channel), v(fb, fb.client_rss_per_channel), kNaN});
      }
    }
  }

  void churn() {
    std::fprintf(stderr, "churn (connect, one request/response, close)\n");
    ChurnParams p;
    p.seconds = o_.seconds;
    if (o_.quick) p.max_cycles = 200;
    for (Net net : o_.nets) {
      const std::string tag = std::string(net_name(net));
      ChurnResult fl, zq;
      if (o_.run_floor) attempt("floor " + tag, [&] { fl = raw::churn(net, p); });
      if (o_.run_zmq) attempt("zmq   " + tag, [&] { zq = zmqb::churn(net, p); });
      for (const std::string& b : o_.backends) {
        ChurnResult us;
        if (o_.run_ours) attempt("tofu-" + b + " " + tag, [&] { us = ours::churn(net, b, p); });
        rows_.push_back({"churn", 64, net_name(net), b, "cycles/s", "1/s", false, us.per_s(), fl.per_s(), zq.per_s()});
      }
    }
  }

  Options o_;
  LatencyParams lat_;
  std::vector<Row> rows_;
  std::vector<Cdf> cdfs_;
};

void usage() {
  std::puts(
      "tofu_bench [--quick] [--csv FILE] [--cdf FILE] [--only latency,throughput,fanin,scale,churn]\n"
      "           [--backends poll,epoll] [--scale-backends epoll] [--sizes 64,1024,65535] [--transports tcp,uds]\n"
      "           [--scale-channels N] [--fanin-clients 100,1000] [--seconds S] [--rounds 3]\n"
      "           [--impls ours,floor,zmq] [--spin US]\n"
      "Prints a markdown table (ours = tofu, floor = raw sockets, zmq = libzmq) on stdout;\n"
      "progress on stderr. --csv writes every row, --cdf the 64 B RTT CDFs for bench/plot.gp.");
}

int scale_child_main(int argc, char** argv) {
  // --scale-child <impl> <address> <backend> <channels> <iterations> <max_seconds>
  if (argc < 8) return 2;
  ScaleParams p;
  p.channels = std::atoi(argv[5]);
  p.iterations = std::atoi(argv[6]);
  p.max_seconds = std::atof(argv[7]);
  try {
    if (std::string(argv[2]) == "ours") return ours::scale_child(argv[3], argv[4], p);
    return raw::scale_child(argv[3], p);
  } catch (const std::exception& e) {
    std::printf("error %s\n", e.what());
    return 1;
  }
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  raise_fd_limit(150000);  // the scale scenario holds 60,000 sockets per process (root may raise the hard limit)
  if (argc > 1 && std::string(argv[1]) == "--scale-child") return scale_child_main(argc, argv);
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--csv") {
      o.csv = next();
    } else if (a == "--cdf") {
      o.cdf = next();
    } else if (a == "--only") {
      o.only = split(next(), ',');
    } else if (a == "--backends") {
      o.backends = split(next(), ',');
    } else if (a == "--sizes") {
      o.sizes.clear();
      for (const auto& s : split(next(), ',')) o.sizes.push_back(static_cast<std::size_t>(std::stoul(s)));
    } else if (a == "--transports") {
      o.nets.clear();
      for (const auto& s : split(next(), ',')) o.nets.push_back(s == "uds" ? Net::uds : Net::tcp);
    } else if (a == "--scale-channels") {
      o.scale_channels = std::stoi(next());
    } else if (a == "--fanin-clients") {
      o.fanin_clients.clear();
      for (const auto& s : split(next(), ',')) o.fanin_clients.push_back(std::stoi(s));
    } else if (a == "--rounds") {
      o.rounds = std::stoi(next());
    } else if (a == "--scale-backends") {
      o.scale_backends = split(next(), ',');
    } else if (a == "--impls") {
      const auto list = split(next(), ',');
      auto has = [&](const char* n) { return std::find(list.begin(), list.end(), n) != list.end(); };
      o.run_ours = has("ours");
      o.run_floor = has("floor");
      o.run_zmq = has("zmq");
    } else if (a == "--seconds") {
      o.seconds = std::stod(next());
    } else if (a == "--spin") {
      ours::set_spin(std::chrono::microseconds(std::stol(next())));
    } else if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      usage();
      return 2;
    }
  }
  for (std::size_t s : o.sizes) {
    if (s == 0 || s > 65535) {
      std::fprintf(stderr, "sizes must be 1..65535 (a tofu body is at most 65535 bytes)\n");
      return 2;
    }
  }
  // Each process of the scale scenario holds one socket per channel: N is bounded by the fd limit
  // (raising the hard limit needs root with CAP_SYS_RESOURCE).
  std::string scale_note;
  const std::size_t fd_limit = raise_fd_limit(150000);
  if (fd_limit < static_cast<std::size_t>(o.scale_channels) + 512) {
    const int fit = std::max(10, static_cast<int>(fd_limit) - 512);
    scale_note = "scale: " + std::to_string(o.scale_channels) + " channels asked, " + std::to_string(fit) +
                 " measured: the open-file limit is " + std::to_string(fd_limit) +
                 " and could not be raised (each process holds one socket per channel)";
    std::fprintf(stderr, "%s\n", scale_note.c_str());
    o.scale_channels = fit;
  }
  const auto t0 = Clock::now();
  const std::string load_start = loadavg();
  Bench b(o);
  b.run();
  const std::string cpu = run_cmd("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2");
  utsname u{};
  uname(&u);
  std::cout << "# tofu_bench" << (o.quick ? " --quick" : "") << "\n\n"
            << "- host: " << u.sysname << " " << u.release << ", " << sysconf(_SC_NPROCESSORS_ONLN) << " CPUs," << cpu
            << "\n- libzmq " << zmqb::version() << "; fd limit " << raise_fd_limit() << "\n- load average at start "
            << load_start << ", at end " << loadavg() << "; run took " << static_cast<int>(seconds_since(t0))
            << " s\n- ratios are ours divided by the other column; `better` says which way is good\n"
            << (scale_note.empty() ? std::string() : "- " + scale_note + "\n") << "\n";
  b.print_table(std::cout);
  b.print_targets(std::cout);
  if (!g_errors.empty()) {
    std::cout << "\nFailed measurements (n/a above):\n";
    for (const auto& e : g_errors) std::cout << "- " << e << "\n";
  }
  std::cout << "\nrows: " << b.row_count() << "\n";
  if (!o.csv.empty()) b.write_csv(o.csv);
  if (!o.cdf.empty()) b.write_cdf(o.cdf);
  // Everything is written first; the exit status then says whether every measurement worked.
  if (!g_errors.empty()) std::cerr << "tofu_bench: " << g_errors.size() << " measurement(s) failed\n";
  return b.row_count() > 0 && g_errors.empty() ? 0 : 1;
}
