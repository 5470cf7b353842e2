#pragma once
// Command-line parsing for the stage binaries. Every binary accepts --report-dir DIR,
// --timeout SECONDS and --help, plus the size flags the stage declares (--clients, --messages,
// --iterations, --seconds, ...). Flags take "--name VALUE" or "--name=VALUE".
#include <optional>
#include <string>
#include <vector>

#include "report/json.hpp"

namespace poc {

class Cli {
 public:
  // `summary` is the one-paragraph description --help prints; `default_timeout_s` is the stage's
  // hard limit (a stage that reaches it reports fail with the reason and exits).
  Cli(std::string binary, std::string summary, int default_timeout_s);

  // An integer flag stored in *target (its current value is the default), range-checked.
  void add_int(const std::string& name, int* target, const std::string& help, int min, int max);

  // Parses argv. Returns std::nullopt to go on, or the exit code to return now: 0 after --help,
  // 2 on a usage error (message on stderr).
  std::optional<int> parse(int argc, char** argv);

  [[nodiscard]] const std::string& report_dir() const noexcept { return report_dir_; }
  [[nodiscard]] int timeout_s() const noexcept { return timeout_s_; }
  // Every flag with the value in effect, for the report's "parameters".
  [[nodiscard]] Json params() const;

 private:
  struct IntFlag {
    std::string name;
    int* target;
    std::string help;
    int min;
    int max;
    int def;
  };
  void usage() const;

  std::string binary_;
  std::string summary_;
  std::string report_dir_ = "reports";
  int timeout_s_;
  std::vector<IntFlag> flags_;
};

}  // namespace poc
