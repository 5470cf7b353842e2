#pragma once
/// @file
/// Access control of Unix domain socket listeners and the identity of UDS peers (spec §4.1).
///
/// - A WelcomeRequest for a `uds|PATH` listener may carry `~listen_mode: 0660` (octal permission
///   bits of the socket file); without it the file gets kDefaultUdsListenMode (0600: only the
///   listening process's user may connect). Linux applies it between bind() and listen(); Windows
///   leaves the file with the ACL inherited from its directory.
/// - A HelloRequest the engine delivers from an accepted UDS connection carries `~peer_uid`,
///   `~peer_gid`, `~peer_pid` (decimal, what the OS says about the connecting process, as of its
///   connect; Windows: the pid where the host offers it). The engine removes these names from
///   every received HelloRequest first, so a peer can never supply them itself.
#include "tofu/export.hpp"
#include <cstdint>
#include <optional>
#include <string_view>

namespace tofu {

/// Text header of a WelcomeRequest for a UDS listener: the socket file's permission bits, octal.
inline constexpr std::string_view kListenModeHeader = "~listen_mode";
/// Text headers the engine puts on a HelloRequest from an accepted UDS connection.
inline constexpr std::string_view kPeerUidHeader = "~peer_uid";
inline constexpr std::string_view kPeerGidHeader = "~peer_gid";  ///< see kPeerUidHeader
inline constexpr std::string_view kPeerPidHeader = "~peer_pid";  ///< see kPeerUidHeader
/// The socket file mode of a UDS listener without `~listen_mode`: owner read/write only.
inline constexpr std::uint32_t kDefaultUdsListenMode = 0600;

/// Parses a `~listen_mode` value: 1 to 4 octal digits (e.g. "0660" or "660"), at most 0777 (no
/// setuid, setgid or sticky bits). nullopt for anything else.
TOFU_API std::optional<std::uint32_t> parse_listen_mode(std::string_view text) noexcept;

}  // namespace tofu
