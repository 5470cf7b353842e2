#include "platform/windows/iocp.hpp"

#include <algorithm>
#include <utility>

namespace tofu::platform::win {

Result<IoCompletionPort> IoCompletionPort::create() {
  auto api = nt_api();
  if (!api.ok()) return std::move(api).error();
  HANDLE port = nullptr;
  // IO_COMPLETION_ALL_ACCESS (0x1F0003). It includes SYNCHRONIZE, which Wine needs for a
  // dequeue that has to wait: with GENERIC_READ|GENERIC_WRITE, Wine 8 fails every waiting
  // NtRemoveIoCompletionEx with STATUS_ACCESS_DENIED (measured; decision-log D-11).
  constexpr ACCESS_MASK kIoCompletionAllAccess = 0x001F0003;
  const NTSTATUS_T st = api.value()->NtCreateIoCompletion(&port, kIoCompletionAllAccess, nullptr, 0);
  if (st != 0) return ntstatus_error(as_u32(st), "NtCreateIoCompletion");
  return IoCompletionPort(port, api.value());
}

IoCompletionPort::IoCompletionPort(IoCompletionPort&& o) noexcept
    : port_(std::exchange(o.port_, nullptr)), api_(o.api_) {}

IoCompletionPort& IoCompletionPort::operator=(IoCompletionPort&& o) noexcept {
  if (this != &o) {
    if (port_ != nullptr) CloseHandle(port_);
    port_ = std::exchange(o.port_, nullptr);
    api_ = o.api_;
  }
  return *this;
}

IoCompletionPort::~IoCompletionPort() {
  if (port_ != nullptr) CloseHandle(port_);
}

SysStatus IoCompletionPort::associate(HANDLE handle, ULONG_PTR key) {
  if (CreateIoCompletionPort(handle, port_, key, 0) == nullptr) {
    return last_win32_error("CreateIoCompletionPort(associate)");
  }
  return {};
}

SysStatus IoCompletionPort::post(ULONG_PTR key, void* apc_context, std::uint32_t status,
                              ULONG_PTR information) {
  const NTSTATUS_T st =
      api_->NtSetIoCompletion(port_, key, apc_context, static_cast<NTSTATUS_T>(status), information);
  if (st != 0) return ntstatus_error(as_u32(st), "NtSetIoCompletion");
  return {};
}

Result<std::size_t> IoCompletionPort::dequeue(std::span<Completion> out, int timeout_ms) {
  FileCompletionInformation raw[kMaxBatch];  // 8 KiB on the reactor's stack
  const ULONG cap = static_cast<ULONG>(std::min<std::size_t>(out.size(), std::size(raw)));
  if (cap == 0) return std::size_t{0};
  LARGE_INTEGER timeout;
  LARGE_INTEGER* timeout_ptr = nullptr;  // null = wait forever
  if (timeout_ms >= 0) {
    timeout.QuadPart = -static_cast<LONGLONG>(timeout_ms) * 10'000;  // relative, 100 ns units
    timeout_ptr = &timeout;
  }
  ULONG removed = 0;
  const NTSTATUS_T st = api_->NtRemoveIoCompletionEx(port_, raw, cap, &removed, timeout_ptr, FALSE);
  if (as_u32(st) == kStatusTimeout) return std::size_t{0};
  if (st != 0) return ntstatus_error(as_u32(st), "NtRemoveIoCompletionEx");
  for (ULONG i = 0; i < removed; ++i) {
    out[i] = Completion{raw[i].KeyContext, raw[i].ApcContext, as_u32(raw[i].IoStatus.Status),
                        raw[i].IoStatus.Information};
  }
  return static_cast<std::size_t>(removed);
}

}  // namespace tofu::platform::win
