#pragma once
// What makes a crashed test readable in the CTest log (D-46): std::terminate (e.g. an exception
// escaping a test's own thread) and, on Windows, an unhandled SEH exception (access violation...)
// print the running test case and section and the stack of every thread before the process ends.
// Catch2 cannot do it there: it has no SEH support with mingw, and under Wine the default crash
// report (winedbg --auto) names no function of ours. Linux signals stay with Catch2 (it reports
// them with the test case). Installed by the test main.
namespace tofu::test {

void install_crash_report();

}  // namespace tofu::test
