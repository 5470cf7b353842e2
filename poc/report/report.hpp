#pragma once
// The stage report: what a stage binary proves, as evidence a reader can check.
//
// A stage records its parameters, a list of checks {name, expected, observed, ok} and measured
// metrics, then finish() decides the status and writes DIR/<binary>.json and DIR/<binary>.md:
//   fail  when fail() was called or any check failed (even if skip() was called too);
//   skip  when skip() was called (the host lacks a feature; the reason says which) - never a pass;
//   fail  when no check ran at all;
//   pass  otherwise.
// finish() returns the exit code: 0 pass, 1 fail, 77 skip. A watchdog (arm_watchdog) turns a hang
// into a written "fail: timed out" report and exit code 1. All methods are thread-safe.
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "report/json.hpp"
#include "report/util.hpp"

namespace poc {

inline constexpr int kExitPass = 0;
inline constexpr int kExitFail = 1;
inline constexpr int kExitSkip = 77;

class Report {
 public:
  // `stage` is the roadmap's stage id ("0", "1", "1U.2", ...).
  Report(std::string binary, std::string stage, std::string title, std::string report_dir);
  Report(const Report&) = delete;
  Report& operator=(const Report&) = delete;
  ~Report();

  [[nodiscard]] const std::string& binary() const noexcept { return binary_; }

  void params(Json params);
  // Records one check and returns `ok`, so a stage can write `if (!r.check(...)) return r.finish();`.
  bool check(const std::string& name, const std::string& expected, const std::string& observed, bool ok);
  // Integer equality check: expected and observed are printed as numbers.
  bool check_eq(const std::string& name, std::int64_t expected, std::int64_t observed);
  // Handle check (judge_handles: no new handle beyond the lazy-sync tolerance) plus
  // handles_before / handles_after / handles_added metrics.
  bool check_handles(const std::string& name, const HandleSnapshot& before, const HandleSnapshot& after);
  void metric(const std::string& name, Json value);
  // One line for SUMMARY.md: the stage's most telling measured figures.
  void key_figures(const std::string& text);
  // The stage cannot go on: status fail with this reason (the first reason given is kept).
  void fail(const std::string& reason);
  // The host lacks what the stage needs: status skip with this reason.
  void skip(const std::string& reason);
  // What the stage is doing now: printed as progress, and named if the watchdog fires.
  void phase(const std::string& what);

  // Starts the watchdog: if finish() has not run after `seconds`, the report is written with
  // status fail ("timed out after N s during <phase>") and the process exits with 1.
  void arm_watchdog(int seconds);

  // Decides the status, writes both files, prints the Markdown to stdout, returns the exit code.
  int finish();

 private:
  int finish_locked(const std::string& forced_failure);
  std::string render_markdown(const std::string& status, const std::string& reason, double duration_ms) const;

  mutable std::mutex mu_;
  std::string binary_, stage_, title_, report_dir_;
  std::string started_at_;
  double start_us_;
  Json host_;
  Json params_ = Json::object();
  struct Check {
    std::string name, expected, observed;
    bool ok;
  };
  std::vector<Check> checks_;
  Json metrics_ = Json::object();
  std::string key_figures_;
  std::string fail_reason_;
  std::string skip_reason_;
  std::string phase_ = "start";
  HandleSnapshot handles_start_;
  MemoryUsage memory_start_;
  bool finished_ = false;
  int exit_code_ = kExitFail;

  std::condition_variable cv_;
  std::thread watchdog_;
};

}  // namespace poc
