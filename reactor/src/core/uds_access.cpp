#include "tofu/uds_access.hpp"

namespace tofu {

std::optional<std::uint32_t> parse_listen_mode(std::string_view text) noexcept {
  if (text.empty() || text.size() > 4) return std::nullopt;
  std::uint32_t mode = 0;
  for (const char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    mode = mode * 8 + static_cast<std::uint32_t>(c - '0');
  }
  if (mode > 0777) return std::nullopt;  // setuid/setgid/sticky mean nothing on a socket file
  return mode;
}

}  // namespace tofu
