// What tofu_stages makes of a stage's exit code and report: every combination that must never be
// shown as a pass.
#include <catch2/catch.hpp>

#include "runner/stage_summary.hpp"

using poc::StageRun;
using poc::summarize;

namespace {

nlohmann::ordered_json report(const std::string& status, const std::string& reason = "because",
                              const std::string& key_figures = "") {
  nlohmann::ordered_json j;
  j["schema"] = "tofu-stage-report/1";
  j["binary"] = "stage9_demo";
  j["stage"] = "9";
  j["status"] = status;
  j["reason"] = reason;
  j["key_figures"] = key_figures;
  j["host"] = {{"os", "Windows 10"}, {"description", "Windows 10 under Wine 8.0"}};
  return j;
}

StageRun ran(int exit_code, std::optional<nlohmann::ordered_json> r) {
  StageRun run;
  run.binary = "stage9_demo";
  run.exit_code = exit_code;
  run.seconds = 1.25;
  run.log = "reports/logs/stage9_demo.log";
  run.report = std::move(r);
  return run;
}

}  // namespace

TEST_CASE("a pass needs exit code 0 and a report that says pass", "[poc][runner]") {
  const auto row = summarize(ran(0, report("pass", "all 3 checks passed", "rtt p50 12 us")));
  CHECK(row.status == "pass");
  CHECK(row.stage_id == "9");
  CHECK(row.figures == "rtt p50 12 us");
  CHECK(row.host == "Windows 10 under Wine 8.0");
  CHECK(row.wall_time == "1.2 s");
}

TEST_CASE("a skip shows its reason and is never a pass", "[poc][runner]") {
  const auto row = summarize(ran(77, report("skip", "AF_UNIX is unsupported")));
  CHECK(row.status == "skip");
  CHECK(row.figures == "AF_UNIX is unsupported");
  const auto strict = summarize(ran(77, report("skip", "AF_UNIX is unsupported")), true);
  CHECK(strict.status == "fail");
  CHECK_THAT(strict.figures, Catch::Contains("--fail-on-skip"));
}

TEST_CASE("an exit code and a report that disagree are a failure", "[poc][runner]") {
  auto row = summarize(ran(0, report("fail", "check failed: x")));
  CHECK(row.status == "fail");
  CHECK_THAT(row.figures, Catch::Contains("exit code 0 but the report says 'fail'"));
  row = summarize(ran(77, report("pass")));
  CHECK(row.status == "fail");
  row = summarize(ran(1, report("pass")));
  CHECK(row.status == "fail");
}

TEST_CASE("no report, an unreadable report, a kill or a missing binary are failures", "[poc][runner]") {
  auto row = summarize(ran(0, std::nullopt));
  CHECK(row.status == "fail");
  CHECK_THAT(row.figures, Catch::Contains("no report written; see reports/logs/stage9_demo.log"));

  StageRun unreadable = ran(0, std::nullopt);
  unreadable.report_error = "stage9_demo.json: parse error";
  CHECK(summarize(unreadable).status == "fail");

  StageRun killed = ran(1, std::nullopt);
  killed.killed = true;
  killed.timeout_s = 600;
  row = summarize(killed);
  CHECK(row.status == "fail");
  CHECK_THAT(row.figures, Catch::Contains("killed after 600 s"));
  killed.exit_code = 0;  // even a kill that left exit code 0 and a pass report behind
  killed.report = report("pass");
  CHECK(summarize(killed).status == "fail");

  StageRun missing;
  missing.binary = "stage9_demo";
  missing.found = false;
  missing.missing = "poc/stage9_demo.exe";
  row = summarize(missing);
  CHECK(row.status == "fail");
  CHECK(row.figures == "binary not built: poc/stage9_demo.exe");
}

TEST_CASE("SUMMARY.md has one row per stage and the counts", "[poc][runner]") {
  std::vector<poc::SummaryRow> rows = {summarize(ran(0, report("pass", "", "a|b"))),
                                       summarize(ran(77, report("skip", "no AF_UNIX"))),
                                       summarize(ran(3, std::nullopt))};
  const std::string md = poc::render_summary(rows, "2026-11-27T10:00:00Z", "build/windows/poc");
  CHECK_THAT(md, Catch::StartsWith("# Phase I stages: summary\n\nRun 2026-11-27T10:00:00Z by `tofu_stages` from "
                                   "`build/windows/poc`; host: Windows 10 under Wine 8.0.\n"));
  CHECK_THAT(md, Catch::Contains("| 9 | `stage9_demo` | **pass** | a\\|b | Windows 10 under Wine 8.0 | 1.2 s |\n"));
  CHECK_THAT(md, Catch::Contains("| 9 | `stage9_demo` | **skip** | no AF_UNIX |"));
  CHECK_THAT(md, Catch::Contains("| ? | `stage9_demo` | **fail** | exit code 3 and no report written"));
  CHECK_THAT(md, Catch::Contains("\npass: 1, skip: 1, fail: 1. A skip is not a pass"));
  const auto c = poc::count(rows);
  CHECK((c.passed == 1 && c.skipped == 1 && c.failed == 1));
}
