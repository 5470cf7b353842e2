#include "platform/windows/afd_poll.hpp"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace tofu::platform::win {

namespace afd {

std::uint32_t events_for(Interest interest) noexcept {
  std::uint32_t ev = kAbort | kConnectFail | kLocalClose;
  if (interest.read) ev |= kReceive | kAccept | kDisconnect;
  if (interest.write) ev |= kSend;
  return ev;
}

Readiness to_readiness(std::uint32_t e) noexcept {
  Readiness r;
  // A FIN makes recv() return 0, so it is readable like on POSIX.
  r.readable = (e & (kReceive | kReceiveExpedited | kAccept | kDisconnect | kAbort)) != 0;
  r.writable = (e & (kSend | kConnect)) != 0;
  r.hangup = (e & (kDisconnect | kAbort | kLocalClose)) != 0;
  r.error = (e & kConnectFail) != 0;
  return r;
}

std::string events_to_string(std::uint32_t e) {
  static constexpr std::pair<std::uint32_t, const char*> names[] = {
      {kReceive, "RECEIVE"}, {kReceiveExpedited, "RECEIVE_EXPEDITED"}, {kSend, "SEND"},
      {kDisconnect, "DISCONNECT"}, {kAbort, "ABORT"}, {kLocalClose, "LOCAL_CLOSE"},
      {kConnect, "CONNECT"}, {kAccept, "ACCEPT"}, {kConnectFail, "CONNECT_FAIL"}};
  std::string out;
  for (const auto& [bit, name] : names) {
    if ((e & bit) == 0) continue;
    if (!out.empty()) out += '|';
    out += name;
    e &= ~bit;
  }
  if (e != 0) {
    char rest[16];
    std::snprintf(rest, sizeof rest, "0x%X", e);
    if (!out.empty()) out += '|';
    out += rest;
  }
  return out.empty() ? "0" : out;
}

}  // namespace afd

AfdPollOp::~AfdPollOp() {
  if (pending_) {
    // The kernel still owns iosb_/info_: freeing them would let it write into freed memory later.
    std::fputs("tofu: AfdPollOp destroyed with a poll pending (cancel and dequeue it first)\n", stderr);
    std::abort();
  }
}

SysStatus AfdPollOp::submit(SOCKET base, std::uint32_t afd_events) {
  // ApcContext must be non-null or the I/O manager queues nothing to the port.
  return issue(reinterpret_cast<HANDLE>(base), base, afd_events, kNoTimeout, nullptr, this);
}

SysStatus AfdPollOp::submit(HANDLE device, SOCKET base, std::uint32_t afd_events, std::int64_t timeout) {
  return issue(device, base, afd_events, timeout, nullptr, this);
}

SysStatus AfdPollOp::submit_with_event(SOCKET base, std::uint32_t afd_events, HANDLE event) {
  return issue(reinterpret_cast<HANDLE>(base), base, afd_events, kNoTimeout, event, nullptr);
}

SysStatus AfdPollOp::issue(HANDLE device, SOCKET base, std::uint32_t afd_events, std::int64_t timeout,
                           HANDLE event, void* apc_context) {
  if (pending_) return internal_error("AfdPollOp::submit: a poll is already pending");
  auto api = nt_api();
  if (!api.ok()) return std::move(api).error();
  base_ = base;
  device_ = device;
  info_.Timeout.QuadPart = timeout;  // kNoTimeout: the poll completes on an event or a cancel
  info_.NumberOfHandles = 1;
  info_.Exclusive = 0;
  info_.Handles[0].Handle = reinterpret_cast<HANDLE>(base);
  info_.Handles[0].Events = afd_events;
  info_.Handles[0].Status = 0;
  iosb_.Status = static_cast<NTSTATUS_T>(kStatusPending);
  iosb_.Information = 0;
  // METHOD_BUFFERED: the same AFD_POLL_INFO is input and output (separate buffers never get a result).
  const NTSTATUS_T st = api.value()->NtDeviceIoControlFile(device, event, nullptr, apc_context, &iosb_,
                                                           afd::kIoctlPoll, &info_, sizeof info_, &info_,
                                                           sizeof info_);
  // Pending, success, informational or warning: the I/O manager completes the request, so exactly
  // one completion (or the event) follows. Only an error status returned at once means "no packet".
  if (!nt_error(st)) {
    pending_ = true;
    return {};
  }
  return ntstatus_error(as_u32(st), "NtDeviceIoControlFile(IOCTL_AFD_POLL)");
}

SysStatus AfdPollOp::cancel() {
  if (!pending_) return {};
  auto api = nt_api();
  if (!api.ok()) return std::move(api).error();
  IoStatusBlock cancel_iosb{};
  const NTSTATUS_T st = api.value()->NtCancelIoFileEx(device_, &iosb_, &cancel_iosb);
  // NOT_FOUND: the poll already completed and its completion is queued; nothing to cancel.
  if (st == 0 || as_u32(st) == kStatusNotFound) return {};
  return ntstatus_error(as_u32(st), "NtCancelIoFileEx(AFD_POLL)");
}

AfdPollOp::Outcome AfdPollOp::complete() noexcept {
  pending_ = false;
  Outcome out;
  out.status = as_u32(iosb_.Status);
  // Only IoStatus.Information bytes were copied back: a success that reports no handle (a timeout,
  // or AFD having nothing to say) leaves Handles[0].Events holding the mask that was ASKED for.
  const bool reported = out.status == kStatusSuccess && info_.NumberOfHandles >= 1;
  out.events = reported ? info_.Handles[0].Events : 0;
  return out;
}

}  // namespace tofu::platform::win
