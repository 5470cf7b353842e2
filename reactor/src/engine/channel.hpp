#pragma once
// One channel as the reactor sees it: a listener, an outgoing (client) connection or an accepted
// (server) connection. Only the reactor thread touches a Channel.
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "engine/group_state.hpp"
#include "platform/common/readiness.hpp"
#include "platform/common/socket_ops.hpp"
#include "tofu/codec.hpp"
#include "tofu/pool.hpp"

namespace tofu::detail {

enum class ChannelKind : std::uint8_t { listener, connecting, connected };

struct Channel {
  ChannelNumber number = 0;
  std::uint64_t key = 0;  // poller key: number | generation << 16, so a stale event never matches
  ChannelKind kind = ChannelKind::connected;
  platform::NativeSocket sock = platform::kInvalidSocket;
  std::shared_ptr<GroupState> group;
  std::string uds_path;        // listener on a UDS path: removed when the listener closes
  MessageId first_id = 0;      // reported in the channel_closed Signal (the original's rule)
  MessagePtr close_signal;     // reserved at creation so closing never needs the app's pool

  // Interest as registered with the poller (kept to avoid redundant modify calls).
  platform::Interest registered{};
  bool in_poller = false;
  bool dirty = false;
  bool flush_queued = false;  // queued for the write after this command batch  // queued for an interest re-sync this iteration

  // Sending: messages in order; the front one may be partly written.
  std::deque<MessagePtr> send_queue;
  std::size_t front_sent = 0;  // bytes of send_queue.front() already on the wire
  bool bye_sent = false;       // a Bye frame went out: nothing more is sent
  bool close_when_flushed = false;

  // Receiving.
  FrameDecoder decoder;
  MessagePtr target;               // the message the decoder is filling (mid-frame only)
  std::vector<std::byte> stash;    // bytes read but not yet decoded (pool was empty)
  bool read_paused = false;        // pool empty: not reading until a message is returned
  bool pool_signal_sent = false;   // one pool_empty Signal per pause

  bool closing = false;
  Status close_reason = Status::success;

  [[nodiscard]] platform::Interest wanted() const noexcept {
    if (closing) return {};
    switch (kind) {
      case ChannelKind::listener: return platform::Interest{true, false};
      case ChannelKind::connecting: return platform::Interest{false, true};
      case ChannelKind::connected:
        return platform::Interest{!read_paused, !send_queue.empty() && !bye_sent};
    }
    return {};
  }
};

}  // namespace tofu::detail
