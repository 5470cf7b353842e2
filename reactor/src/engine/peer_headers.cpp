#include "engine/peer_headers.hpp"

#include <string>

#include "tofu/status.hpp"
#include "tofu/uds_access.hpp"

namespace tofu::detail {

bool stamp_peer_headers(TextHeaders& headers, const std::optional<platform::PeerCredentials>& peer) {
  // Names starting with '~' are the engine's: a peer must not be able to claim an identity.
  for (std::string_view name : {kPeerUidHeader, kPeerGidHeader, kPeerPidHeader}) headers.remove(name);
  if (!peer) return true;
  const auto add = [&](std::string_view name, const auto& value) {
    return !value || ok(headers.add(name, std::to_string(*value)));
  };
  return add(kPeerUidHeader, peer->uid) && add(kPeerGidHeader, peer->gid) && add(kPeerPidHeader, peer->pid);
}

}  // namespace tofu::detail
