#pragma once
// One I/O completion port: the reactor's single wait point on Windows.
// Created with NtCreateIoCompletion, woken with NtSetIoCompletion, drained in batches with
// NtRemoveIoCompletionEx (spec-v6.1 §W.1).
#include <cstdint>
#include <span>

#include "platform/common/result.hpp"
#include "platform/windows/ntdll.hpp"

namespace tofu::platform::win {

struct Completion {
  ULONG_PTR key = 0;
  void* apc_context = nullptr;  // for AFD polls: the AfdPollOp that completed
  std::uint32_t status = 0;     // NTSTATUS of the operation (or the value posted)
  ULONG_PTR information = 0;
};

class IoCompletionPort {
 public:
  static Result<IoCompletionPort> create();

  IoCompletionPort(IoCompletionPort&& o) noexcept;
  IoCompletionPort& operator=(IoCompletionPort&& o) noexcept;
  IoCompletionPort(const IoCompletionPort&) = delete;
  IoCompletionPort& operator=(const IoCompletionPort&) = delete;
  ~IoCompletionPort();

  // Route completions of I/O on `handle` (a base socket handle) to this port with `key`.
  SysStatus associate(HANDLE handle, ULONG_PTR key);
  // Queue a completion without any I/O: the cross-thread wake-up. Thread-safe.
  SysStatus post(ULONG_PTR key, void* apc_context = nullptr, std::uint32_t status = 0,
              ULONG_PTR information = 0);
  // Most completions one dequeue() returns (spec-v6.1 §6.2: 256 per poller wait).
  static constexpr std::size_t kMaxBatch = 256;
  // Dequeue up to min(out.size(), kMaxBatch) completions, waiting at most timeout_ms (-1 = forever).
  // Returns 0 on timeout.
  Result<std::size_t> dequeue(std::span<Completion> out, int timeout_ms);

  [[nodiscard]] HANDLE handle() const noexcept { return port_; }

 private:
  IoCompletionPort(HANDLE port, const NtApi* api) noexcept : port_(port), api_(api) {}
  HANDLE port_ = nullptr;
  const NtApi* api_ = nullptr;
};

}  // namespace tofu::platform::win
