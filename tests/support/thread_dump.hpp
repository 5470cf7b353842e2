#pragma once
// Prints the stack of every thread of this process to stderr, for the watchdog and the crash
// report (D-46). Linux: gdb attaches to the process; under Wine: winedbg does, and the addresses in
// our executable are named from its COFF symbol table (the windows preset has no debug info).
// Where no debugger is available it says so and prints nothing else. Bounded in time.
namespace tofu::test {

void dump_all_threads();

}  // namespace tofu::test
