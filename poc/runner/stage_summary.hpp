#pragma once
// What tofu_stages makes of one stage run (its exit code and its JSON report) and the SUMMARY.md
// it writes: one table row per stage, in the format poc/run_stages.sh used to write.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace poc {

// The roadmap's order of the Phase I stages; a stage binary found next to the runner but not in
// this list runs after these, in name order.
inline const std::vector<std::string>& known_stages() {
  static const std::vector<std::string> names = {"stage0_wakeup",    "stage1_accept", "stage1_accept_iocp",
                                                 "stage1u_listener", "stage1u_echo",  "stage1u_stress",
                                                 "stage2_echo",      "stage3_stress"};
  return names;
}

struct StageRun {
  std::string binary;   // "stage2_echo"
  bool found = true;    // false: the binary is not there
  std::string missing;  // what was looked for, when !found
  bool started = true;  // false: it could not be started (start_error says why)
  std::string start_error;
  bool killed = false;  // outlived the runner's --stage-timeout
  int timeout_s = 0;
  int exit_code = -1;
  double seconds = 0;
  std::string log;                               // where its console output went
  std::optional<nlohmann::ordered_json> report;  // <report-dir>/<binary>.json, if written and readable
  std::string report_error;                      // why the report could not be read, if it exists
};

struct SummaryRow {
  std::string stage_id = "?";
  std::string binary;
  std::string status;  // pass | skip | fail
  std::string figures;  // key figures (pass) or reason (skip, fail)
  std::string host;
  std::string wall_time;  // "12.3 s", or "" when it did not run
};

// exit 0 = pass, 77 = skip, anything else = fail; and the report must say the same, or the row
// is a fail that says both. `skip_is_failure`: on a host that must run every stage (real Windows
// has AF_UNIX), a skip counts as a failure.
SummaryRow summarize(const StageRun& run, bool skip_is_failure = false);

struct SummaryCounts {
  int passed = 0, skipped = 0, failed = 0;
};
SummaryCounts count(const std::vector<SummaryRow>& rows);

// SUMMARY.md. `when` is the UTC start time, `from` the directory the stages ran from.
std::string render_summary(const std::vector<SummaryRow>& rows, const std::string& when, const std::string& from);

// A Markdown table cell: '|' escaped, line breaks as <br>.
std::string md_cell(const std::string& s);

}  // namespace poc
