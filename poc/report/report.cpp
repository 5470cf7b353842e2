#include "report/report.hpp"

#include <winsock2.h>
#include <windows.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <utility>

#include "platform/common/host_info.hpp"

namespace poc {
namespace {

Json host_json() {
  auto j = Json::object();
  const std::string os = tofu::platform::os_description();
  const std::string wine = tofu::platform::wine_version();
  SYSTEM_INFO si{};
  GetNativeSystemInfo(&si);
  j["os"] = os;
  j["wine"] = wine.empty() ? Json(nullptr) : Json(wine);
  j["cpus"] = static_cast<std::int64_t>(si.dwNumberOfProcessors);
  j["description"] = wine.empty() ? os : os + " under Wine " + wine;
  return j;
}

std::string md_cell(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += "<br>";
    } else {
      out += c;
    }
  }
  return out.empty() ? "-" : out;
}

bool write_file(const std::filesystem::path& path, const std::string& content, std::string* error) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) {
    *error = "cannot open " + path.string() + " for writing";
    return false;
  }
  f << content;
  f.close();
  if (!f) {
    *error = "cannot write " + path.string();
    return false;
  }
  return true;
}

}  // namespace

Report::Report(std::string binary, std::string stage, std::string title, std::string report_dir)
    : binary_(std::move(binary)),
      stage_(std::move(stage)),
      title_(std::move(title)),
      report_dir_(std::move(report_dir)),
      started_at_(utc_now_iso8601()),
      start_us_(now_us()),
      host_(host_json()),
      handles_start_(handle_snapshot()),
      memory_start_(memory_usage()) {}

Report::~Report() {
  {
    std::lock_guard lock(mu_);
    finished_ = true;
  }
  cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

void Report::params(Json params) {
  std::lock_guard lock(mu_);
  params_ = std::move(params);
}

bool Report::check(const std::string& name, const std::string& expected, const std::string& observed, bool ok) {
  {
    std::lock_guard lock(mu_);
    checks_.push_back(Check{name, expected, observed, ok});
  }
  if (!ok) progress(binary_, "CHECK FAILED: " + name + ": expected " + expected + ", observed " + observed);
  return ok;
}

bool Report::check_eq(const std::string& name, std::int64_t expected, std::int64_t observed) {
  return check(name, std::to_string(expected), std::to_string(observed), expected == observed);
}

bool Report::check_handles(const std::string& name, const HandleSnapshot& before, const HandleSnapshot& after) {
  const HandleVerdict v = judge_handles(before, after);
  metric("handles_before", to_json(before));
  metric("handles_after", to_json(after));
  metric("handles_added", v.added);
  return check(name, v.expected, v.observed, v.ok);
}

void Report::metric(const std::string& name, Json value) {
  std::lock_guard lock(mu_);
  metrics_[name] = std::move(value);
}

void Report::key_figures(const std::string& text) {
  std::lock_guard lock(mu_);
  key_figures_ = text;
}

void Report::fail(const std::string& reason) {
  {
    std::lock_guard lock(mu_);
    if (fail_reason_.empty()) fail_reason_ = reason;
  }
  progress(binary_, "FAIL: " + reason);
}

void Report::skip(const std::string& reason) {
  {
    std::lock_guard lock(mu_);
    if (skip_reason_.empty()) skip_reason_ = reason;
  }
  progress(binary_, "SKIP: " + reason);
}

void Report::phase(const std::string& what) {
  {
    std::lock_guard lock(mu_);
    phase_ = what;
  }
  progress(binary_, what);
}

void Report::arm_watchdog(int seconds) {
  watchdog_ = std::thread([this, seconds] {
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, std::chrono::seconds(seconds), [this] { return finished_; })) return;
    const std::string reason = strf(
        "timed out after %d s during: %s (a stage must never hang; raise --timeout "
        "only if the host is slow)",
        seconds, phase_.c_str());
    progress(binary_, "FAIL: " + reason);
    finish_locked(reason);
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(kExitFail);  // other threads may be blocked in the kernel; do not wait for them
  });
}

int Report::finish() {
  int rc;
  {
    std::lock_guard lock(mu_);
    rc = finish_locked("");
    finished_ = true;
  }
  cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
  return rc;
}

