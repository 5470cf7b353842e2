#pragma once
// The runners' CLI11 parse: help prints and exits 0, a bad command line prints why and exits 2.
#include <optional>

#include <CLI/CLI.hpp>

namespace poc {

// std::nullopt to go on, else the exit status to return from main.
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    (void)app.exit(e);
    return 2;
  }
  return std::nullopt;
}

}  // namespace poc
