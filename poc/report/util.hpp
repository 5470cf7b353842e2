#pragma once
// Small helpers every stage uses: printf-style formatting, clocks, latency statistics, tallies,
// process figures (handles, memory) and names for NTSTATUS / WSA codes.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "report/json.hpp"

#if defined(__MINGW_PRINTF_FORMAT)
#define POC_PRINTF(f, a) __attribute__((format(__MINGW_PRINTF_FORMAT, f, a)))
#else
#define POC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#endif

namespace poc {

// snprintf into a std::string.
std::string strf(const char* fmt, ...) POC_PRINTF(1, 2);

// Monotonic time in microseconds (arbitrary origin): for latencies and deadlines.
inline double now_us() {
  using namespace std::chrono;
  return static_cast<double>(duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count()) / 1000.0;
}
// Wall-clock time as ISO 8601 UTC, e.g. "2025-01-31T12:34:56.789Z".
std::string utc_now_iso8601();

// A deadline on the monotonic clock.
class Deadline {
 public:
  explicit Deadline(double seconds) : end_us_(now_us() + seconds * 1e6) {}
  [[nodiscard]] bool passed() const { return now_us() >= end_us_; }
  // Milliseconds left, at least 0 (for timeouts passed to the OS).
  [[nodiscard]] int remaining_ms() const;

 private:
  double end_us_;
};

// Latency statistics over samples in microseconds (nearest-rank percentiles).
struct LatencySummary {
  std::size_t count = 0;
  double min = 0, p50 = 0, p99 = 0, max = 0, mean = 0;
};
LatencySummary summarize(std::vector<double> samples_us);
// {"count", "min_us", "p50_us", "p99_us", "max_us", "mean_us"}
Json to_json(const LatencySummary& s);
// "p50 12.3 us, p99 45 us, max 301 us (n=1000)"
std::string to_text(const LatencySummary& s);

// How often each distinct value (an event mask, a status name) was seen.
using Tally = std::map<std::string, std::uint64_t>;
Json to_json(const Tally& t);

// The open handles of this process, two ways:
//   api     - GetProcessHandleCount (-1 when the call fails). Wine 8 answers 0 whatever is open;
//   handles - every handle value 4, 8, ... kHandleProbeLimit that GetHandleInformation accepts,
//             with its object type (NtQueryObject via tofu_platform's object_type_name): a count
//             that works on Wine too, and says what a difference is made of.
struct HandleSnapshot {
  std::int64_t api = -1;
  std::vector<std::pair<std::uintptr_t, std::string>> handles;  // value, object type
  [[nodiscard]] std::int64_t probed() const noexcept { return static_cast<std::int64_t>(handles.size()); }
};
HandleSnapshot handle_snapshot();
// {"GetProcessHandleCount", "probed", "by_type": {...}}
Json to_json(const HandleSnapshot& h);
// "probed 18, GetProcessHandleCount 0"
std::string to_text(const HandleSnapshot& h);

// Runtime locks (CRITICAL_SECTION, winpthreads mutexes) create their wait object the first time
// two threads contend for them, and keep it for the life of the process: which lock meets its
// first contention during a stage is a matter of scheduling (measured under Wine 8: one "Event"
// appears in some runs of stage0_wakeup and not in others). So a handle check tolerates at most
// this many NEW handles of the synchronisation types below, and none of any other type.
inline constexpr std::size_t kLazySyncTolerance = 2;
bool is_lazy_sync_type(const std::string& type);

struct HandleVerdict {
  bool ok = false;
  std::string expected;
  std::string observed;  // "probed 18 -> 19 (+1: 0x50 Event); GetProcessHandleCount 0 -> 0"
  Json added = Json::array();
};
HandleVerdict judge_handles(const HandleSnapshot& before, const HandleSnapshot& after);

struct MemoryUsage {
  bool ok = false;
  std::uint64_t private_bytes = 0;   // PROCESS_MEMORY_COUNTERS_EX::PrivateUsage
  std::uint64_t pagefile_bytes = 0;  // PagefileUsage (commit charge)
  std::uint64_t working_set = 0;     // WorkingSetSize
};
MemoryUsage memory_usage();
Json to_json(const MemoryUsage& m);

// "STATUS_CANCELLED (0xC0000120)"
std::string ntstatus_text(std::uint32_t status);
// "WSAECONNRESET (10054)"
std::string wsa_text(int code);

// Progress line on stderr: "[stage2_echo] 4/8 clients done". Thread-safe.
void progress(const std::string& binary, const std::string& line);

}  // namespace poc
