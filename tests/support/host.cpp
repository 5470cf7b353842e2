#include "support/host.hpp"

#include <atomic>
#include <cstdio>
#include <string>

#ifdef _WIN32
#include <winsock2.h>
#include <windows.h>
#include <afunix.h>
#else
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace tofu::test {

std::optional<std::string> uds_unsupported_reason() {
#ifdef _WIN32
  WSADATA wsa;
  WSAStartup(MAKEWORD(2, 2), &wsa);
  SOCKET s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (s == INVALID_SOCKET) {
    const int err = WSAGetLastError();
    std::string reason = "AF_UNIX is unsupported on this host: socket(AF_UNIX) failed with WSA error " +
                         std::to_string(err);
    if (const std::string wine = wine_version(); !wine.empty()) reason += " (" + wine + ")";
    return reason;
  }
  ::closesocket(s);
  return std::nullopt;
#else
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return std::string("AF_UNIX is unsupported on this host: socket(AF_UNIX) failed");
  ::close(fd);
  return std::nullopt;
#endif
}

std::string wine_version() {
#ifdef _WIN32
  using Fn = const char*(__cdecl*)();
  HMODULE ntdll = GetModuleHandleA("ntdll.dll");
  if (ntdll == nullptr) return {};
  auto fn = reinterpret_cast<Fn>(reinterpret_cast<void*>(GetProcAddress(ntdll, "wine_get_version")));
  return fn != nullptr ? std::string("Wine ") + fn() : std::string();
#else
  return {};
#endif
}

std::string temp_uds_path(const std::string& tag) {
  static std::atomic<unsigned> counter{0};
#ifdef _WIN32
  char dir[MAX_PATH + 1] = {};
  GetTempPathA(MAX_PATH, dir);
  const unsigned long pid = GetCurrentProcessId();
#else
  const char* dir = "/tmp/";
  const unsigned long pid = static_cast<unsigned long>(::getpid());
#endif
  return std::string(dir) + "tofu-" + tag + "-" + std::to_string(pid) + "-" + std::to_string(counter++) + ".sock";
}

}  // namespace tofu::test
