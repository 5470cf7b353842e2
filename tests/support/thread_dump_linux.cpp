// Linux: gdb attaches to this process and prints every thread's backtrace to stderr.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "support/thread_dump.hpp"

extern char** environ;

namespace tofu::test {

void dump_all_threads() {
  // With Yama's ptrace_scope 1 only an ancestor may attach; let our own gdb child do it.
  ::prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
  const std::string pid = std::to_string(::getpid());
  const char* argv[] = {"gdb", "-q", "-nx", "-batch", "-p", pid.c_str(), "-ex", "set pagination off",
                        "-ex", "thread apply all bt", nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  pid_t child = -1;
  const int rc = ::posix_spawnp(&child, "gdb", &actions, nullptr, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    std::fprintf(stderr, "thread dump: cannot start gdb (%s), no stacks\n", std::strerror(rc));
    return;
  }
  // Bounded: gdb gets 30 s, then it is killed (it detaches from us when it dies).
  for (int i = 0; i < 300; ++i) {
    int status = 0;
    const pid_t r = ::waitpid(child, &status, WNOHANG);
    if (r == child || r < 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  std::fprintf(stderr, "thread dump: gdb did not finish within 30 s\n");
}

}  // namespace tofu::test
