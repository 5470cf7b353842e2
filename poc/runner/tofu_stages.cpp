// tofu_stages: runs every Phase I stage binary found next to it (or in --stage-dir), one after the
// other, and writes <report-dir>/SUMMARY.md; each stage writes its own <binary>.json and .md there,
// and its console output goes to <report-dir>/logs/<binary>.log. Exit code: 0 when no stage failed
// (a skip is shown as skip, never as pass), 1 when one failed or could not run, 2 on a usage error.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/child_process.hpp"
#include "runner/parse_command_line.hpp"
#include "runner/stage_summary.hpp"

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Stage binaries in `dir`: stage*.exe, known stages first in roadmap order, then the rest by name.
std::map<std::string, fs::path> find_stages(const fs::path& dir) {
  std::map<std::string, fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    const fs::path& p = entry.path();
    const std::string stem = p.stem().string();
    if (lower(p.extension().string()) == ".exe" && lower(stem).rfind("stage", 0) == 0) found[stem] = p;
  }
  return found;
}

std::vector<std::string> run_order(const std::map<std::string, fs::path>& found) {
  std::vector<std::string> order = poc::known_stages();
  for (const auto& [name, path] : found) {
    if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
  }
  return order;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_s(&tm, &t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<nlohmann::ordered_json> read_report(const fs::path& file, std::string* error) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  try {
    return nlohmann::ordered_json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    *error = file.filename().string() + ": " + e.what();
    return std::nullopt;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs the Phase I stage binaries and writes SUMMARY.md (docs/stages.md).", "tofu_stages"};
  std::string report_dir = "reports";
  std::string stage_dir;
  std::vector<std::string> only;
  bool list = false;
  bool fail_on_skip = false;
  int stage_timeout = 600;
  std::vector<std::string> stage_args;
  app.add_option("--report-dir", report_dir, "Where reports, logs/ and SUMMARY.md go")->capture_default_str();
  app.add_option("--stage-dir", stage_dir, "Where the stage binaries are (default: next to tofu_stages)");
  app.add_option("--only", only, "Run only this stage (repeatable), e.g. --only stage2_echo");
  app.add_flag("--list", list, "List the stage binaries found and exit");
  app.add_option("--stage-timeout", stage_timeout,
                 "Kill a stage after this many seconds (it then counts as fail; each stage also has its own --timeout)")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  app.add_flag("--fail-on-skip", fail_on_skip,
               "Count a skip as a failure (on real Windows, where every stage can run)");
  app.add_option("stage-args", stage_args, "After --: passed to every stage (only flags all stages know)");
  if (const auto status = poc::parse_command_line(app, argc, argv)) return *status;

  const fs::path dir = stage_dir.empty() ? poc::own_directory() : fs::path(stage_dir);
  const auto found = find_stages(dir);
  std::vector<std::string> order = run_order(found);
  if (list) {
    for (const std::string& name : order) {
      const auto it = found.find(name);
      std::cout << name << '\t' << (it != found.end() ? it->second.string() : "(not built)") << '\n';
    }
    return 0;
  }
  if (!only.empty()) {
    std::vector<std::string> chosen;
    for (std::string name : only) {
      if (lower(fs::path(name).extension().string()) == ".exe") name = fs::path(name).stem().string();
      if (std::find(order.begin(), order.end(), name) == order.end()) {
        std::cerr << "tofu_stages: no stage named " << name << " (see --list)\n";
        return 2;
      }
      if (std::find(chosen.begin(), chosen.end(), name) == chosen.end()) chosen.push_back(name);
    }
    order = chosen;
  }

  std::error_code ec;
  const fs::path reports(report_dir);
  fs::create_directories(reports / "logs", ec);
  if (ec) {
    std::cerr << "tofu_stages: cannot create " << (reports / "logs").string() << ": " << ec.message() << '\n';
    return 1;
  }
  const std::string started = utc_now();
  std::vector<poc::SummaryRow> rows;
  for (const std::string& name : order) {
    poc::StageRun run;
    run.binary = name;
    run.timeout_s = stage_timeout;
    const fs::path json = reports / (name + ".json");
    fs::remove(json, ec);
    fs::remove(reports / (name + ".md"), ec);
    std::cerr << "== " << name << std::endl;
    const auto it = found.find(name);
    if (it == found.end()) {
      run.found = false;
      run.missing = (dir / (name + ".exe")).string();
    } else {
      std::vector<std::string> args = {"--report-dir", report_dir};
      args.insert(args.end(), stage_args.begin(), stage_args.end());
      const fs::path log = reports / "logs" / (name + ".log");
      run.log = log.string();
      const poc::ChildExit done = poc::run_child(it->second, args, log, std::chrono::seconds(stage_timeout));
      run.started = done.started;
      run.start_error = done.error;
      run.killed = done.killed;
      run.exit_code = done.exit_code;
      run.seconds = done.seconds;
      run.report = read_report(json, &run.report_error);
    }
    rows.push_back(poc::summarize(run, fail_on_skip));
    std::cerr << "== " << name << ": " << rows.back().status << " (exit " << run.exit_code << ")" << std::endl;
  }

  const std::string summary = poc::render_summary(rows, started, dir.string());
  std::ofstream(reports / "SUMMARY.md", std::ios::binary | std::ios::trunc) << summary;
  std::cout << summary << std::flush;
  return poc::count(rows).failed == 0 ? 0 : 1;
}
