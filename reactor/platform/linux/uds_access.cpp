#include "platform/common/uds_access.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "platform/linux/unique_fd.hpp"

namespace tofu::platform {

SysStatus set_uds_file_mode(std::string_view path, std::uint32_t mode) {
  const std::string p(path);
  // O_PATH|O_NOFOLLOW names the inode at `path` itself: a symlink swapped in is never followed.
  linux_os::UniqueFd fd(::open(p.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return last_posix_error("open(O_PATH) '" + p + "'");
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return last_posix_error("fstat '" + p + "'");
  if (!S_ISSOCK(st.st_mode) || st.st_uid != ::geteuid()) {
    return posix_error(EPERM, "'" + p + "' is not a socket file of this user");
  }
  // fchmod() refuses an O_PATH descriptor (EBADF) and, on the socket itself, would change the
  // socket's own inode, not the file; /proc/self/fd/N reaches the file's inode without the path.
  const std::string via = "/proc/self/fd/" + std::to_string(fd.get());
  if (::chmod(via.c_str(), static_cast<mode_t>(mode)) == 0) return {};
  if (errno != ENOENT) return last_posix_error("chmod '" + p + "'");
  // No /proc mounted: the path (swapping the file needs write access to its directory).
  if (::chmod(p.c_str(), static_cast<mode_t>(mode)) != 0) return last_posix_error("chmod '" + p + "'");
  return {};
}

std::optional<PeerCredentials> uds_peer_credentials(NativeSocket s) {
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  if (::getsockname(s, reinterpret_cast<sockaddr*>(&local), &len) != 0 || local.ss_family != AF_UNIX) {
    return std::nullopt;
  }
  PeerCredentials out;
  ucred cred{};
  socklen_t n = sizeof cred;
  if (::getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &n) == 0 && n == sizeof cred) {
    out.uid = cred.uid;
    out.gid = cred.gid;
    if (cred.pid > 0) out.pid = static_cast<std::uint64_t>(cred.pid);
  }
  return out;
}

}  // namespace tofu::platform
