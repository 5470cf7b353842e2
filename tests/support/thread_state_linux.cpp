#include "support/thread_state.hpp"

#include <fstream>
#include <string>

namespace tofu::test {

// The state letter of /proc/self/task/<tid>/stat: S (interruptible) and D (uninterruptible) sleep.
ThreadState thread_state(std::uint64_t tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return ThreadState::unknown;
  const auto paren = line.rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string::npos || paren + 2 >= line.size()) return ThreadState::unknown;
  switch (line[paren + 2]) {
    case 'S':
    case 'D': return ThreadState::asleep;
    case 'R': return ThreadState::running;
    default: return ThreadState::unknown;
  }
}

}  // namespace tofu::test
