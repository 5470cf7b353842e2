#pragma once
// The ntdll entry points tofu needs, resolved once with GetProcAddress (mingw's import library does
// not export all of them, and resolving at run time lets us name a missing export clearly).
// Also the NT structures the AFD poll and IOCP code share, with their x64 layouts pinned by
// static_asserts.
#include <winsock2.h>
#include <windows.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "platform/common/result.hpp"

namespace tofu::platform::win {

using NTSTATUS_T = LONG;

inline constexpr std::uint32_t kStatusSuccess = 0x00000000u;
inline constexpr std::uint32_t kStatusTimeout = 0x00000102u;
inline constexpr std::uint32_t kStatusPending = 0x00000103u;
inline constexpr std::uint32_t kStatusCancelled = 0xC0000120u;
inline constexpr std::uint32_t kStatusNotFound = 0xC0000225u;
inline constexpr std::uint32_t kStatusInvalidHandle = 0xC0000008u;

inline std::uint32_t as_u32(NTSTATUS_T s) noexcept { return static_cast<std::uint32_t>(s); }
// NT_ERROR: severity bits 11. Success, informational and warning statuses are not errors: the I/O
// manager still completes the request (writes the IOSB, queues the completion packet).
inline bool nt_error(NTSTATUS_T s) noexcept { return (as_u32(s) >> 30) == 3; }

struct IoStatusBlock {
  union {
    NTSTATUS_T Status;
    void* Pointer;
  };
  ULONG_PTR Information;
};
static_assert(sizeof(IoStatusBlock) == 16);

// FILE_IO_COMPLETION_INFORMATION, what NtRemoveIoCompletionEx fills.
struct FileCompletionInformation {
  ULONG_PTR KeyContext;
  void* ApcContext;
  IoStatusBlock IoStatus;
};
static_assert(sizeof(FileCompletionInformation) == 32);
static_assert(offsetof(FileCompletionInformation, IoStatus) == 16);

// UNICODE_STRING and OBJECT_ATTRIBUTES, for NtCreateFile (x64 layouts).
struct NtUnicodeString {
  USHORT Length;  // bytes, without a terminator
  USHORT MaximumLength;
  const wchar_t* Buffer;
};
static_assert(sizeof(NtUnicodeString) == 16);

struct NtObjectAttributes {
  ULONG Length;
  HANDLE RootDirectory;
  NtUnicodeString* ObjectName;
  ULONG Attributes;
  void* SecurityDescriptor;
  void* SecurityQualityOfService;
};
static_assert(sizeof(NtObjectAttributes) == 48);

using IoApcRoutine = void(NTAPI*)(void* ApcContext, IoStatusBlock* IoStatusBlock, ULONG Reserved);

struct NtApi {
  NTSTATUS_T(NTAPI* NtCreateIoCompletion)(HANDLE* port, ACCESS_MASK access, void* object_attributes,
                                           ULONG concurrent_threads);
  NTSTATUS_T(NTAPI* NtSetIoCompletion)(HANDLE port, ULONG_PTR key, void* apc_context, NTSTATUS_T status,
                                        ULONG_PTR information);
  NTSTATUS_T(NTAPI* NtRemoveIoCompletionEx)(HANDLE port, FileCompletionInformation* entries, ULONG count,
                                             ULONG* removed, LARGE_INTEGER* timeout, BOOLEAN alertable);
  NTSTATUS_T(NTAPI* NtDeviceIoControlFile)(HANDLE file, HANDLE event, IoApcRoutine apc_routine,
                                            void* apc_context, IoStatusBlock* iosb, ULONG code,
                                            void* in, ULONG in_len, void* out, ULONG out_len);
  NTSTATUS_T(NTAPI* NtCancelIoFileEx)(HANDLE file, IoStatusBlock* request, IoStatusBlock* iosb);
  NTSTATUS_T(NTAPI* NtCreateFile)(HANDLE* file, ACCESS_MASK access, NtObjectAttributes* attributes,
                                   IoStatusBlock* iosb, LARGE_INTEGER* allocation_size, ULONG file_attributes,
                                   ULONG share_access, ULONG create_disposition, ULONG create_options,
                                   void* ea_buffer, ULONG ea_length);
  ULONG(NTAPI* RtlNtStatusToDosError)(NTSTATUS_T status);
  const char*(__cdecl* wine_get_version)();  // optional: only Wine exports it
  // Optional, diagnostics only (object_type_name): NtQueryObject(handle, class, buffer, len, &ret).
  NTSTATUS_T(NTAPI* NtQueryObject)(HANDLE handle, ULONG info_class, void* info, ULONG len, ULONG* ret_len);
  // Optional, diagnostics only (handles.cpp): the handle table of a process, Windows 8+; Wine 8 lacks it.
  NTSTATUS_T(NTAPI* NtQueryInformationProcess)(HANDLE process, ULONG info_class, void* info, ULONG len,
                                                ULONG* ret_len);
};

// Resolves every required export on first use (thread-safe). The error names the missing export.
Result<const NtApi*> nt_api();

// The kernel object type of a handle as NtQueryObject(ObjectTypeInformation) names it: "File"
// (sockets too), "IoCompletion", "Event", "Thread", ...; empty when the handle is invalid or the
// export is missing. Diagnostics only: the stage reports use it to say WHAT a handle-count
// difference is made of (a leaked socket, or an event a runtime lock created on first contention).
std::string object_type_name(HANDLE handle);

}  // namespace tofu::platform::win
