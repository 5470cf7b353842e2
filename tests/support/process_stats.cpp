#include "support/process_stats.hpp"

#include <cstdlib>
#include <string>

#ifdef _WIN32
#include <windows.h>

#include "platform/windows/handles.hpp"
#else
#include <dirent.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TOFU_SANITIZER_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TOFU_SANITIZER_ALLOCATOR 1
#endif
#ifdef TOFU_SANITIZER_ALLOCATOR
#include <sanitizer/allocator_interface.h>
#endif

namespace tofu::test {

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

HandleCount handle_count() {
  HandleCount c;
#ifdef _WIN32
  const auto probed = tofu::platform::win::probe_handles();
  if (probed.empty()) return c;  // a process always has handles open: the probe did not work
  c.handles = 0;
  for (const auto& [value, type] : probed) {
    if (tofu::platform::win::is_lazy_sync_type(type)) {
      ++c.wait_objects;
    } else {
      ++c.handles;
    }
  }
#else
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return c;
  long n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  c.handles = n - 1;  // the directory stream's own descriptor
#endif
  return c;
}

std::string to_string(const HandleCount& c) {
  if (!c.known()) return "unknown";
#ifdef _WIN32
  return std::to_string(c.handles) + " handles + " + std::to_string(c.wait_objects) + " wait objects";
#else
  return std::to_string(c.handles) + " fds";
#endif
}

std::string handle_growth(const HandleCount& before, const HandleCount& after) {
  std::string out;
  if (after.handles > before.handles) out += std::to_string(after.handles - before.handles) + " more handles";
  if (after.wait_objects - before.wait_objects > kWaitObjectTolerance) {
    if (!out.empty()) out += ", ";
    out += std::to_string(after.wait_objects - before.wait_objects) + " more wait objects (tolerated: " +
           std::to_string(kWaitObjectTolerance) + ")";
  }
  return out;
}

HeapUsage heap_in_use() {
  HeapUsage h;
#if defined(TOFU_SANITIZER_ALLOCATOR)
  h.bytes = static_cast<long long>(__sanitizer_get_current_allocated_bytes());
  h.source = "sanitizer allocator (current allocated bytes)";
#elif defined(_WIN32)
  // The busy blocks of every heap of the process (malloc and new end in one of them). Exact, unlike
  // GetProcessMemoryInfo: Wine 8 answers 0 for PrivateUsage, and commit charge moves in pages.
  HANDLE heaps[256];
  const DWORD n = GetProcessHeaps(256, heaps);
  if (n == 0 || n > 256) return h;
  long long busy = 0;
  for (DWORD i = 0; i < n; ++i) {
    if (!HeapLock(heaps[i])) return h;
    PROCESS_HEAP_ENTRY e{};
    while (HeapWalk(heaps[i], &e)) {
      if ((e.wFlags & PROCESS_HEAP_ENTRY_BUSY) != 0) busy += static_cast<long long>(e.cbData);
    }
    HeapUnlock(heaps[i]);
  }
  h.bytes = busy;
  h.source = "busy blocks of the process heaps (HeapWalk)";
#else
  const struct mallinfo2 mi = mallinfo2();
  h.bytes = static_cast<long long>(mi.uordblks + mi.hblkhd);
  h.source = "glibc mallinfo2 (in use + mmapped)";
#endif
  return h;
}

std::size_t raise_open_file_limit(std::size_t wanted) {
#ifdef _WIN32
  return wanted;
#else
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < wanted) {
    rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= wanted) ? wanted : rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
    (void)getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur == RLIM_INFINITY ? wanted : static_cast<std::size_t>(rl.rlim_cur);
#endif
}

}  // namespace tofu::test
