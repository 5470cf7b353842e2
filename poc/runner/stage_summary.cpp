#include "runner/stage_summary.hpp"

#include <cstdio>

namespace poc {
namespace {

std::string string_field(const nlohmann::ordered_json& j, const char* name) {
  const auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string md_cell(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += "<br>";
    } else if (c != '\r') {
      out += c;
    }
  }
  return out;
}

SummaryRow summarize(const StageRun& run, bool skip_is_failure) {
  SummaryRow row;
  row.binary = run.binary;
  if (!run.found) {
    row.status = "fail";
    row.figures = "binary not built: " + run.missing;
    return row;
  }
  if (!run.started) {
    row.status = "fail";
    row.figures = "could not start: " + run.start_error;
    return row;
  }
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.1f s", run.seconds);
  row.wall_time = secs;
  std::string status = run.killed ? "fail" : run.exit_code == 0 ? "pass" : run.exit_code == 77 ? "skip" : "fail";
  if (!run.report) {
    row.status = "fail";
    if (!run.report_error.empty()) {
      row.figures = "exit code " + std::to_string(run.exit_code) + " and an unreadable report: " + run.report_error;
    } else if (run.killed) {
      row.figures = "killed after " + std::to_string(run.timeout_s) + " s by tofu_stages (no report written)";
    } else {
      row.figures = "exit code " + std::to_string(run.exit_code) + " and no report written; see " + run.log;
    }
    return row;
  }
  const nlohmann::ordered_json& j = *run.report;
  if (const std::string id = string_field(j, "stage"); !id.empty()) row.stage_id = id;
  if (const auto host = j.find("host"); host != j.end() && host->is_object()) {
    row.host = string_field(*host, "description");
  }
  const std::string reported = string_field(j, "status");
  const std::string key_figures = string_field(j, "key_figures");
  if (status == "pass") {
    row.figures = key_figures;
  } else {
    row.figures = string_field(j, "reason");
    if (!key_figures.empty()) row.figures += " — " + key_figures;
  }
  if (run.killed) {
    row.figures = "killed after " + std::to_string(run.timeout_s) + " s by tofu_stages; its report said '" +
                  reported + "': " + row.figures;
  } else if (reported != status) {
    row.figures = "exit code " + std::to_string(run.exit_code) + " but the report says '" + reported + "': " + row.figures;
    status = "fail";
  }
  if (status == "skip" && skip_is_failure) {
    row.figures = "skipped, and --fail-on-skip is set: " + row.figures;
    status = "fail";
  }
  row.status = status;
  return row;
}

SummaryCounts count(const std::vector<SummaryRow>& rows) {
  SummaryCounts c;
  for (const SummaryRow& r : rows) {
    if (r.status == "pass") {
      ++c.passed;
    } else if (r.status == "skip") {
      ++c.skipped;
    } else {
      ++c.failed;
    }
  }
  return c;
}

std::string render_summary(const std::vector<SummaryRow>& rows, const std::string& when, const std::string& from) {
  std::string host;
  for (const SummaryRow& r : rows) {
    if (!r.host.empty()) {
      host = r.host;
      break;
    }
  }
  const SummaryCounts c = count(rows);
  std::string md = "# Phase I stages: summary\n\n";
  md += "Run " + when + " by `tofu_stages` from `" + from + "`; host: " + (host.empty() ? "unknown" : host) + ".\n\n";
  md += "| stage | binary | status | key figures (pass) / reason (skip, fail) | host | wall time |\n";
  md += "|---|---|---|---|---|---|\n";
  for (const SummaryRow& r : rows) {
    md += "| " + md_cell(r.stage_id) + " | `" + r.binary + "` | **" + r.status + "** | " + md_cell(r.figures) + " | " +
          md_cell(r.host) + " | " + r.wall_time + " |\n";
  }
  md += "\npass: " + std::to_string(c.passed) + ", skip: " + std::to_string(c.skipped) + ", fail: " +
        std::to_string(c.failed) + ". A skip is not a pass: the host lacks what the stage\n";
  md += "needs (the reason says what). Each stage's evidence is in `<binary>.md` / `<binary>.json` next to\n";
  md += "this file; `docs/stages.md` explains every check and how real Windows and Wine differ.\n";
  return md;
}

}  // namespace poc
