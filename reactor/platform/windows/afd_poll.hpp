#pragma once
// IOCTL_AFD_POLL: readiness notification for the Windows reactor. A poll is issued either on the
// socket's own base handle (the stage binaries: that handle is bound to the port) or on an AFD
// helper handle that names the socket in its AFD_POLL_INFO (the reactor's poller, D-60).
//
// One AfdPollOp is the pinned state of ONE outstanding poll: the kernel writes into its
// IO_STATUS_BLOCK and AFD_POLL_INFO until the poll completes, so the object can neither be copied
// nor moved, and must not be destroyed while pending() (spec-v6.1 §W.3). To stop a poll: cancel(),
// then keep the op alive until its completion is dequeued (it always arrives, exactly once).
#include <cstdint>
#include <string>

#include "platform/common/readiness.hpp"
#include "platform/common/result.hpp"
#include "platform/windows/iocp.hpp"
#include "platform/windows/ntdll.hpp"

namespace tofu::platform::win {

namespace afd {
inline constexpr ULONG kIoctlPoll = 0x00012024;  // IOCTL_AFD_POLL, METHOD_BUFFERED

inline constexpr std::uint32_t kReceive = 0x0001;
inline constexpr std::uint32_t kReceiveExpedited = 0x0002;
inline constexpr std::uint32_t kSend = 0x0004;
inline constexpr std::uint32_t kDisconnect = 0x0008;
inline constexpr std::uint32_t kAbort = 0x0010;
inline constexpr std::uint32_t kLocalClose = 0x0020;
inline constexpr std::uint32_t kConnect = 0x0040;
inline constexpr std::uint32_t kAccept = 0x0080;
inline constexpr std::uint32_t kConnectFail = 0x0100;

struct PollHandleInfo {
  HANDLE Handle;
  ULONG Events;
  NTSTATUS_T Status;
};
static_assert(sizeof(PollHandleInfo) == 16);

struct PollInfo {
  LARGE_INTEGER Timeout;
  ULONG NumberOfHandles;
  ULONG Exclusive;
  PollHandleInfo Handles[1];
};
static_assert(sizeof(PollInfo) == 32);
static_assert(offsetof(PollInfo, Handles) == 16);

// Events to ask for. Errors (ABORT, CONNECT_FAIL, LOCAL_CLOSE) are always included; DISCONNECT
// (peer FIN) only with read interest, like RDHUP on Linux, so a paused reader does not spin.
std::uint32_t events_for(Interest interest) noexcept;
Readiness to_readiness(std::uint32_t afd_events) noexcept;
// "RECEIVE|SEND", for logs and stage reports.
std::string events_to_string(std::uint32_t afd_events);
}  // namespace afd

class AfdPollOp {
 public:
  struct Outcome {
    std::uint32_t status = 0;  // NTSTATUS of the poll (STATUS_CANCELLED after cancel())
    std::uint32_t events = 0;  // AFD_POLL_* bits reported (0 when cancelled)
    [[nodiscard]] bool cancelled() const noexcept { return status == kStatusCancelled; }
  };

  explicit AfdPollOp(void* owner = nullptr) noexcept : owner_(owner) {}
  AfdPollOp(const AfdPollOp&) = delete;
  AfdPollOp& operator=(const AfdPollOp&) = delete;
  AfdPollOp(AfdPollOp&&) = delete;
  AfdPollOp& operator=(AfdPollOp&&) = delete;
  ~AfdPollOp();  // a pending op here is a use-after-free in the making: it aborts

  static constexpr std::int64_t kNoTimeout = INT64_MAX;

  // Issue one poll for `afd_events` on `base` (a base socket handle already associated with an
  // IoCompletionPort). Its completion carries ApcContext == this. At most one poll at a time.
  SysStatus submit(SOCKET base, std::uint32_t afd_events);
  // The same, issued on `device` (an AFD helper handle bound to the port, see afd_device.hpp) for
  // the socket `base`, which need not be bound to any port. `timeout` in 100 ns units (negative =
  // relative); a poll that times out reports no events.
  SysStatus submit(HANDLE device, SOCKET base, std::uint32_t afd_events, std::int64_t timeout = kNoTimeout);
  // The same, completing by signalling `event` instead of an IOCP (the socket must NOT be
  // associated with a port). Wait on the event, then call complete().
  SysStatus submit_with_event(SOCKET base, std::uint32_t afd_events, HANDLE event);
  // Ask the kernel to cancel the pending poll (through the handle it was issued on). The completion
  // still arrives exactly once: with STATUS_CANCELLED, or with the result it had already produced.
  SysStatus cancel();
  // Call exactly once per submit, when its completion is dequeued (or its event fired).
  Outcome complete() noexcept;

  [[nodiscard]] bool pending() const noexcept { return pending_; }
  [[nodiscard]] void* owner() const noexcept { return owner_; }
  void set_owner(void* owner) noexcept { owner_ = owner; }
  [[nodiscard]] SOCKET base() const noexcept { return base_; }

  // The op a dequeued completion belongs to (ApcContext round-trip).
  static AfdPollOp* from(const Completion& c) noexcept { return static_cast<AfdPollOp*>(c.apc_context); }

 private:
  SysStatus issue(HANDLE device, SOCKET base, std::uint32_t afd_events, std::int64_t timeout, HANDLE event,
                  void* apc_context);

  IoStatusBlock iosb_{};
  afd::PollInfo info_{};
  SOCKET base_ = INVALID_SOCKET;
  HANDLE device_ = nullptr;  // the handle the poll was issued on: cancels must name it
  bool pending_ = false;
  void* owner_ = nullptr;
};

}  // namespace tofu::platform::win
