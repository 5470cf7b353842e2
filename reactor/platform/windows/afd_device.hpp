#pragma once
// A private handle on the AFD driver (\Device\Afd\Tofu) that carries AFD polls for other sockets
// (D-60). A socket's own handle can be bound to one completion port once, for as long as it is
// open; polls issued on a helper the poller owns leave user sockets unbound, so a socket can be
// removed and added again, or moved to another poller, and every packet on the helper's key is
// one of the poller's own polls.
#include "platform/common/result.hpp"
#include "platform/windows/iocp.hpp"
#include "platform/windows/ntdll.hpp"

namespace tofu::platform::win {

class AfdDevice {
 public:
  // Opens a helper handle (no endpoint: it is not a socket), binds it to `port` under `key` and sets
  // FILE_SKIP_SET_EVENT_ON_HANDLE (nobody waits on the handle itself; completions go to the port).
  static Result<AfdDevice> open(IoCompletionPort& port, ULONG_PTR key);

  AfdDevice(AfdDevice&& o) noexcept;
  AfdDevice& operator=(AfdDevice&& o) noexcept;
  AfdDevice(const AfdDevice&) = delete;
  AfdDevice& operator=(const AfdDevice&) = delete;
  // Closing a helper with polls pending cancels them; the owner drains or leaks their ops first.
  ~AfdDevice();

  [[nodiscard]] HANDLE handle() const noexcept { return handle_; }

 private:
  explicit AfdDevice(HANDLE h) noexcept : handle_(h) {}
  HANDLE handle_ = nullptr;
};

}  // namespace tofu::platform::win
