#include "win_sockets.hpp"

#include <catch2/catch.hpp>

namespace tofu::test::win {

UniqueSocket listen_loopback(unsigned short* port_out) {
  REQUIRE(tofu::platform::win::ensure_winsock().ok());
  UniqueSocket s(::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP));
  REQUIRE(s.valid());
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(s.get(), SOMAXCONN) == 0);
  int len = sizeof a;
  REQUIRE(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
  *port_out = ntohs(a.sin_port);
  return s;
}

UniqueSocket connect_loopback(unsigned short port) {
  UniqueSocket c(::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP));
  REQUIRE(c.valid());
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  REQUIRE(::connect(c.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return c;
}

}  // namespace tofu::test::win
