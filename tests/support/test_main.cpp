// The one Catch2 main of every test executable. Besides running Catch2 it makes failures, crashes
// and hangs readable in the CTest log (D-46):
// - stdout is unbuffered: on a crash or a CTest timeout nothing already printed is lost (a pipe
//   is fully buffered otherwise, and msvcrt has no line buffering);
// - the crash report and the watchdog print the running test case and section and every thread's stack.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "support/crash_report.hpp"
#include "support/watchdog.hpp"

namespace {

// Tells the watchdog which test case and section run. It overrides the base's start and end events
// together or not at all: the base keeps a section stack of its own that these would unbalance.
struct WatchdogListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    tofu::test::Watchdog::instance().test_started(info.name);
  }
  void testCaseEnded(const Catch::TestCaseStats&) override { tofu::test::Watchdog::instance().test_ended(); }
  void sectionStarting(const Catch::SectionInfo& info) override {
    tofu::test::Watchdog::instance().section_started(info.name);
  }
  void sectionEnded(const Catch::SectionStats&) override { tofu::test::Watchdog::instance().section_ended(); }
};

}  // namespace

CATCH_REGISTER_LISTENER(WatchdogListener)

int main(int argc, char* argv[]) {
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  tofu::test::install_crash_report();
  tofu::test::Watchdog::instance().start(tofu::test::Watchdog::configured_limit());
  Catch::Session session;
  int result = session.applyCommandLine(argc, argv);
  if (result == 0) {
    // A filter that matches no test fails the run: CTest registers each test by name, and a name
    // CMake cut (at a ';') would otherwise run nothing and pass.
    auto& config = session.configData();
    config.warnings = static_cast<Catch::WarnAbout::What>(config.warnings | Catch::WarnAbout::NoTests);
    result = session.run();
  }
  tofu::test::Watchdog::instance().stop();
  return result;
}
