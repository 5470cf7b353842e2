// A test program for tofu_case_runner's own check (check.cmake): a case that passes, one whose
// name needs escaping, one that skips the way tofu's tests do (exit 77) and one that fails when
// TOFU_CASE_RUNNER_PROBE_FAIL is set.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "support/skip.hpp"

TEST_CASE("probe: passes") { CHECK(1 + 1 == 2); }

TEST_CASE("probe: a name with a comma, and [brackets], runs alone") { CHECK(true); }

TEST_CASE("probe: skips") { TOFU_SKIP("the probe's skip"); }

TEST_CASE("probe: fails when asked") { CHECK(std::getenv("TOFU_CASE_RUNNER_PROBE_FAIL") == nullptr); }
