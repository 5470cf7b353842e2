#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <vector>

#include "platform/linux/poll_set.hpp"
#include "platform/linux/unique_fd.hpp"

using namespace tofu::platform;
using namespace tofu::platform::linux_os;

TEST_CASE("poll set stays dense across removals and keeps keys with their fds", "[platform][poll]") {
  PollSet set;
  std::vector<UniqueFd> ends;
  for (int i = 0; i < 4; ++i) {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
    ends.emplace_back(fds[0]);
    ends.emplace_back(fds[1]);
    REQUIRE(set.add(fds[0], Interest{true, false}, static_cast<std::uint64_t>(100 + i)).ok());
  }
  REQUIRE(set.size() == 4);
  REQUIRE(set.remove(ends[0].get()).ok());  // swap-remove moves the last slot into slot 0
  REQUIRE(set.size() == 3);
  REQUIRE(::write(ends[7].get(), "x", 1) == 1);  // peer of the 4th pair (key 103)
  std::array<PollEvent, 8> ev{};
  auto n = set.wait(ev, 5000);
  REQUIRE(n.ok());
  REQUIRE(n.value() == 1);
  CHECK(ev[0].key == 103);
  CHECK(ev[0].readiness.readable);
  CHECK_FALSE(set.add(ends[2].get(), Interest{}, 1).ok());  // already present
  CHECK_FALSE(set.modify(ends[0].get(), Interest{}, 1).ok());  // removed
}

TEST_CASE("poll times out with no events", "[platform][poll]") {
  PollSet set;
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
  UniqueFd a(fds[0]), b(fds[1]);
  REQUIRE(set.add(a.get(), Interest{true, false}, 1).ok());
  std::array<PollEvent, 2> ev{};
  auto n = set.wait(ev, 10);
  REQUIRE(n.ok());
  CHECK(n.value() == 0);
}
