// The afd backend under a whole engine: packets on the engine's completion port that the engine
// did not cause (row 7 of ../shared/reviews/afd-backend-vs-wepoll-mio.md).
#include <catch2/catch.hpp>

#include <set>

#include "harness.hpp"
#include "platform/windows/afd_poller.hpp"
#include "platform/windows/handles.hpp"
#include "platform/windows/ntdll.hpp"

using namespace tofu;
using namespace tofu::parity;

namespace {

std::set<std::uintptr_t> completion_ports() {
  std::set<std::uintptr_t> out;
  for (const auto& [value, type] : platform::win::probe_handles()) {
    if (type == "IoCompletion") out.insert(value);
  }
  return out;
}

}  // namespace

TEST_CASE("afd engine: packets someone else posts on the engine's port are ignored", "[afd][engine]") {
  const auto before = completion_ports();
  auto engine = make_engine();
  REQUIRE(engine->backend() == Backend::afd);
  std::set<std::uintptr_t> ports;
  for (const std::uintptr_t p : completion_ports()) {
    if (!before.contains(p)) ports.insert(p);
  }
  REQUIRE(ports.size() == 1);  // the engine's one port (spec-v6.1 §6)
  const auto port = reinterpret_cast<HANDLE>(*ports.begin());

  auto server = make_group(*engine);
  auto client = make_group(*engine);
  const Listener listener = open_listener(*engine, *server);
  const Link link = handshake(*engine, *client, *server, listener.address);
  round_trip(*engine, *client, *server, link, "before");

  // What a foreign poster could send: any key, any context, any status. Contexts that point at
  // nothing: a reactor that took them for one of its polls would crash here.
  auto api = platform::win::nt_api();
  REQUIRE(api.ok());
  const std::pair<ULONG_PTR, void*> foreign[] = {
      {0, reinterpret_cast<void*>(0x10)},
      {platform::win::kAfdPollKey, reinterpret_cast<void*>(0x10)},
      {platform::win::kAfdPollKey, nullptr},
      {0x5EED, reinterpret_cast<void*>(0x30)},
  };
  for (int round = 0; round < 3; ++round) {
    for (const auto& [key, context] : foreign) {
      REQUIRE(api.value()->NtSetIoCompletion(port, key, context, static_cast<LONG>(0xC0000120), 0) == 0);
    }
    round_trip(*engine, *client, *server, link, "after foreign packets " + std::to_string(round));
  }
  // Nothing was closed or reported because of them.
  CHECK(engine->channel_count() == 3);
  CHECK(!client->wait_receive(std::chrono::milliseconds(100)));
  CHECK(!server->wait_receive(std::chrono::milliseconds(100)));
}
