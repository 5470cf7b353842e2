#pragma once
// Shared declarations of the benchmark driver (tofu_bench): measurement parameters, results and the
// three implementations of every scenario — ours (the tofu engine), floor (hand-written raw
// sockets: blocking for RTT/throughput/churn, a plain epoll loop for the fan-in/scale server) and
// zmq (libzmq C API).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace bench {

enum class Net : std::uint8_t { tcp, uds };
const char* net_name(Net n) noexcept;

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}
inline double micros_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

// Bytes of the 16-byte frame header every implementation puts in front of the payload (tofu's
// binary header; the floor writes the same number of header bytes, zmq has its own framing).
inline constexpr std::size_t kHeader = 16;

inline constexpr double kNotMeasured = std::numeric_limits<double>::quiet_NaN();

struct LatencyParams {
  std::size_t size = 64;
  int warmup = 200;
  int iterations = 20000;
  double max_seconds = 2.0;  // stop early when this much time has passed (samples so far count)
};

struct ThroughputParams {
  std::size_t size = 64;
  double seconds = 1.0;  // the sender sends for this long, then an end marker (empty payload)
  std::uint64_t messages = 0;  // > 0: send exactly this many instead (tofu_probe: per-message counts)
};

struct ThroughputResult {
  double msgs = 0;
  double bytes = 0;    // payload bytes
  double seconds = 0;  // first send -> end marker received
  // NaN when nothing was measured (skipped or failed), so the table says n/a.
  [[nodiscard]] double msgs_per_s() const { return seconds > 0 ? msgs / seconds : kNotMeasured; }
  [[nodiscard]] double mb_per_s() const { return seconds > 0 ? bytes / seconds / 1e6 : kNotMeasured; }
};

struct FaninParams {
  std::size_t size = 64;
  int clients = 100;
  double seconds = 1.0;  // rounds run until this much time has passed (at least one round)
};

struct FaninResult {
  double requests = 0;
  double seconds = 0;
  [[nodiscard]] double per_s() const { return seconds > 0 ? requests / seconds : kNotMeasured; }
};

struct ChurnParams {
  std::size_t size = 64;
  double seconds = 1.0;
  int max_cycles = 4000;  // bounded: TCP TIME_WAIT eats ephemeral ports
};

struct ChurnResult {
  double cycles = 0;
  double seconds = 0;
  int failures = 0;
  [[nodiscard]] double per_s() const { return seconds > 0 ? cycles / seconds : kNotMeasured; }
};

// Scale: N open connections, round-robin request/response over all of them (one outstanding).
// The server side runs in this process, the clients in a child process (fd limit: each process
// holds N sockets). rss_*_per_channel = RSS growth / N on each side.
struct ScaleParams {
  int channels = 10;
  int iterations = 20000;
  double max_seconds = 2.0;
};

struct ScaleResult {
  bool ok = false;
  double mean_rtt_us = 0;
  double p50_rtt_us = 0;
  double server_rss_per_channel = 0;  // bytes, accepted channels (this process)
  double client_rss_per_channel = 0;  // bytes, connecting channels (child process)
  std::string error;
};

// RSS of this process in bytes (/proc/self/statm).
std::size_t rss_bytes();
// RSS after returning free heap pages to the OS (malloc_trim), so that a later delta counts memory
// that earlier measurements of this process freed but kept resident.
std::size_t trimmed_rss_bytes();
// Parses the child's "result <mean_us> <p50_us>" line into `r`; false if it is not one.
bool parse_result_line(const std::string& line, ScaleResult& r);
// Prints the result line of a scale child from its per-iteration samples.
void print_result_line(std::vector<double>& samples_us);
// Raises RLIMIT_NOFILE soft to hard, and the hard limit to `want` when allowed (root); returns the
// new soft limit.
std::size_t raise_fd_limit(std::size_t want = 0);
// How many listeners the scale scenario opens for `channels` connections: TCP connections from
// 127.0.0.1 to one address and port are bounded by the ephemeral port range (~28,000 by default),
// so the server also listens on 127.0.0.2, 127.0.0.3, ... (every 127.0.0.x is loopback). UDS: 1.
int scale_listeners(Net net, int channels);
// "a,b,c" -> {a, b, c}
inline std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t comma = s.find(',', pos);
    out.push_back(s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos) return out;
    pos = comma + 1;
  }
}
// A fresh UDS path in /tmp unique to this process.
std::string uds_path(const char* tag);
// Path of this executable (for the scale child).
std::string self_exe();

// ---- ours (tofu engine); `backend` is "poll" or "epoll" ----
namespace ours {
// EngineOptions::spin for every engine made from now on (0, the default: no busy-polling).
void set_spin(std::chrono::microseconds spin);
std::vector<double> latency(Net net, const std::string& backend, const LatencyParams& p);
ThroughputResult throughput(Net net, const std::string& backend, const ThroughputParams& p);
FaninResult fanin(Net net, const std::string& backend, const FaninParams& p);
ChurnResult churn(Net net, const std::string& backend, const ChurnParams& p);
ScaleResult scale(Net net, const std::string& backend, const ScaleParams& p);
// The child side of scale: connects, reports, measures; prints protocol lines on stdout.
int scale_child(const std::string& address, const std::string& backend, const ScaleParams& p);
}  // namespace ours

// ---- floor (raw sockets written here) ----
namespace raw {
std::vector<double> latency(Net net, const LatencyParams& p);
ThroughputResult throughput(Net net, const ThroughputParams& p);
FaninResult fanin(Net net, const FaninParams& p);
ChurnResult churn(Net net, const ChurnParams& p);
ScaleResult scale(Net net, const ScaleParams& p);
int scale_child(const std::string& address, const ScaleParams& p);
}  // namespace raw

// ---- zmq (libzmq C API) ----
namespace zmqb {
std::vector<double> latency(Net net, const LatencyParams& p);
ThroughputResult throughput(Net net, const ThroughputParams& p);
FaninResult fanin(Net net, const FaninParams& p);
ChurnResult churn(Net net, const ChurnParams& p);
std::string version();
}  // namespace zmqb

// Runs `self_exe() --scale-child <impl> <address> <backend> <channels> <iterations> <max_seconds>`
// and implements the parent side of the line protocol: the child prints "ready <client_rss_per_ch>"
// once every channel is open and has done one round trip, then "result <mean_rtt_us>".
// `on_ready` runs in the parent between the two lines (it measures the server's RSS).
class ScaleChild {
 public:
  ScaleChild(const std::string& impl, const std::string& address, const std::string& backend, const ScaleParams& p);
  ~ScaleChild();
  ScaleChild(const ScaleChild&) = delete;
  ScaleChild& operator=(const ScaleChild&) = delete;
  // Reads the next protocol line (empty on EOF / timeout).
  std::string next_line(double timeout_s);
  // Waits for the child to exit; returns its exit status (or -1).
  int wait();

 private:
  int pid_ = -1;
  int out_fd_ = -1;
  std::string buffered_;
};

}  // namespace bench
