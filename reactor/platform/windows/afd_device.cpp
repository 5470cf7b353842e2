#include "platform/windows/afd_device.hpp"

#include <utility>

namespace tofu::platform::win {

Result<AfdDevice> AfdDevice::open(IoCompletionPort& port, ULONG_PTR key) {
  auto api = nt_api();
  if (!api.ok()) return std::move(api).error();
  // Any name under \Device\Afd opens the driver; the suffix only names the opener in handle lists.
  static constexpr wchar_t kName[] = L"\\Device\\Afd\\Tofu";
  NtUnicodeString name{static_cast<USHORT>((sizeof kName) - sizeof(wchar_t)), static_cast<USHORT>(sizeof kName), kName};
  NtObjectAttributes attributes{sizeof(NtObjectAttributes), nullptr, &name, 0, nullptr, nullptr};
  IoStatusBlock iosb{};
  HANDLE h = nullptr;
  // No extended attributes: a plain handle to the driver, not a socket endpoint.
  const NTSTATUS_T st = api.value()->NtCreateFile(&h, SYNCHRONIZE, &attributes, &iosb, nullptr, 0,
                                                  FILE_SHARE_READ | FILE_SHARE_WRITE, FILE_OPEN, 0, nullptr, 0);
  if (st != 0) return ntstatus_error(as_u32(st), "NtCreateFile(\\Device\\Afd\\Tofu)");
  AfdDevice device(h);
  if (auto bound = port.associate(h, key); !bound.ok()) return std::move(bound).error();
  if (!SetFileCompletionNotificationModes(h, FILE_SKIP_SET_EVENT_ON_HANDLE)) {
    return last_win32_error("SetFileCompletionNotificationModes(AFD helper)");
  }
  return device;
}

AfdDevice::AfdDevice(AfdDevice&& o) noexcept : handle_(std::exchange(o.handle_, nullptr)) {}

AfdDevice& AfdDevice::operator=(AfdDevice&& o) noexcept {
  if (this != &o) {
    if (handle_ != nullptr) CloseHandle(handle_);
    handle_ = std::exchange(o.handle_, nullptr);
  }
  return *this;
}

AfdDevice::~AfdDevice() {
  if (handle_ != nullptr) CloseHandle(handle_);
}

}  // namespace tofu::platform::win
