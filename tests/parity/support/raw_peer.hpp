#pragma once
// A raw-socket client that speaks to an engine listener from the wire description only.
#include <cstdint>
#include <string>
#include <vector>

#include "raw_socket.hpp"
#include "harness.hpp"
#include "tofu/engine.hpp"

namespace tofu::parity {

struct RawClient {
  RawSocket socket;
  ChannelNumber server_channel = 0;  // the accepted channel as the server application sees it
};

// "~connect_to:tcp|127.0.0.1|<port>\r\n": the text headers of a hand-built HelloRequest.
std::string connect_to_headers(std::uint16_t port);

// Connects a raw socket to 127.0.0.1:port, sends a hand-built HelloRequest (channel 1, `id`), lets
// the server application (this thread) receive it and answer with a HelloResponse, and reads that
// frame on the raw side, so nothing is left unread. REQUIREs every step.
RawClient raw_hello(ChannelGroup& server, std::uint16_t port, std::uint64_t id = 0x5151);

}  // namespace tofu::parity

namespace tofu::parity {

// An engine client connected to a raw server that answers the HelloResponse and then never reads
// again (small receive buffer): what the client posts next piles up in its send queue.
struct StalledPeer {
  RawSocket listener;
  RawSocket connection;
  Link link;
};
StalledPeer connect_to_stalled_peer(Engine& engine, ChannelGroup& client);

// Posts n Requests of 65535 bytes on `channel` (far more than the socket buffers hold when the
// peer does not read); returns their message ids in order. The engine's pool must allow n + a few.
std::vector<MessageId> post_large_requests(Engine& engine, ChannelGroup& client, ChannelNumber channel,
                                           std::size_t n);

// Reads what reached the stalled peer until the engine closes the connection, parses every whole
// frame, and CHECKs that they are the first of the post_large_requests() `ids`, in order, each a
// Request with its 65535-byte body intact. Returns how many whole frames arrived.
std::size_t check_large_requests_delivered(StalledPeer& peer, const std::vector<MessageId>& ids);

}  // namespace tofu::parity
