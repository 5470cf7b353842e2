// A test program for tofu_case_runner's own check (check.cmake): a case that passes, one whose
// name needs escaping, one that skips the way tofu's tests do (exit 77) and one that fails when
// TOFU_CASE_RUNNER_PROBE_FAIL is set. Every case that runs counts itself in its process: run one
// per process, as the runner must, each sees 1; a spec that matched several cases, or a run of the
// whole program, makes the second one fail.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "support/skip.hpp"

namespace {
int cases_run_in_this_process() {
  static int n = 0;
  return ++n;
}
}  // namespace

TEST_CASE("probe: passes") { CHECK(cases_run_in_this_process() == 1); }

TEST_CASE("probe: a name with a comma, and [brackets], runs alone") { CHECK(cases_run_in_this_process() == 1); }

TEST_CASE("probe: skips") { TOFU_SKIP("the probe's skip"); }

TEST_CASE("probe: fails when asked") {
  CHECK(cases_run_in_this_process() == 1);
  CHECK(std::getenv("TOFU_CASE_RUNNER_PROBE_FAIL") == nullptr);
}
