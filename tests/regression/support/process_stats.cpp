#include "process_stats.hpp"

#include <cstdlib>
#include <string>

#ifdef _WIN32
#include <windows.h>
#else
#include <dirent.h>
#include <fstream>
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace tofu::regression {

double process_cpu_seconds() {
#ifdef _WIN32
  FILETIME created, exited, kernel, user;
  if (!GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user)) return -1.0;
  auto secs = [](const FILETIME& f) {
    const ULONGLONG t = (static_cast<ULONGLONG>(f.dwHighDateTime) << 32) | f.dwLowDateTime;
    return static_cast<double>(t) / 1e7;  // 100 ns units
  };
  return secs(kernel) + secs(user);
#else
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return -1.0;
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
#endif
}

long open_handle_count() {
#ifdef _WIN32
  DWORD n = 0;
  if (!GetProcessHandleCount(GetCurrentProcess(), &n)) return -1;
  return static_cast<long>(n);
#else
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  long n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n - 1;  // the directory stream's own descriptor
#endif
}

long long resident_bytes() {
#ifdef _WIN32
  return -1;
#else
  std::ifstream statm("/proc/self/statm");
  long long size = 0;
  long long resident = 0;
  if (!(statm >> size >> resident)) return -1;
  return resident * static_cast<long long>(sysconf(_SC_PAGESIZE));
#endif
}

std::size_t churn_cycles(std::size_t native, std::size_t reduced) {
  if (const char* env = std::getenv("TOFU_CHURN_CYCLES"); env != nullptr && *env != '\0') {
    return static_cast<std::size_t>(std::strtoull(env, nullptr, 10));
  }
#ifdef TOFU_REGRESSION_REDUCED
  (void)native;
  return reduced;
#else
  (void)reduced;
  return native;
#endif
}

}  // namespace tofu::regression
