#include "platform/common/uds_access.hpp"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <afunix.h>

namespace tofu::platform {

SysStatus set_uds_file_mode(std::string_view, std::uint32_t) {
  // Windows has no mode bits on a socket file: it keeps the ACL inherited from its directory
  // (spec §4.1: restrict the directory).
  return {};
}

std::optional<PeerCredentials> uds_peer_credentials(NativeSocket s) {
  const auto sk = static_cast<SOCKET>(s);
  sockaddr_storage local{};
  int len = static_cast<int>(sizeof local);
  if (::getsockname(sk, reinterpret_cast<sockaddr*>(&local), &len) != 0 || local.ss_family != AF_UNIX) {
    return std::nullopt;
  }
  PeerCredentials out;
  ULONG pid = 0;
  DWORD got = 0;
  // Windows 10 1803+ (where AF_UNIX exists) answers; a host that does not leaves the pid unknown.
  if (::WSAIoctl(sk, SIO_AF_UNIX_GETPEERPID, nullptr, 0, &pid, sizeof pid, &got, nullptr, nullptr) == 0 &&
      got == sizeof pid && pid != 0) {
    out.pid = pid;
  }
  return out;
}

}  // namespace tofu::platform
