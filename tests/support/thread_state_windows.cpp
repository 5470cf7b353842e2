#include "support/thread_state.hpp"

#include <windows.h>
#include <winternl.h>

#include <cstddef>
#include <vector>

namespace tofu::test {
namespace {

// SYSTEM_THREAD_INFORMATION and the head of SYSTEM_PROCESS_INFORMATION (x64 layouts; the thread
// array follows the 0x100-byte head). Checked under Wine: process and thread ids land right.
struct ThreadInfo {
  LARGE_INTEGER kernel_time, user_time, create_time;
  ULONG wait_time;
  PVOID start_address;
  HANDLE unique_process, unique_thread;
  LONG priority, base_priority;
  ULONG context_switches, thread_state, wait_reason;
};
struct ProcessInfo {
  ULONG next_entry_offset, number_of_threads;
  BYTE times_and_counts[48];
  UNICODE_STRING image_name;
  LONG base_priority;
  HANDLE unique_process_id;
  BYTE rest[0x100 - 0x58];
};
#ifdef _WIN64
static_assert(sizeof(ThreadInfo) == 0x50 && sizeof(ProcessInfo) == 0x100);
#endif

constexpr ULONG kSystemProcessInformation = 5;
constexpr LONG kInfoLengthMismatch = static_cast<LONG>(0xC0000004);
constexpr ULONG kStateRunning = 2, kStateReady = 1, kStateStandby = 3, kStateWaiting = 5;

using QueryFn = LONG(NTAPI*)(ULONG, PVOID, ULONG, PULONG);

}  // namespace

ThreadState thread_state(std::uint64_t tid) {
#ifndef _WIN64
  (void)tid;
  return ThreadState::unknown;
#else
  static const auto query = reinterpret_cast<QueryFn>(
      reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQuerySystemInformation")));
  if (query == nullptr) return ThreadState::unknown;
  std::vector<std::byte> buf(std::size_t{1} << 20);
  for (int attempt = 0;; ++attempt) {
    ULONG needed = 0;
    const LONG st = query(kSystemProcessInformation, buf.data(), static_cast<ULONG>(buf.size()), &needed);
    if (st == kInfoLengthMismatch && attempt < 8) {
      buf.resize(std::max<std::size_t>(buf.size() * 2, needed + 65536));
      continue;
    }
    if (st < 0) return ThreadState::unknown;
    break;
  }
  const DWORD self = GetCurrentProcessId();
  for (std::size_t off = 0;;) {
    const auto* p = reinterpret_cast<const ProcessInfo*>(buf.data() + off);
    if (static_cast<DWORD>(reinterpret_cast<ULONG_PTR>(p->unique_process_id)) == self) {
      const auto* t = reinterpret_cast<const ThreadInfo*>(p + 1);
      for (ULONG i = 0; i < p->number_of_threads; ++i) {
        if (static_cast<std::uint64_t>(reinterpret_cast<ULONG_PTR>(t[i].unique_thread)) != tid) continue;
        switch (t[i].thread_state) {
          case kStateWaiting: return ThreadState::asleep;
          case kStateRunning:
          case kStateReady:
          case kStateStandby: return ThreadState::running;
          default: return ThreadState::unknown;  // Wine: 0 for every thread
        }
      }
      return ThreadState::unknown;
    }
    if (p->next_entry_offset == 0) return ThreadState::unknown;
    off += p->next_entry_offset;
  }
#endif
}

}  // namespace tofu::test
