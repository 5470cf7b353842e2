#include "platform/common/host_info.hpp"

#include <sys/utsname.h>

namespace tofu::platform {

std::string os_description() {
  utsname u{};
  if (::uname(&u) != 0) return "Linux";
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

std::string wine_version() { return {}; }

}  // namespace tofu::platform
