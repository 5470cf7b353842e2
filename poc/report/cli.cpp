#include "report/cli.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace poc {

Cli::Cli(std::string binary, std::string summary, int default_timeout_s)
    : binary_(std::move(binary)), summary_(std::move(summary)), timeout_s_(default_timeout_s) {
  add_int("--timeout", &timeout_s_, "hard limit for the whole stage, in seconds; reaching it is a fail", 1, 3600);
}

void Cli::add_int(const std::string& name, int* target, const std::string& help, int min, int max) {
  flags_.push_back(IntFlag{name, target, help, min, max, *target});
}

void Cli::usage() const {
  std::printf("usage: %s [options]\n\n%s\n\noptions:\n", binary_.c_str(), summary_.c_str());
  std::printf("  %-16s %s (default: reports)\n", "--report-dir DIR",
              "where <binary>.json and <binary>.md are written; created if missing");
  for (const auto& f : flags_) {
    std::printf("  %-16s %s (default: %d, range %d..%d)\n", (f.name + " N").c_str(), f.help.c_str(), f.def, f.min,
                f.max);
  }
  std::printf("  %-16s %s\n", "--help", "print this text and exit");
  std::printf(
      "\nexit status: 0 pass, 1 fail, 77 skip (the host lacks a feature; the report says which), "
      "2 usage error\n");
}

std::optional<int> Cli::parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage();
      return 0;
    }
    std::string value;
    bool has_value = false;
    if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto take_value = [&]() -> bool {
      if (has_value) return true;
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s: %s needs a value (see --help)\n", binary_.c_str(), arg.c_str());
        return false;
      }
      value = argv[++i];
      return true;
    };
    if (arg == "--report-dir") {
      if (!take_value()) return 2;
      if (value.empty()) {
        std::fprintf(stderr, "%s: --report-dir must not be empty\n", binary_.c_str());
        return 2;
      }
      report_dir_ = value;
      continue;
    }
    bool known = false;
    for (auto& f : flags_) {
      if (f.name != arg) continue;
      known = true;
      if (!take_value()) return 2;
      char* end = nullptr;
      errno = 0;
      const long v = std::strtol(value.c_str(), &end, 10);
      if (errno != 0 || end == value.c_str() || *end != '\0' || v < f.min || v > f.max) {
        std::fprintf(stderr, "%s: %s wants an integer in %d..%d, got '%s'\n", binary_.c_str(), f.name.c_str(), f.min,
                     f.max, value.c_str());
        return 2;
      }
      *f.target = static_cast<int>(v);
    }
    if (!known) {
      std::fprintf(stderr, "%s: unknown option '%s' (see --help)\n", binary_.c_str(), arg.c_str());
      return 2;
    }
  }
  return std::nullopt;
}

Json Cli::params() const {
  auto j = Json::object();
  for (const auto& f : flags_) j[f.name.substr(2)] = *f.target;
  return j;
}

}  // namespace poc
