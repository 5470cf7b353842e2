#include "tofu/version.hpp"

namespace tofu {
const char* version() noexcept { return TOFU_VERSION_STRING; }
}  // namespace tofu
