#pragma once
// Facts about the host a test runs on, for tests that must skip (with the reason) when the host
// lacks a feature, e.g. Wine 8 has no AF_UNIX.
#include <optional>
#include <string>

namespace tofu::test {

// Why this host cannot create AF_UNIX stream sockets, or nullopt when it can.
std::optional<std::string> uds_unsupported_reason();

// "Wine 8.0" when running under Wine, else empty.
std::string wine_version();

// A fresh path for a Unix domain socket in the temp directory (short enough for sun_path).
std::string temp_uds_path(const std::string& tag);

}  // namespace tofu::test
