#pragma once
// Who may connect to a Unix domain socket listener, and who is at the other end of an accepted
// UDS connection (implemented in platform/linux/uds_access.cpp and platform/windows/uds_access.cpp).
#include <cstdint>
#include <optional>
#include <string_view>

#include "platform/common/result.hpp"
#include "platform/common/socket_ops.hpp"

namespace tofu::platform {

// What the OS says about the process at the other end of a UDS connection, as of its connect().
struct PeerCredentials {
  std::optional<std::uint32_t> uid;  // Linux (SO_PEERCRED)
  std::optional<std::uint32_t> gid;  // Linux (SO_PEERCRED)
  std::optional<std::uint64_t> pid;  // Linux (SO_PEERCRED); Windows where the host offers SIO_AF_UNIX_GETPEERPID
};

// Sets the permission bits (0..0777) of the socket file that a UDS listener was just bound to at
// `path`. Called between bind() and listen() (D-71): until listen() every connect is refused, so
// no connection is ever accepted under the mode the umask gave. Linux: the file is opened with
// O_PATH|O_NOFOLLOW and must be a socket owned by this process's user, then changed through
// /proc/self/fd (a symlink swapped in at the path is never followed). Windows: nothing is changed;
// the socket file keeps the ACL inherited from its directory (spec §4.1).
SysStatus set_uds_file_mode(std::string_view path, std::uint32_t mode);

// The peer's credentials for an accepted socket `s`; nullopt when `s` is not an AF_UNIX socket.
// An AF_UNIX socket whose peer the OS does not describe gives an empty PeerCredentials.
std::optional<PeerCredentials> uds_peer_credentials(NativeSocket s);

}  // namespace tofu::platform
