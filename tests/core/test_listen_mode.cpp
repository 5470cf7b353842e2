// parse_listen_mode: the `~listen_mode` value of a UDS WelcomeRequest (spec 4.1, D-70).
#include <catch2/catch.hpp>

#include "tofu/uds_access.hpp"

TEST_CASE("listen mode: 1 to 4 octal digits up to 0777 are accepted", "[core]") {
  CHECK(tofu::parse_listen_mode("0600") == 0600u);
  CHECK(tofu::parse_listen_mode("660") == 0660u);
  CHECK(tofu::parse_listen_mode("0777") == 0777u);
  CHECK(tofu::parse_listen_mode("7") == 07u);
  CHECK(tofu::parse_listen_mode("0") == 0u);
  CHECK(tofu::kDefaultUdsListenMode == 0600u);
}

TEST_CASE("listen mode: anything else is refused", "[core]") {
  for (const char* bad : {"", "8", "0800", "1777", "04755", "07777", "00600", "0x1ff", "rw-------", " 600", "600 ",
                          "-600", "+600"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(tofu::parse_listen_mode(bad).has_value());
  }
}
