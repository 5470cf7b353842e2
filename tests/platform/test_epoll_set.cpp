#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <array>

#include "platform/linux/epoll_set.hpp"

using namespace tofu::platform;
using namespace tofu::platform::linux_os;

namespace {
struct Pair {
  UniqueFd a, b;
  Pair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
};
}  // namespace

TEST_CASE("epoll reports readable only after data arrives, with the key", "[platform][epoll]") {
  auto ep = EpollSet::create();
  REQUIRE(ep.ok());
  Pair p;
  REQUIRE(ep->add(p.a.get(), Interest{true, false}, 77).ok());
  std::array<EpollEvent, 4> ev{};
  auto n = ep->wait(ev, 0);
  REQUIRE(n.ok());
  CHECK(n.value() == 0);
  REQUIRE(::write(p.b.get(), "x", 1) == 1);
  n = ep->wait(ev, 5000);
  REQUIRE(n.ok());
  REQUIRE(n.value() == 1);
  CHECK(ev[0].key == 77);
  CHECK(ev[0].readiness.readable);
  CHECK_FALSE(ev[0].readiness.writable);
}

TEST_CASE("epoll modify switches interest to writable and remove silences the fd", "[platform][epoll]") {
  auto ep = EpollSet::create();
  REQUIRE(ep.ok());
  Pair p;
  REQUIRE(ep->add(p.a.get(), Interest{}, 1).ok());
  std::array<EpollEvent, 4> ev{};
  REQUIRE(ep->wait(ev, 0).value() == 0);
  REQUIRE(ep->modify(p.a.get(), Interest{false, true}, 2).ok());
  auto n = ep->wait(ev, 5000);
  REQUIRE(n.value() == 1);
  CHECK(ev[0].key == 2);
  CHECK(ev[0].readiness.writable);
  REQUIRE(ep->remove(p.a.get()).ok());
  CHECK(ep->wait(ev, 0).value() == 0);
  auto again = ep->remove(p.a.get());
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ENOENT);
}

TEST_CASE("epoll reports hang-up when the peer closes", "[platform][epoll]") {
  auto ep = EpollSet::create();
  REQUIRE(ep.ok());
  Pair p;
  REQUIRE(ep->add(p.a.get(), Interest{true, false}, 5).ok());
  p.b.reset();
  std::array<EpollEvent, 4> ev{};
  auto n = ep->wait(ev, 5000);
  REQUIRE(n.value() == 1);
  CHECK(ev[0].readiness.hangup);
  CHECK(ev[0].readiness.readable);  // EOF is readable: recv returns 0
}
