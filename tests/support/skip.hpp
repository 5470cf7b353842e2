#pragma once
// Catch2 v2 has no "skipped" result. A test that cannot run on this host prints why and exits with
// 77, which every tofu test registers as CTest's SKIP_RETURN_CODE: it shows up as "Skipped", never
// as "Passed". Each Catch2 test case runs in its own process under CTest, so exiting is safe there.
#include <cstdio>
#include <cstdlib>
#include <string>

namespace tofu::test {

[[noreturn]] inline void skip(const std::string& reason) {
  std::fprintf(stdout, "SKIPPED: %s\n", reason.c_str());
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(77);
}

}  // namespace tofu::test

#define TOFU_SKIP(reason) ::tofu::test::skip(reason)
