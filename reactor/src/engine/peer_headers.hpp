#pragma once
// The `~peer_*` text headers of a HelloRequest from an accepted UDS connection (D-72).
#include <optional>

#include "platform/common/uds_access.hpp"
#include "tofu/message.hpp"

namespace tofu::detail {

// Removes every `~peer_uid`/`~peer_gid`/`~peer_pid` line the peer wrote itself, then adds what the
// OS said about it (nothing for a TCP connection). False when the headers have no room left
// (65535 bytes): the caller must not deliver the message as if the peer were unknown.
bool stamp_peer_headers(TextHeaders& headers, const std::optional<platform::PeerCredentials>& peer);

}  // namespace tofu::detail
