#pragma once
// The open handles of this process, for leak checks (stage binaries, parity suite). Windows 8+
// lists them with NtQueryInformationProcess(ProcessHandleInformation); where that is missing
// (Wine 8, whose GetProcessHandleCount also answers 0 whatever is open: D-22) the handle values
// 4, 8, ... kHandleProbeLimit are probed with GetHandleInformation. Either way each is typed with
// NtQueryObject. Probing touches values that are not handles, which a process running under strict
// handle checking must not do: it is only the fallback (D-65).
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
