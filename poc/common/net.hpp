#pragma once
// Sockets for the stages: loopback TCP and AF_UNIX (Windows 10 1803+, afunix.h) behind one
// Endpoint type, so the TCP stages and their UDS twins (1U) run the same code on a different
// address family. Errors come back as tofu::platform::SysError values.
#include <winsock2.h>
#include <ws2tcpip.h>
#include <afunix.h>

#include <cstddef>
#include <optional>
#include <string>

#include "platform/common/result.hpp"
#include "platform/windows/winsock.hpp"

namespace poc {

using tofu::platform::Result;
using tofu::platform::SysError;
using tofu::platform::SysStatus;
using tofu::platform::win::UniqueSocket;

enum class Transport { tcp, uds };
const char* to_string(Transport t) noexcept;

struct Endpoint {
  Transport transport = Transport::tcp;
  sockaddr_storage addr{};
  int addr_len = 0;
  std::string uds_path;  // AF_UNIX only: the socket file

  [[nodiscard]] const sockaddr* sa() const noexcept { return reinterpret_cast<const sockaddr*>(&addr); }
  // "127.0.0.1:50123" or "unix:C:\...\tofu-x.sock"
  [[nodiscard]] std::string text() const;
};

// Why this host cannot create AF_UNIX stream sockets ("socket(AF_UNIX, SOCK_STREAM) failed:
// WSAEAFNOSUPPORT (10047)"), or nullopt when it can. Calls ensure_winsock().
std::optional<std::string> uds_unavailable_reason();

// A fresh socket-file path in the temp directory, short enough for sun_path (108 bytes).
std::string temp_uds_path(const std::string& tag);

struct Listener {
  UniqueSocket sock;
  Endpoint endpoint;
};

// A listening socket: TCP on 127.0.0.1 with an OS-chosen port, or AF_UNIX on a fresh temp path
// (the file is deleted before bind, as a stale file would make bind fail). Non-blocking when
// `nonblocking`. Calls ensure_winsock().
Result<Listener> listen_on(Transport t, const std::string& tag, bool nonblocking);

// Deletes the AF_UNIX socket file (after the listener is closed; Windows leaves it behind).
struct SocketFileRemoval {
  bool existed = false;  // the file was there before the delete (bind created it)
  bool gone = false;     // no file at that path afterwards
  std::string text() const;
};
// For a TCP endpoint: {false, true}.
SocketFileRemoval remove_socket_file(const Endpoint& ep);

// A blocking client connected to `ep`, with send/receive timeouts of io_timeout_ms so a client
// never hangs; rcvbuf > 0 sets SO_RCVBUF before connecting.
Result<UniqueSocket> connect_to(const Endpoint& ep, int io_timeout_ms, int rcvbuf = 0);

// Blocking helpers: send all bytes / receive exactly n bytes. On failure they return false and
// set *wsa_error (0 for an orderly close seen by recv_exact).
bool send_all(SOCKET s, const char* data, std::size_t n, int* wsa_error);
bool recv_exact(SOCKET s, char* data, std::size_t n, int* wsa_error);

// Sets SO_LINGER {1, 0}: closesocket then resets the connection (RST) instead of a FIN.
void set_abortive_close(SOCKET s);

// Uses, once, everything the stages use (Winsock, a port, a listener, blocking connect, accept,
// send and recv on this thread, an AFD poll through the port and one through an event, a cancel,
// an event, a thread), so that state the runtime creates lazily on first use exists before a
// stage takes its handle and memory baseline. Measured under Wine 8: the first blocking socket
// call of a thread creates a per-thread event that lives as long as the thread.
void warm_up(Transport t = Transport::tcp);

// The base handle for AFD_POLL, as a HANDLE.
inline HANDLE as_handle(SOCKET s) noexcept { return reinterpret_cast<HANDLE>(s); }

}  // namespace poc
