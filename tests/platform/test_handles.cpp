#include <catch2/catch.hpp>

#include <algorithm>

#include "platform/windows/handles.hpp"
#include "platform/windows/iocp.hpp"

using namespace tofu::platform::win;

namespace {
std::string type_in_list(HANDLE h) {
  const auto list = probe_handles();
  const auto it = std::find_if(list.begin(), list.end(),
                               [h](const auto& e) { return e.first == reinterpret_cast<std::uintptr_t>(h); });
  return it == list.end() ? std::string() : it->second;
}
}  // namespace

// The leak checks of the stages and the parity suite rest on this list (row 14 of
// ../shared/reviews/afd-backend-vs-wepoll-mio.md: listed on Windows 8+, probed under Wine).
TEST_CASE("the handle list shows a handle while it is open, with its type", "[platform][handles]") {
  auto port = IoCompletionPort::create();
  REQUIRE(port.ok());
  CHECK(type_in_list(port->handle()) == "IoCompletion");
  HANDLE event = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  REQUIRE(event != nullptr);
  CHECK(type_in_list(event) == "Event");
  CloseHandle(event);
  CHECK(type_in_list(event).empty());
}
