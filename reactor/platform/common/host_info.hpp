#pragma once
// Describes the host for stage reports and skip reasons.
#include <string>

namespace tofu::platform {

// e.g. "Linux 6.1.0-18-amd64 x86_64" or "Windows 10.0.19045".
std::string os_description();
// "8.0" when this Windows process runs under Wine (ntdll exports wine_get_version), else empty.
std::string wine_version();

}  // namespace tofu::platform
