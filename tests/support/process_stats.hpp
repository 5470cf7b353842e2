#pragma once
// Process-wide measurements for leak and spin checks (no Catch2: the soak program links this too):
// CPU time, open handles, heap bytes in use. Each says when it cannot measure on this host, so a
// check built on it reports skipped instead of comparing two unknowns.
#include <cstddef>
#include <string>

namespace tofu::test {

// User + system CPU time of the whole process, in seconds; -1 if unknown.
double process_cpu_seconds();

// Open handles. Linux: entries of /proc/self/fd. Windows: handle values 4..0x10000 that are open,
// typed with NtQueryObject (GetProcessHandleCount answers 0 under Wine, D-22); Event, Semaphore
// and KeyedEvent handles are counted apart, as wait objects.
struct HandleCount {
  long handles = -1;      // everything but wait objects; -1 = could not count
  long wait_objects = 0;  // Windows only (always 0 on Linux)
  [[nodiscard]] bool known() const noexcept { return handles >= 0; }
};
HandleCount handle_count();
std::string to_string(const HandleCount& c);

// New wait objects tolerated between two counts: a runtime lock creates its Event or Semaphore on
// first contention and keeps it (D-22, the stages' rule). One per connection is a leak.
inline constexpr long kWaitObjectTolerance = 2;

// "" when `after` shows no leak against `before`, else what grew. Both must be known().
std::string handle_growth(const HandleCount& before, const HandleCount& after);

// Bytes of heap in use, from the allocator itself: ASan/TSan's allocator statistics, glibc's
// mallinfo2 (in use + mmapped), or on Windows the busy blocks of every process heap (HeapWalk).
struct HeapUsage {
  long long bytes = -1;  // -1 = not measurable on this host
  const char* source = "none";
  [[nodiscard]] bool known() const noexcept { return bytes >= 0; }
};
HeapUsage heap_in_use();

// Raises the soft limit of open descriptors to `wanted` (or the hard limit); returns the new soft
// limit (Linux), or `wanted` where there is no such limit (Windows).
std::size_t raise_open_file_limit(std::size_t wanted);

}  // namespace tofu::test
