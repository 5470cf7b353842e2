#pragma once
// Command-line helpers shared by the two examples (not part of the library).
#include <cstdlib>
#include <string>
#include <string_view>

#include "tofu/engine.hpp"

namespace example {

// The address as tofu's header syntax: "tcp|HOST|PORT" and "uds|PATH" pass through;
// "tcp://HOST:PORT" (IPv6 as "tcp://[::1]:PORT") and "uds:///path" are converted.
inline std::string to_wire_address(std::string_view arg) {
  if (arg.starts_with("uds://")) return "uds|" + std::string(arg.substr(6));
  if (arg.starts_with("tcp://")) {
    std::string_view rest = arg.substr(6);
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return std::string(arg);  // post() will say invalid_address
    std::string_view host = rest.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return "tcp|" + std::string(host) + "|" + std::string(rest.substr(colon + 1));
  }
  return std::string(arg);
}

// The value after `--name`, or `fallback`.
inline std::string option(int argc, char** argv, std::string_view name, std::string fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (name == argv[i]) return argv[i + 1];
  }
  return fallback;
}

// Engine options with `--backend poll|epoll|afd|best` (default best).
inline bool engine_options(int argc, char** argv, tofu::EngineOptions& out) {
  return tofu::parse_backend(option(argc, argv, "--backend", "best"), out.backend);
}

}  // namespace example
