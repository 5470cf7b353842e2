#include "platform/common/host_info.hpp"

#include "platform/windows/ntdll.hpp"

namespace tofu::platform {

std::string os_description() {
  // RtlGetVersion tells the truth where GetVersionEx lies to unmanifested programs.
  using RtlGetVersionFn = LONG(NTAPI*)(OSVERSIONINFOW*);
  HMODULE ntdll = GetModuleHandleA("ntdll.dll");
  auto fn = reinterpret_cast<RtlGetVersionFn>(
      reinterpret_cast<void*>(ntdll != nullptr ? GetProcAddress(ntdll, "RtlGetVersion") : nullptr));
  OSVERSIONINFOW v{};
  v.dwOSVersionInfoSize = sizeof v;
  if (fn == nullptr || fn(&v) != 0) return "Windows";
  return "Windows " + std::to_string(v.dwMajorVersion) + "." + std::to_string(v.dwMinorVersion) + "." +
         std::to_string(v.dwBuildNumber);
}

std::string wine_version() {
  auto api = win::nt_api();
  if (api.ok() && api.value()->wine_get_version != nullptr) return api.value()->wine_get_version();
  HMODULE ntdll = GetModuleHandleA("ntdll.dll");
  using Fn = const char*(__cdecl*)();
  auto fn = reinterpret_cast<Fn>(
      reinterpret_cast<void*>(ntdll != nullptr ? GetProcAddress(ntdll, "wine_get_version") : nullptr));
  return fn != nullptr ? std::string(fn()) : std::string();
}

}  // namespace tofu::platform
