#include "platform/windows/ntdll.hpp"

#include <cstring>
#include <mutex>
#include <string>

namespace tofu::platform::win {
namespace {

template <class Fn>
bool resolve(HMODULE module, const char* name, Fn& slot) {
  FARPROC p = GetProcAddress(module, name);
  // FARPROC -> typed function pointer: the documented way to use GetProcAddress results.
  slot = reinterpret_cast<Fn>(reinterpret_cast<void*>(p));
  return p != nullptr;
}

struct Loaded {
  NtApi api{};
  std::string missing;  // empty when everything required resolved
};

Loaded load() {
  Loaded out;
  HMODULE ntdll = GetModuleHandleA("ntdll.dll");
  if (ntdll == nullptr) {
    out.missing = "ntdll.dll";
    return out;
  }
  NtApi& a = out.api;
  const bool ok = resolve(ntdll, "NtCreateIoCompletion", a.NtCreateIoCompletion) &&
                  resolve(ntdll, "NtSetIoCompletion", a.NtSetIoCompletion) &&
                  resolve(ntdll, "NtRemoveIoCompletionEx", a.NtRemoveIoCompletionEx) &&
                  resolve(ntdll, "NtDeviceIoControlFile", a.NtDeviceIoControlFile) &&
                  resolve(ntdll, "NtCancelIoFileEx", a.NtCancelIoFileEx) &&
                  resolve(ntdll, "NtCreateFile", a.NtCreateFile) &&
                  resolve(ntdll, "RtlNtStatusToDosError", a.RtlNtStatusToDosError);
  if (!ok) {
    // Name the first one that failed so the user knows which Windows feature is missing.
    const char* names[] = {"NtCreateIoCompletion", "NtSetIoCompletion", "NtRemoveIoCompletionEx",
                           "NtDeviceIoControlFile", "NtCancelIoFileEx", "NtCreateFile", "RtlNtStatusToDosError"};
    for (const char* n : names) {
      if (GetProcAddress(ntdll, n) == nullptr) {
        out.missing = n;
        break;
      }
    }
  }
  resolve(ntdll, "wine_get_version", a.wine_get_version);  // optional
  resolve(ntdll, "NtQueryObject", a.NtQueryObject);        // optional (diagnostics)
  resolve(ntdll, "NtQueryInformationProcess", a.NtQueryInformationProcess);  // optional (diagnostics)
  return out;
}

}  // namespace

Result<const NtApi*> nt_api() {
  static const Loaded loaded = load();  // C++11 magic static: resolved once, thread-safe
  if (!loaded.missing.empty()) {
    return internal_error("ntdll export " + loaded.missing + " not found (Windows 10 or later required)");
  }
  return &loaded.api;
}

std::string object_type_name(HANDLE handle) {
  auto api = nt_api();
  if (!api.ok() || api.value()->NtQueryObject == nullptr) return {};
  // OBJECT_TYPE_INFORMATION starts with the type name as a UNICODE_STRING {USHORT Length,
  // USHORT MaximumLength, PWSTR Buffer}; the name's characters follow in the same buffer.
  constexpr ULONG kObjectTypeInformation = 2;
  struct TypeNameHeader {
    USHORT length;  // bytes
    USHORT maximum_length;
    const wchar_t* buffer;
  };
  alignas(8) unsigned char buf[512];
  ULONG len = 0;
  if (api.value()->NtQueryObject(handle, kObjectTypeInformation, buf, sizeof buf, &len) != 0) return {};
  TypeNameHeader name;
  std::memcpy(&name, buf, sizeof name);
  std::string out;
  for (USHORT i = 0; name.buffer != nullptr && i < name.length / 2; ++i) {
    const wchar_t c = name.buffer[i];
    out += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
  }
  return out;
}

}  // namespace tofu::platform::win
