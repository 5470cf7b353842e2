#include <catch2/catch.hpp>
#include <poll.h>

#include <thread>
#include <vector>

#include "platform/linux/event_notifier.hpp"
#include "support/blocked_waiter.hpp"

using tofu::platform::linux_os::EventNotifier;

namespace {
bool readable_within(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}
}  // namespace

TEST_CASE("eventfd notifier is quiet until notified", "[platform][notifier]") {
  auto n = EventNotifier::create();
  REQUIRE(n.ok());
  CHECK_FALSE(readable_within(n->fd(), 0));
  auto drained = n->drain();
  REQUIRE(drained.ok());
  CHECK(drained.value() == 0);
}

TEST_CASE("many notifies coalesce into one readable event and one drain", "[platform][notifier]") {
  auto n = EventNotifier::create();
  REQUIRE(n.ok());
  for (int i = 0; i < 1000; ++i) REQUIRE(n->notify().ok());
  REQUIRE(readable_within(n->fd(), 0));
  auto drained = n->drain();
  REQUIRE(drained.ok());
  CHECK(drained.value() == 1000);
  CHECK_FALSE(readable_within(n->fd(), 0));
}

TEST_CASE("notify from other threads wakes a poll that was already asleep on the fd", "[platform][notifier]") {
  auto n = EventNotifier::create();
  REQUIRE(n.ok());
  bool readable = false;
  // The first poll runs on its own thread; the notifiers start once the kernel shows it asleep.
  tofu::test::BlockedWaiter waiter([&] { readable = readable_within(n->fd(), 10'000); });
  CHECK(waiter.asleep_confirmed());
  const auto first_notify = tofu::test::BlockedWaiter::Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) (void)n->notify();
    });
  }
  REQUIRE(waiter.returned_within(std::chrono::seconds(10)));
  CHECK(readable);
  CHECK(waiter.entered() < first_notify);
  std::uint64_t total = 0;
  while (total < 1000) {
    REQUIRE(readable_within(n->fd(), 10'000));
    auto d = n->drain();
    REQUIRE(d.ok());
    total += d.value();
  }
  for (auto& th : threads) th.join();
  CHECK(total == 1000);
}
