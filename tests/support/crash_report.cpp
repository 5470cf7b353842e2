#include "support/crash_report.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "support/thread_dump.hpp"
#include "support/watchdog.hpp"

#ifdef _WIN32
#include <windows.h>

#include "support/coff_symbols.hpp"
#endif

namespace tofu::test {
namespace {

void on_terminate() {
  std::fprintf(stderr, "\ntofu test: std::terminate in %s; the stack of every thread follows\n",
               Watchdog::instance().where().c_str());
  std::fflush(stderr);
  dump_all_threads();
  std::fprintf(stderr, "tofu test: end of the stacks\n");
  std::fflush(stderr);
  std::abort();
}

#ifdef _WIN32
LONG WINAPI on_unhandled_exception(EXCEPTION_POINTERS* info) {
  const EXCEPTION_RECORD& r = *info->ExceptionRecord;
  const std::string symbol = symbol_for_address(r.ExceptionAddress);
  std::fprintf(stderr, "\ntofu test: unhandled exception 0x%08lx at %p%s%s in %s; the stack of every thread follows\n",
               static_cast<unsigned long>(r.ExceptionCode), r.ExceptionAddress, symbol.empty() ? "" : " ",
               symbol.c_str(), Watchdog::instance().where().c_str());
  std::fflush(stderr);
  dump_all_threads();
  std::fprintf(stderr, "tofu test: end of the stacks\n");
  std::fflush(stderr);
  return EXCEPTION_EXECUTE_HANDLER;  // end the process now (exit code = the exception code)
}
#endif

}  // namespace

void install_crash_report() {
  std::set_terminate(on_terminate);
#ifdef _WIN32
  SetUnhandledExceptionFilter(on_unhandled_exception);
#endif
}

}  // namespace tofu::test