int Report::finish_locked(const std::string& forced_failure) {
  const double duration_ms = (now_us() - start_us_) / 1000.0;
  const HandleSnapshot handles_end = handle_snapshot();
  const MemoryUsage memory_end = memory_usage();

  std::string status;
  std::string reason;
  std::size_t failed = 0;
  const Check* first_failed = nullptr;
  for (const auto& c : checks_) {
    if (!c.ok && failed++ == 0) first_failed = &c;
  }
  // A failure outranks a skip: a skip() after a failed check or fail() must not turn it into exit 77.
  if (!forced_failure.empty()) {
    status = "fail";
    reason = forced_failure;
  } else if (!fail_reason_.empty()) {
    status = "fail";
    reason = fail_reason_;
  } else if (first_failed != nullptr) {
    status = "fail";
    reason = "check failed: " + first_failed->name + " (expected " + first_failed->expected + ", observed " +
             first_failed->observed + ")";
    if (failed > 1) reason += strf(", and %zu more failed check(s)", failed - 1);
  } else if (!skip_reason_.empty()) {
    status = "skip";
    reason = skip_reason_;
  } else if (checks_.empty()) {
    status = "fail";
    reason = "no check ran";
  } else {
    status = "pass";
    reason = strf("all %zu checks passed", checks_.size());
  }
  if (status == "fail" && failed > 0 && first_failed != nullptr && reason.find("check failed") == std::string::npos) {
    reason += strf(" (%zu failed check(s))", failed);
  }

  auto process = Json::object();
  process["handles_at_process_start"] = to_json(handles_start_);
  process["handles_at_report"] = to_json(handles_end);
  process["memory_at_process_start"] = to_json(memory_start_);
  process["memory_at_report"] = to_json(memory_end);
  metrics_["process"] = process;

  auto doc = Json::object();
  doc["schema"] = "tofu-stage-report/1";
  doc["binary"] = binary_;
  doc["stage"] = stage_;
  doc["title"] = title_;
  doc["status"] = status;
  doc["reason"] = reason;
  doc["key_figures"] = key_figures_;
  doc["host"] = host_;
  doc["started_at"] = started_at_;
  doc["duration_ms"] = duration_ms;
  doc["parameters"] = params_;
  auto checks = Json::array();
  for (const auto& c : checks_) {
    auto j = Json::object();
    j["name"] = c.name;
    j["expected"] = c.expected;
    j["observed"] = c.observed;
    j["ok"] = c.ok;
    checks.push_back(std::move(j));
  }
  doc["checks"] = std::move(checks);
  doc["metrics"] = metrics_;

  const std::string md = render_markdown(status, reason, duration_ms);
  std::string error;
  bool written = false;
  std::error_code ec;
  const std::filesystem::path dir(report_dir_);
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    error = "cannot create " + report_dir_ + ": " + ec.message();
  } else {
    written = write_file(dir / (binary_ + ".json"), dump_report(doc) + "\n", &error) &&
              write_file(dir / (binary_ + ".md"), md, &error);
  }
  std::fputs(md.c_str(), stdout);
  std::fflush(stdout);
  if (!written) {
    progress(binary_, "cannot write the report: " + error);
    exit_code_ = kExitFail;
    return exit_code_;
  }
  progress(binary_, "report: " + report_dir_ + "/" + binary_ + ".md (status " + status + ")");
  exit_code_ = status == "pass" ? kExitPass : status == "skip" ? kExitSkip : kExitFail;
  // The project's skip convention (D-05): exit 77 after a "SKIPPED: <reason>" line on stdout.
  if (status == "skip") std::printf("SKIPPED: %s\n", reason.c_str());
  return exit_code_;
}

std::string Report::render_markdown(const std::string& status, const std::string& reason, double duration_ms) const {
  std::string status_text = status == "pass" ? "PASS" : status == "skip" ? "SKIP" : "FAIL";
  std::string md;
  md += "# Stage " + stage_ + ": " + title_ + "\n\n";
  md += "`" + binary_ + "` — **" + status_text + "** — " + md_cell(reason) + "\n\n";
  md += "| field | value |\n|---|---|\n";
  md += "| status | " + status + " |\n";
  md += "| reason | " + md_cell(reason) + " |\n";
  md += "| key figures | " + md_cell(key_figures_) + " |\n";
  const auto member = [this](const char* key) { return host_.contains(key) ? text(host_[key]) : std::string("?"); };
  md += "| host | " + md_cell(member("description")) + " (" + member("cpus") +
        " CPUs) |\n";
  md += "| started (UTC) | " + started_at_ + " |\n";
  md += "| duration | " + format_number(duration_ms) + " ms |\n";
  md += "| parameters | " + md_cell(text(params_)) + " |\n\n";
  md += "## Checks\n\n| ok | check | expected | observed |\n|---|---|---|---|\n";
  for (const auto& c : checks_) {
    md += "| " + std::string(c.ok ? "ok" : "**FAIL**") + " | " + md_cell(c.name) + " | " + md_cell(c.expected) + " | " +
          md_cell(c.observed) + " |\n";
  }
  if (checks_.empty()) md += "| - | (no check ran) | | |\n";
  md += "\n## Metrics\n\n| metric | value |\n|---|---|\n";
  for (const auto& [name, value] : metrics_.items())
    md += "| " + md_cell(name) + " | " + md_cell(text(value)) + " |\n";
  md +=
      "\nThe JSON twin of this file (" + binary_ + ".json) holds the same data; docs/stages.md explains each check.\n";
  return md;
}

}  // namespace poc
