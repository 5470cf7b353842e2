#pragma once
// Process-wide measurements for the reliability tests: CPU time (is the reactor spinning?), open
// descriptors / handles and resident memory (does churn leak?), and the size of heavy loops.
#include <cstddef>
#include <cstdint>

namespace tofu::regression {

// User + system CPU time of the whole process, in seconds (getrusage(RUSAGE_SELF) / GetProcessTimes).
double process_cpu_seconds();
// Open file descriptors (/proc/self/fd entries) or Windows handles (GetProcessHandleCount); -1 if unknown.
long open_handle_count();
// Resident set size in bytes (/proc/self/statm); -1 where not measured (Windows).
long long resident_bytes();

// Cycle count for the heavy churn loops: TOFU_CHURN_CYCLES if set, else `native` on a plain native
// build and `reduced` under sanitizers or Wine (TOFU_REGRESSION_REDUCED).
std::size_t churn_cycles(std::size_t native, std::size_t reduced);

}  // namespace tofu::regression
