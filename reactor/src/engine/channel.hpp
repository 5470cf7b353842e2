#pragma once
// One channel as the reactor sees it: a listener, an outgoing (client) connection or an accepted
// (server) connection. Only the reactor thread touches a Channel.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/channel_registry.hpp"
#include "engine/deadline_queue.hpp"
#include "engine/group_state.hpp"
#include "engine/send_queue.hpp"
#include "platform/common/readiness.hpp"
#include "platform/common/socket_ops.hpp"
#include "platform/common/uds_access.hpp"
#include "tofu/codec.hpp"
#include "tofu/pool.hpp"

namespace tofu::detail {

enum class ChannelKind : std::uint8_t { listener, connecting, connected };

// Why a channel is not being read: the pool is empty (spec 5.2), or its group's receiver has
// max_untaken_per_channel of its frames to take (spec 9.3a, D-95).
enum class Pause : std::uint8_t { none, pool, receiver };

// Where a connection is in the handshake, as far as what the PEER may send next (spec 9.4).
enum class PeerStage : std::uint8_t {
  hello_request,   // accepted: the peer's first frame must be its HelloRequest
  hello_response,  // client: the peer's first frame must be the HelloResponse
  open,            // handshake frames seen: no Hello or Welcome frame may follow
};

struct Channel {
  ChannelNumber number = 0;
  std::uint64_t key = 0;  // poller key: number | generation << 16, so a stale event never matches
  ChannelKind kind = ChannelKind::connected;
  PeerStage stage = PeerStage::open;
  platform::NativeSocket sock = platform::kInvalidSocket;
  std::shared_ptr<GroupState> group;
  ChannelRef shared;           // what post() sees: the queued count (D-28)
  std::string uds_path;        // listener on a UDS path: removed when the listener closes
  MessageId first_id = 0;      // reported in the channel_closed Signal (the original's rule)
  MessagePtr close_signal;     // reserved at creation so closing never needs the app's pool
  std::optional<platform::PeerCredentials> peer;  // accepted UDS connection: who connected (D-72)

  // Interest as registered with the poller (kept to avoid redundant modify calls).
  platform::Interest registered{};
  bool in_poller = false;
  bool dirty = false;          // queued for an interest re-sync this iteration
  bool flush_queued = false;   // queued for the write after this command batch

  // Sending: messages in order; the front one may be partly written.
  SendQueue send_queue;
  std::size_t front_sent = 0;  // bytes of send_queue.front() already on the wire
  bool bye_sent = false;       // a Bye frame went out: nothing more is sent
  // The socket refused the last send, in full or in part: no more tries until the poller reports
  // it writable, and posts to the channel need not wake the loop (D-98). Change it with
  // block_writes(), which tells post() too.
  bool write_blocked = false;
  Clock::time_point send_progress{};  // last time bytes went out, or the queue became non-empty
  // Whether a post written at once completes an exchange (D-84): a frame came in since the last
  // write, or the channel has been quiet.
  Clock::time_point last_write{};
  bool read_since_write = true;

  // Receiving (spec 9.3): a frame goes into a pool message only when it is whole in hand; one that
  // arrives in pieces is assembled in `partial` (the channel's own memory, not the pool).
  FrameDecoder decoder;
  std::unique_ptr<Message> partial;  // frame being assembled, or whole and waiting for a pool message
  bool partial_complete = false;
  std::vector<std::byte> stash;    // bytes read but not yet decoded (pool was empty)
  Pause pause = Pause::none;       // not reading for now, and why
  bool large_frames = false;        // the last frame header announced >= 16 KiB (read_span)
  std::uint32_t untaken = 0;       // frames delivered that the group's receiver has not taken
  bool pool_signal_sent = false;   // one pool_empty Signal per episode (until a frame gets a message)
  bool resume_starved = false;     // resumed, got no message, paused again: served first next time
  std::uint64_t frames_in = 0;     // frames delivered; tells a new partial frame from an old one
  std::uint64_t frame_armed_at = 0;  // frames_in when frame_deadline was set

  // Timers (spec 9.5). A zero time point means "not set".
  Clock::time_point handshake_deadline{};
  Clock::time_point frame_deadline{};
  Clock::time_point accept_resume{};  // listener resting after a failed accept() (D-36)
  Clock::time_point timer_at{};    // when this channel's earliest DeadlineQueue entry comes due

  // The peer left while reading was paused: the socket is gone, the frames already read are
  // delivered as pool messages come back, then the channel closes with drain_reason (D-32).
  bool draining = false;
  Status drain_reason = Status::success;

  bool closing = false;
  Status close_reason = Status::success;

  // Bytes read from the peer that wait for a pool message: stashed bytes, an assembled frame, or a
  // frame whose header was read and whose rest is in the stash (possibly empty: a header-only frame).
  [[nodiscard]] bool holds_frames() const noexcept {
    return !stash.empty() || partial_complete || decoder.awaiting_target();
  }

  [[nodiscard]] bool read_paused() const noexcept { return pause != Pause::none; }
  void block_writes(bool blocked) noexcept {
    if (write_blocked == blocked) return;
    write_blocked = blocked;
    shared.set_write_blocked(blocked);
  }

  [[nodiscard]] platform::Interest wanted() const noexcept {
    if (closing || draining) return {};
    switch (kind) {
      case ChannelKind::listener: return platform::Interest{accept_resume == Clock::time_point{}, false};
      case ChannelKind::connecting: return platform::Interest{false, true};
      case ChannelKind::connected:
        return platform::Interest{!read_paused(), !send_queue.empty() && !bye_sent};
    }
    return {};
  }
};

}  // namespace tofu::detail
