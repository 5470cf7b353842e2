#pragma once
// Non-blocking stream sockets for the engine, one interface for every OS (implemented in
// platform/linux/socket_ops.cpp and platform/windows/socket_ops.cpp). The engine never includes an
// OS socket header; it speaks in NativeSocket, SocketAddress and IoResult.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "platform/common/result.hpp"

namespace tofu::platform {

#ifdef _WIN32
using NativeSocket = std::uintptr_t;  // SOCKET
inline constexpr NativeSocket kInvalidSocket = ~std::uintptr_t{0};
#else
using NativeSocket = int;
inline constexpr NativeSocket kInvalidSocket = -1;
#endif

enum class AddressKind : std::uint8_t { tcp, uds };

// An OS socket address (sockaddr_in / sockaddr_in6 / sockaddr_un) kept as bytes.
struct SocketAddress {
  AddressKind kind = AddressKind::tcp;
  std::uint32_t length = 0;
  alignas(8) std::array<std::byte, 128> storage{};
  [[nodiscard]] int family() const noexcept;
};

// Resolves host (IPv4/IPv6 literal or name; empty = all interfaces when passive) and port.
Result<std::vector<SocketAddress>> resolve_tcp(std::string_view host, std::uint16_t port, bool passive);
// The sockaddr_un for `path`; fails when the path does not fit sun_path.
Result<SocketAddress> uds_address(std::string_view path);
// "tcp|127.0.0.1|7099", "tcp|::1|7099" or "uds|/tmp/x" (tofu's address syntax).
std::string to_tofu_address(const SocketAddress& a);

// A non-blocking, close-on-exec stream socket for `a`'s family (TCP_NODELAY set for TCP).
Result<NativeSocket> open_stream(const SocketAddress& a);
// bind + listen. TCP: SO_REUSEADDR (POSIX) / SO_EXCLUSIVEADDRUSE (Windows). UDS: a stale socket
// file at the path is removed first, and the socket file gets `uds_mode` (set_uds_file_mode in
// uds_access.hpp) between bind and listen (D-71).
SysStatus bind_listen(NativeSocket s, const SocketAddress& a, int backlog, std::uint32_t uds_mode = 0600);
Result<SocketAddress> local_address(NativeSocket s, AddressKind kind);
void close_socket(NativeSocket s) noexcept;
// Removes a UDS path (ignores "does not exist").
void remove_uds_path(std::string_view path) noexcept;

enum class IoState : std::uint8_t {
  done,         // bytes moved (or the operation finished)
  would_block,  // try again when the poller says so
  in_progress,  // non-blocking connect started
  closed,       // orderly EOF from the peer (recv returned 0)
  failed,       // see error
};

struct IoResult {
  IoState state = IoState::done;
  std::size_t bytes = 0;
  SysError error{};
};

struct ConstBuffer {
  const std::byte* data = nullptr;
  std::size_t size = 0;
};

IoResult accept_one(NativeSocket listener, NativeSocket* accepted);
IoResult start_connect(NativeSocket s, const SocketAddress& a);
// The outcome of a finished non-blocking connect (SO_ERROR).
SysStatus connect_result(NativeSocket s);
// Gathers up to buffers.size() buffers into one send; never raises SIGPIPE.
IoResult send_some(NativeSocket s, std::span<const ConstBuffer> buffers);
IoResult recv_some(NativeSocket s, std::span<std::byte> into);

// Classification of socket errors, so the engine can map them to tofu statuses portably.
bool is_connection_refused(const SysError& e) noexcept;
bool is_path_not_found(const SysError& e) noexcept;
bool is_connection_reset(const SysError& e) noexcept;

}  // namespace tofu::platform
