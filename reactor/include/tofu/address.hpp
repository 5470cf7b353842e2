#pragma once
/// @file
/// Peer addresses as the original writes them in the `~connect_to` (HelloRequest) and `~listen_on`
/// (WelcomeRequest) text headers: `tcp|<host>|<port>` or `uds|<path>`.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tofu/export.hpp"
#include "tofu/message.hpp"
#include "tofu/status.hpp"

namespace tofu {

/// Text header of a HelloRequest: the address to connect to.
inline constexpr std::string_view kConnectToHeader = "~connect_to";
/// Text header of a WelcomeRequest (and its response): the address to listen on / bound to.
inline constexpr std::string_view kListenOnHeader = "~listen_on";
/// Host of a default-constructed Address.
inline constexpr std::string_view kDefaultHost = "127.0.0.1";
/// Port of a default-constructed Address (the original tofu's default).
inline constexpr std::uint16_t kDefaultPort = 7099;
/// Longest host name accepted, in bytes.
inline constexpr std::size_t kMaxHostLen = 255;
/// Longest UDS path, in bytes, that fits sockaddr_un.sun_path with its terminating NUL
/// (sun_path is 108 bytes on Linux and Windows, 104 on macOS/BSD).
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
inline constexpr std::size_t kUdsPathMax = 103;
#else
inline constexpr std::size_t kUdsPathMax = 107;
#endif

/// The transport an Address names.
enum class Transport : std::uint8_t {
  tcp,  ///< TCP over IPv4 or IPv6
  uds   ///< a Unix domain (AF_UNIX stream) socket
};

/// Which side uses the address: a client connects (HelloRequest), a listener listens
/// (WelcomeRequest). Only a listener may leave the host empty (all interfaces) or use port 0
/// (the OS picks one).
enum class AddressRole : std::uint8_t {
  connect,  ///< the address of a HelloRequest (`~connect_to`)
  listen    ///< the address of a WelcomeRequest (`~listen_on`)
};

/// A parsed peer or listener address: TCP host and port, or a UDS path.
struct Address {
  Transport transport = Transport::tcp;  ///< tcp or uds
  std::string host{kDefaultHost};  ///< tcp: hostname, IPv4 or IPv6 literal (brackets optional)
  std::uint16_t port = kDefaultPort;  ///< tcp: port (0 = any, listeners only)
  std::string path;                ///< uds: file system path

  /// A TCP address (not validated; see is_valid()).
  static Address tcp(std::string_view host, std::uint16_t port) {
    Address a;
    a.host = std::string(host);
    a.port = port;
    return a;
  }
  /// A UDS address for `path` (not validated; see is_valid()).
  static Address uds(std::string_view path) {
    Address a;
    a.transport = Transport::uds;
    a.host.clear();
    a.port = 0;
    a.path = std::string(path);
    return a;
  }

  /// Field-wise equality.
  friend bool operator==(const Address&, const Address&) = default;
};

/// What parse_address() and address_of() return.
struct AddressResult {
  Status status = Status::success;  ///< success, or why there is no address
  Address address;                  ///< the address (meaningful on success only)
};

/// Whether `a` can be written as a header value for `role` and read back unchanged. TCP: host of
/// 1..255 characters from [A-Za-z0-9._:%-] (optionally one pair of enclosing brackets around an
/// IPv6 literal), empty only for listen; port != 0 unless listen. UDS: path of 1..kUdsPathMax bytes
/// without '|', NUL, CR, LF and without leading/trailing space or tab.
TOFU_API bool is_valid(const Address& a, AddressRole role) noexcept;

/// The header value: "tcp|<host>|<port>" (IPv6 without brackets) or "uds|<path>".
TOFU_API std::string to_string(const Address& a);

/// Parses a header value. Exactly 2 '|'-separated parts for uds, exactly 3 for tcp (a 4th part is
/// an error, not the original's out-of-bounds write); the transport name is case-sensitive; the
/// port is 1..5 decimal digits <= 65535. Failure: Status::invalid_address.
TOFU_API AddressResult parse_address(std::string_view value, AddressRole role);

/// The address a HelloRequest (first `~connect_to` header) or WelcomeRequest (first `~listen_on`
/// header) asks for. invalid_address for another opcode, a missing header or a bad value.
TOFU_API AddressResult address_of(const Message& m);

/// Turn m into a HelloRequest / WelcomeRequest for `a`, like the original's Address.format: the
/// binary header becomes make_header(op) (channel 0, message id 0), existing `~connect_to` and
/// `~listen_on` headers are replaced by the one for `a`, other text headers and the body stay.
/// wrong_address (m unchanged) if `a` is not valid for the role.
TOFU_API Status prepare_hello(Message& m, const Address& a);
/// As prepare_hello(), for a WelcomeRequest (`~listen_on`, listen rules).
TOFU_API Status prepare_welcome(Message& m, const Address& a);

}  // namespace tofu
