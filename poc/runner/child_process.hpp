#pragma once
// Runs one program and waits for it, for the stage runner (tofu_stages): its stdout goes to a log
// file, its stderr to the same log and to our stderr (live progress), and it is killed when it
// outlives a deadline.
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace poc {

struct ChildExit {
  bool started = false;  // false: it could not be started (`error` says why)
  bool killed = false;   // it outlived the timeout and was terminated
  int exit_code = -1;
  double seconds = 0;  // wall time
  std::string error;
};

ChildExit run_child(const std::filesystem::path& program, const std::vector<std::string>& args,
                    const std::filesystem::path& log, std::chrono::seconds timeout);

// The directory of the running executable.
std::filesystem::path own_directory();

}  // namespace poc
