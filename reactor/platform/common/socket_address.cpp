// The parts of socket_ops.hpp that are the same BSD-socket code on every OS: name resolution and
// printing an address in tofu's syntax. Only the headers differ.
#include <cstring>

#include "platform/common/socket_ops.hpp"

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#include <afunix.h>

#include "platform/windows/winsock.hpp"
#else
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#endif

namespace tofu::platform {

Result<std::vector<SocketAddress>> resolve_tcp(std::string_view host, std::uint16_t port, bool passive) {
#ifdef _WIN32
  if (auto st = win::ensure_winsock(); !st.ok()) return std::move(st).error();  // getaddrinfo needs it
#endif
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  const std::string h(host);
  const std::string p = std::to_string(port);
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(h.empty() ? nullptr : h.c_str(), p.c_str(), &hints, &res);
  if (rc != 0) return SysError{ErrorSource::internal, rc, "getaddrinfo(" + h + "): " + ::gai_strerror(rc)};
  std::vector<SocketAddress> out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(SocketAddress::storage)) continue;
    SocketAddress a;
    a.kind = AddressKind::tcp;
    a.length = static_cast<std::uint32_t>(ai->ai_addrlen);
    std::memcpy(a.storage.data(), ai->ai_addr, ai->ai_addrlen);
    out.push_back(a);
  }
  ::freeaddrinfo(res);
  if (out.empty()) return internal_error("getaddrinfo(" + h + "): no usable address");
  return out;
}

std::string to_tofu_address(const SocketAddress& a) {
  const auto* s = reinterpret_cast<const sockaddr*>(a.storage.data());
  char text[INET6_ADDRSTRLEN] = {};
  if (s->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(s);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return std::string("tcp|") + text + "|" + std::to_string(ntohs(in->sin_port));
  }
  if (s->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(s);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    return std::string("tcp|") + text + "|" + std::to_string(ntohs(in6->sin6_port));
  }
  if (s->sa_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(s);
    return std::string("uds|") + std::string(un->sun_path, ::strnlen(un->sun_path, sizeof un->sun_path));
  }
  return "unknown";
}

}  // namespace tofu::platform
