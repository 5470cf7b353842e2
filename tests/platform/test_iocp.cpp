#include <catch2/catch.hpp>

#include <array>
#include <thread>
#include <vector>

#include "platform/windows/iocp.hpp"
#include "support/blocked_waiter.hpp"

using namespace tofu::platform::win;

TEST_CASE("ntdll entry points resolve", "[platform][iocp]") {
  auto api = nt_api();
  REQUIRE(api.ok());
  CHECK(api.value()->NtSetIoCompletion != nullptr);
  CHECK(api.value()->NtRemoveIoCompletionEx != nullptr);
  CHECK(api.value()->NtCancelIoFileEx != nullptr);
}

TEST_CASE("a posted wake-up is dequeued with its key, context, status and information", "[platform][iocp]") {
  auto port = IoCompletionPort::create();
  REQUIRE(port.ok());
  int marker = 0;
  REQUIRE(port->post(0xDEADBEEF, &marker, 0x1234, 99).ok());
  std::array<Completion, 4> out{};
  auto n = port->dequeue(out, 5000);
  REQUIRE(n.ok());
  REQUIRE(n.value() == 1);
  CHECK(out[0].key == 0xDEADBEEF);
  CHECK(out[0].apc_context == &marker);
  CHECK(out[0].status == 0x1234);
  CHECK(out[0].information == 99);
}

TEST_CASE("dequeue times out with nothing queued", "[platform][iocp]") {
  auto port = IoCompletionPort::create();
  REQUIRE(port.ok());
  std::array<Completion, 4> out{};
  auto n = port->dequeue(out, 20);
  INFO((n.ok() ? std::string() : n.error().message()));
  REQUIRE(n.ok());
  CHECK(n.value() == 0);
}

TEST_CASE("a batch dequeue returns every posted completion in order", "[platform][iocp]") {
  auto port = IoCompletionPort::create();
  REQUIRE(port.ok());
  for (ULONG_PTR k = 1; k <= 10; ++k) REQUIRE(port->post(k).ok());
  std::array<Completion, 16> out{};
  auto n = port->dequeue(out, 5000);
  REQUIRE(n.ok());
  REQUIRE(n.value() == 10);
  for (std::size_t i = 0; i < 10; ++i) CHECK(out[i].key == i + 1);
}

// The dequeue(-1) runs on its own thread and the post comes only once that thread is inside it, so
// the post must end a wait in progress (a lost wake-up fails within 10 s instead of hanging).
TEST_CASE("a post from another thread ends an infinite dequeue that began before it", "[platform][iocp]") {
  auto port = IoCompletionPort::create();
  REQUIRE(port.ok());
  std::array<Completion, 1> out{};
  bool ok = false;
  std::size_t got = 0;
  tofu::test::BlockedWaiter waiter([&] {
    auto n = port->dequeue(out, -1);
    ok = n.ok();
    got = ok ? n.value() : 0;
  });
  if (tofu::test::BlockedWaiter::can_confirm_asleep()) CHECK(waiter.asleep_confirmed());
  const auto posted_at = tofu::test::BlockedWaiter::Clock::now();
  REQUIRE(port->post(7, nullptr, 0, 0).ok());
  REQUIRE(waiter.returned_within(std::chrono::seconds(10)));
  CHECK(waiter.entered() < posted_at);
  REQUIRE(ok);
  REQUIRE(got == 1);
  CHECK(out[0].key == 7);
}

// Row 10 of ../shared/reviews/afd-backend-vs-wepoll-mio.md: spec §6.2 says 256 per wait.
TEST_CASE("one dequeue returns up to 256 completions", "[platform][iocp]") {
  auto port = IoCompletionPort::create();
  REQUIRE(port.ok());
  for (ULONG_PTR k = 1; k <= 300; ++k) REQUIRE(port->post(k).ok());
  std::vector<Completion> out(300);
  auto n = port->dequeue(out, 5000);
  REQUIRE(n.ok());
  CHECK(n.value() == IoCompletionPort::kMaxBatch);
  CHECK(IoCompletionPort::kMaxBatch == 256);
  auto rest = port->dequeue(out, 5000);
  REQUIRE(rest.ok());
  CHECK(rest.value() == 300 - 256);
}
