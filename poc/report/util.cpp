#include "report/util.hpp"

#include "platform/windows/handles.hpp"

#include <winsock2.h>
#include <windows.h>
#include <psapi.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <numeric>

#include "platform/common/sys_error.hpp"
#include "platform/windows/ntdll.hpp"

namespace poc {

std::string strf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  const int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  std::string out;
  if (n > 0) {
    out.resize(static_cast<std::size_t>(n) + 1);
    std::vsnprintf(out.data(), out.size(), fmt, ap2);
    out.resize(static_cast<std::size_t>(n));
  }
  va_end(ap2);
  return out;
}

std::string utc_now_iso8601() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t t = system_clock::to_time_t(now);
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_s(&tm, &t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return strf("%s.%03dZ", buf, static_cast<int>(ms));
}

int Deadline::remaining_ms() const {
  const double left = (end_us_ - now_us()) / 1000.0;
  return left <= 0 ? 0 : static_cast<int>(std::ceil(left));
}

LatencySummary summarize(std::vector<double> v) {
  LatencySummary s;
  s.count = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto rank = [&v](double p) {
    // Nearest rank: the smallest sample with at least p% of the samples at or below it.
    auto idx = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::clamp<std::size_t>(idx, 1, v.size()) - 1];
  };
  s.min = v.front();
  s.max = v.back();
  s.p50 = rank(50);
  s.p99 = rank(99);
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  return s;
}

Json to_json(const LatencySummary& s) {
  auto j = Json::object();
  j["count"] = s.count;
  j["min_us"] = s.min;
  j["p50_us"] = s.p50;
  j["p99_us"] = s.p99;
  j["max_us"] = s.max;
  j["mean_us"] = s.mean;
  return j;
}

std::string to_text(const LatencySummary& s) {
  if (s.count == 0) return "no samples";
  return strf("p50 %s us, p99 %s us, max %s us (n=%zu)", format_number(s.p50).c_str(), format_number(s.p99).c_str(),
              format_number(s.max).c_str(), s.count);
}

Json to_json(const Tally& t) {
  auto j = Json::object();
  for (const auto& [k, n] : t) j[k] = n;
  return j;
}

HandleSnapshot handle_snapshot() {
  HandleSnapshot h;
  DWORD n = 0;
  if (GetProcessHandleCount(GetCurrentProcess(), &n)) h.api = static_cast<std::int64_t>(n);
  h.handles = tofu::platform::win::probe_handles();
  return h;
}

Json to_json(const HandleSnapshot& h) {
  auto j = Json::object();
  j["GetProcessHandleCount"] = h.api;
  j["probed"] = h.probed();
  Tally by_type;
  for (const auto& [v, t] : h.handles) ++by_type[t];
  j["by_type"] = to_json(by_type);
  return j;
}

std::string to_text(const HandleSnapshot& h) {
  return strf("probed %lld, GetProcessHandleCount %lld", static_cast<long long>(h.probed()),
              static_cast<long long>(h.api));
}

bool is_lazy_sync_type(const std::string& type) { return tofu::platform::win::is_lazy_sync_type(type); }

HandleVerdict judge_handles(const HandleSnapshot& before, const HandleSnapshot& after) {
  HandleVerdict v;
  std::size_t lazy = 0, other = 0, removed = 0;
  std::string added_text;
  for (const auto& h : after.handles) {
    if (std::find(before.handles.begin(), before.handles.end(), h) != before.handles.end()) continue;
    (is_lazy_sync_type(h.second) ? lazy : other) += 1;
    const std::string one = strf("0x%llx %s", static_cast<unsigned long long>(h.first), h.second.c_str());
    v.added.push_back(one);
    added_text += (added_text.empty() ? "" : ", ") + one;
  }
  for (const auto& h : before.handles) {
    if (std::find(after.handles.begin(), after.handles.end(), h) == after.handles.end()) ++removed;
  }
  const std::int64_t api_growth = before.api >= 0 && after.api >= 0 ? after.api - before.api : 0;
  v.ok = other == 0 && lazy <= kLazySyncTolerance && api_growth <= static_cast<std::int64_t>(kLazySyncTolerance);
  v.expected = strf("no new handle (at most %zu new Event/Semaphore of a runtime lock tolerated)", kLazySyncTolerance);
  v.observed =
      strf("probed %lld -> %lld", static_cast<long long>(before.probed()), static_cast<long long>(after.probed()));
  if (!added_text.empty()) v.observed += " (new: " + added_text + ")";
  if (removed > 0) v.observed += strf(" (%zu closed)", removed);
  v.observed += strf("; GetProcessHandleCount %lld -> %lld", static_cast<long long>(before.api),
                     static_cast<long long>(after.api));
  return v;
}

MemoryUsage memory_usage() {
  MemoryUsage m;
  PROCESS_MEMORY_COUNTERS_EX pmc{};
  pmc.cb = sizeof pmc;
  if (GetProcessMemoryInfo(GetCurrentProcess(), reinterpret_cast<PROCESS_MEMORY_COUNTERS*>(&pmc), sizeof pmc)) {
    m.ok = true;
    m.private_bytes = pmc.PrivateUsage;
    m.pagefile_bytes = pmc.PagefileUsage;
    m.working_set = pmc.WorkingSetSize;
  }
  return m;
}

Json to_json(const MemoryUsage& m) {
  if (!m.ok) return Json("GetProcessMemoryInfo failed");
  auto j = Json::object();
  j["private_bytes"] = m.private_bytes;
  j["pagefile_bytes"] = m.pagefile_bytes;
  j["working_set_bytes"] = m.working_set;
  return j;
}

std::string ntstatus_text(std::uint32_t status) {
  return strf("%s (0x%08X)", tofu::platform::describe(tofu::platform::ErrorSource::ntstatus, status).c_str(), status);
}

std::string wsa_text(int code) {
  const char* name = nullptr;
  switch (code) {
    case WSAEINTR:
      name = "WSAEINTR";
      break;
    case WSAEINVAL:
      name = "WSAEINVAL";
      break;
    case WSAEWOULDBLOCK:
      name = "WSAEWOULDBLOCK";
      break;
    case WSAENOTSOCK:
      name = "WSAENOTSOCK";
      break;
    case WSAEPROTONOSUPPORT:
      name = "WSAEPROTONOSUPPORT";
      break;
    case WSAESOCKTNOSUPPORT:
      name = "WSAESOCKTNOSUPPORT";
      break;
    case WSAEAFNOSUPPORT:
      name = "WSAEAFNOSUPPORT";
      break;
    case WSAEADDRINUSE:
      name = "WSAEADDRINUSE";
      break;
    case WSAENETDOWN:
      name = "WSAENETDOWN";
      break;
    case WSAECONNABORTED:
      name = "WSAECONNABORTED";
      break;
    case WSAECONNRESET:
      name = "WSAECONNRESET";
      break;
    case WSAENOBUFS:
      name = "WSAENOBUFS";
      break;
    case WSAENOTCONN:
      name = "WSAENOTCONN";
      break;
    case WSAESHUTDOWN:
      name = "WSAESHUTDOWN";
      break;
    case WSAETIMEDOUT:
      name = "WSAETIMEDOUT";
      break;
    case WSAECONNREFUSED:
      name = "WSAECONNREFUSED";
      break;
    default:
      break;
  }
  if (name != nullptr) return strf("%s (%d)", name, code);
  return strf("WSA error %d", code);
}

void progress(const std::string& binary, const std::string& line) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::fprintf(stderr, "[%s] %s\n", binary.c_str(), line.c_str());
  std::fflush(stderr);
}

}  // namespace poc
