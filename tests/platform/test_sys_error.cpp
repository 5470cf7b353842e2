#include <catch2/catch.hpp>

#include <cerrno>

#include "platform/common/host_info.hpp"
#include "platform/common/result.hpp"

using namespace tofu::platform;

TEST_CASE("SysError message names the operation, the meaning and the raw code", "[platform]") {
  const SysError e = posix_error(ECONNREFUSED, "connect");
  const std::string m = e.message();
  CHECK(m.rfind("connect: ", 0) == 0);
  CHECK(m.find("(errno " + std::to_string(ECONNREFUSED) + ")") != std::string::npos);
  CHECK(m.find(describe(ErrorSource::posix, ECONNREFUSED)) != std::string::npos);
}

TEST_CASE("Result carries either a value or the error, never both", "[platform]") {
  Result<int> good = 42;
  REQUIRE(good.ok());
  CHECK(good.value() == 42);
  Result<int> bad = internal_error("nope");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().source == ErrorSource::internal);
  CHECK(bad.error().context == "nope");
  SysStatus fine;
  CHECK(fine.ok());
  SysStatus failed = posix_error(EBADF, "close");
  CHECK_FALSE(failed.ok());
  CHECK(failed.error().code == EBADF);
}

TEST_CASE("host description names the operating system", "[platform]") {
  const std::string os = os_description();
#ifdef _WIN32
  CHECK(os.rfind("Windows", 0) == 0);
#else
  CHECK(os.rfind("Linux", 0) == 0);
  CHECK(wine_version().empty());
#endif
}
