#include "platform/windows/handles.hpp"

#include "platform/windows/ntdll.hpp"

namespace tofu::platform::win {

std::vector<std::pair<std::uintptr_t, std::string>> probe_handles() {
  std::vector<std::pair<std::uintptr_t, std::string>> out;
  for (std::uintptr_t v = 4; v <= kHandleProbeLimit; v += 4) {
    DWORD flags = 0;
    const auto handle = reinterpret_cast<HANDLE>(v);
    if (!GetHandleInformation(handle, &flags)) continue;
    std::string type = object_type_name(handle);
    out.emplace_back(v, type.empty() ? std::string("?") : std::move(type));
  }
  return out;
}

bool is_lazy_sync_type(const std::string& type) {
  return type == "Event" || type == "Semaphore" || type == "KeyedEvent";
}

}  // namespace tofu::platform::win
