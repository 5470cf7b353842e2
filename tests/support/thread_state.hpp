#pragma once
// What the OS says one thread of this process is doing, for tests that must show a thread was
// asleep in a blocking call before they wake it (support/blocked_waiter).
#include <cstdint>

namespace tofu::test {

enum class ThreadState {
  unknown,  // the host does not say (Wine: NtQuerySystemInformation gives 0 for every thread)
  running,  // running or ready to run
  asleep,   // waiting in the kernel
};

// `tid` is the OS thread id (gettid() / GetCurrentThreadId()).
ThreadState thread_state(std::uint64_t tid);

}  // namespace tofu::test
