#pragma once
// The open handles of this process, found by probing: GetProcessHandleCount answers 0 under
// Wine 8 whatever is open (D-22), so leak checks (stage binaries, parity suite) count handle
// values 4, 8, ... kHandleProbeLimit that GetHandleInformation accepts, typed with NtQueryObject.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tofu::platform::win {

inline constexpr std::uintptr_t kHandleProbeLimit = 0x10000;

// (handle value, object type such as "File", "Event", "IoCompletion"; "?" when unknown)
std::vector<std::pair<std::uintptr_t, std::string>> probe_handles();

// Runtime locks create their wait object (Event, Semaphore, KeyedEvent) on first contention and
// keep it: such a handle appearing is scheduling, not a leak.
bool is_lazy_sync_type(const std::string& type);

}  // namespace tofu::platform::win
