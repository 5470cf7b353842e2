#include "platform/windows/handles.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include "platform/windows/ntdll.hpp"

namespace tofu::platform::win {
namespace {

constexpr ULONG kProcessHandleInformation = 51;
constexpr std::uint32_t kStatusInfoLengthMismatch = 0xC0000004u;

// PROCESS_HANDLE_SNAPSHOT_INFORMATION: two ULONG_PTRs, then one entry per handle (x64 layouts).
struct HandleEntry {
  HANDLE HandleValue;
  ULONG_PTR HandleCount;
  ULONG_PTR PointerCount;
  ACCESS_MASK GrantedAccess;
  ULONG ObjectTypeIndex;
  ULONG HandleAttributes;
  ULONG Reserved;
};
static_assert(sizeof(HandleEntry) == 40);
constexpr std::size_t kSnapshotHeader = 2 * sizeof(ULONG_PTR);

std::string type_of(HANDLE h) {
  std::string type = object_type_name(h);
  return type.empty() ? std::string("?") : type;
}

// The process's own handle table, or nothing where the system cannot list it.
std::optional<std::vector<std::pair<std::uintptr_t, std::string>>> listed_handles() {
  auto api = nt_api();
  if (!api.ok() || api.value()->NtQueryInformationProcess == nullptr) return std::nullopt;
  std::vector<unsigned char> buf(64 * 1024);
  for (int attempt = 0; attempt < 8; ++attempt) {
    ULONG len = 0;
    const NTSTATUS_T st = api.value()->NtQueryInformationProcess(
        GetCurrentProcess(), kProcessHandleInformation, buf.data(), static_cast<ULONG>(buf.size()), &len);
    if (as_u32(st) == kStatusInfoLengthMismatch) {
      buf.resize(std::max<std::size_t>(buf.size() * 2, len + 4096));  // handles opened meanwhile
      continue;
    }
    if (st != 0) return std::nullopt;  // e.g. STATUS_INVALID_INFO_CLASS (Wine 8)
    ULONG_PTR count = 0;
    std::memcpy(&count, buf.data(), sizeof count);
    std::vector<std::pair<std::uintptr_t, std::string>> out;
    for (ULONG_PTR i = 0; i < count && kSnapshotHeader + (i + 1) * sizeof(HandleEntry) <= buf.size(); ++i) {
      HandleEntry e;
      std::memcpy(&e, buf.data() + kSnapshotHeader + i * sizeof(HandleEntry), sizeof e);
      out.emplace_back(reinterpret_cast<std::uintptr_t>(e.HandleValue), type_of(e.HandleValue));
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::pair<std::uintptr_t, std::string>> probe_handles() {
  if (auto listed = listed_handles()) return std::move(*listed);
  std::vector<std::pair<std::uintptr_t, std::string>> out;
  for (std::uintptr_t v = 4; v <= kHandleProbeLimit; v += 4) {
    DWORD flags = 0;
    const auto handle = reinterpret_cast<HANDLE>(v);
    if (!GetHandleInformation(handle, &flags)) continue;
    out.emplace_back(v, type_of(handle));
  }
  return out;
}

bool is_lazy_sync_type(const std::string& type) {
  return type == "Event" || type == "Semaphore" || type == "KeyedEvent";
}

}  // namespace tofu::platform::win
