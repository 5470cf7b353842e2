// Socket I/O of the reactor: accept, connect completion, receive (decode + backpressure) and
// gathered sends. Every outcome a peer can cause ends as a status, never as a crash.

#include <algorithm>
#include <chrono>
#include <new>

#include "engine/engine_impl.hpp"
#include "engine/peer_headers.hpp"

namespace tofu {

using detail::Channel;
using detail::ChannelKind;

namespace {
// Upper bounds per readiness event, so one busy channel cannot starve the others.
constexpr int kMaxAcceptsPerEvent = 64;
constexpr int kMaxReadsPerEvent = 16;
constexpr std::size_t kMaxReadBytesPerEvent = 1024 * 1024;
// Reads of frames this large or larger may be larger too (read_span, D-98).
constexpr std::size_t kLargeFrame = 16 * 1024;
constexpr int kMaxWritesPerEvent = 16;
// How long a listener whose accept() failed (out of descriptors) stops accepting.
constexpr std::chrono::milliseconds kAcceptBackoff{100};

Status io_failure(const platform::SysError& e, Status otherwise) {
  return platform::is_connection_reset(e) ? Status::peer_disconnected : otherwise;
}
}  // namespace

void EngineImpl::on_accept(Channel& listener) {
  for (int i = 0; i < kMaxAcceptsPerEvent; ++i) {
    platform::NativeSocket s = platform::kInvalidSocket;
    const platform::IoResult r = platform::accept_one(listener.sock, &s);
    if (r.state == platform::IoState::would_block) return;
    if (r.state == platform::IoState::failed) {
      // EMFILE and friends: the listener stays; the connection waits in the backlog. The listener
      // stays readable, so it rests briefly instead of making every loop iteration fail (D-36).
      log_.unexpected(detail::LogLevel::warn, r.error, "listener ", listener.number, ": ");
      listener.accept_resume = now_ + kAcceptBackoff;
      schedule(listener);
      mark_dirty(listener);
      return;
    }
    detail::ChannelRef shared;
    // The application answers the peer's HelloRequest first (awaiting_hello_response).
    const ChannelNumber n = registry_.allocate(listener.group->id, &shared, 0, 0, true);
    if (n == 0) {
      log_.warn("listener ", listener.number, ": no free channel number, connection refused");
      platform::close_socket(s);
      continue;
    }
    Channel* ch = add_channel(n, ChannelKind::connected, s, listener.group, shared);
    if (ch->closing) continue;
    // UDS: who connected, told to the app on its HelloRequest (D-72). TCP accepts skip the syscalls.
    if (!listener.uds_path.empty()) ch->peer = platform::uds_peer_credentials(s);
    ch->stage = detail::PeerStage::hello_request;
    if (handshake_timeout_.count() > 0) {
      ch->handshake_deadline = now_ + handshake_timeout_;
      schedule(*ch);
    }
    mark_dirty(*ch);
  }
}

void EngineImpl::on_connect(Channel& ch, const platform::Readiness& r) {
  if (!r.writable && !r.error && !r.hangup) return;
  if (auto st = platform::connect_result(ch.sock); !st.ok()) {
    Status reason = Status::connect_failed;
    if (platform::is_connection_refused(st.error())) reason = Status::peer_disconnected;
    if (platform::is_path_not_found(st.error())) reason = Status::uds_path_not_found;
    log_.info("connect on channel ", ch.number, ": ", st.error().message());
    close_channel(ch, reason);  // the HelloRequest comes back with the reason
    return;
  }
  ch.kind = ChannelKind::connected;
  on_writable(ch);
}

void EngineImpl::on_readable(Channel& ch) {
  if (ch.holds_frames()) {
    // Frames read before the pool ran dry: deliver them before reading more.
    std::vector<std::byte> stash = std::move(ch.stash);
    ch.stash.clear();
    if (!decode_buffered(ch, stash)) return;
  }
  const std::span<std::byte> into = read_span(ch);
  std::size_t got = 0;
  for (int i = 0; i < kMaxReadsPerEvent && got < kMaxReadBytesPerEvent; ++i) {
    const platform::IoResult r = platform::recv_some(ch.sock, into);
    switch (r.state) {
      case platform::IoState::done:
        got += r.bytes;
        if (!decode_buffered(ch, std::span<const std::byte>(into.data(), r.bytes))) return;
        if (r.bytes < into.size()) {  // drained for now; level polling brings us back
          track_frame_deadline(ch);
          return;
        }
        break;
      case platform::IoState::would_block:
      case platform::IoState::in_progress:
        track_frame_deadline(ch);
        return;
      case platform::IoState::closed:
        // EOF. Mid-frame means the peer died mid-message; either way it is gone.
        lose_peer(ch, Status::peer_disconnected);
        return;
      case platform::IoState::failed:
        log_.info("channel ", ch.number, ": ", r.error.message());
        lose_peer(ch, io_failure(r.error, Status::recv_failed));
        return;
    }
  }
  track_frame_deadline(ch);
}

// Where the next reads go. 64 KiB, unless the channel's frames are large and it cannot pause with
// the rest of the read kept (no channel waits for the pool, its receiver is less than half its cap
// behind): then 1 MiB, the most one event reads anyway, so that a stream of large frames costs one
// receive call per event instead of sixteen (each one three wineserver round trips under Wine) and
// most frames are whole in one read instead of assembled (D-98, D-102). The buffer grows to 1 MiB
// the first time an engine sees large frames. A paused channel thus keeps at most 64 KiB of unread
// input, or 1 MiB when it paused during a large read (spec 9.3).
std::span<std::byte> EngineImpl::read_span(const Channel& ch) {
  const bool large = ch.large_frames && paused_.empty() && (!count_untaken_ || ch.untaken < resume_untaken_);
  if (!large) return {read_buffer_.data(), kReadSize};
  if (read_buffer_.size() < kLargeReadSize) {
    try {
      read_buffer_.resize(kLargeReadSize);
    } catch (const std::bad_alloc&) {
      return {read_buffer_.data(), kReadSize};  // smaller reads work as well, only slower
    }
  }
  return {read_buffer_.data(), kLargeReadSize};
}

// A frame that started and is not complete must complete within frame_timeout of the moment it
// was first seen incomplete (D-33). A new frame (frames_in moved on) restarts the clock.
void EngineImpl::track_frame_deadline(Channel& ch) {
  if (frame_timeout_.count() <= 0) return;
  if (!ch.decoder.mid_frame()) {
    ch.frame_deadline = {};  // an entry still queued is found stale when it comes due
    return;
  }
  if (ch.frame_deadline != detail::Clock::time_point{} && ch.frame_armed_at == ch.frames_in) return;
  ch.frame_deadline = now_ + frame_timeout_;
  ch.frame_armed_at = ch.frames_in;
  schedule(ch);
}

// Decodes `bytes` into frames (spec 9.3). A frame whose bytes are all in hand is decoded straight
// into a pool message; one that is not is assembled in the channel's own `partial` message and
// moved into a pool message once complete, so an incomplete frame never holds a pool message.
// Returns false when the channel stopped reading: closed (protocol error or violation), or paused
// because the pool is empty (the rest is stashed).
bool EngineImpl::decode_buffered(Channel& ch, std::span<const std::byte> bytes) {
  const bool reading = decode_frames(ch, bytes);
  if (!spare_.empty()) pool_->recycle_all(spare_);  // fetched for frames a close or pause left unread
  return reading;
}

// A pool message for the frame whose header was just read, all of which is in `rest`: taken from
// the messages fetched for this read, which are fetched once for every whole frame in it (one pool
// lock per read rather than one per frame, D-82).
MessagePtr EngineImpl::message_for_frame(const Channel& ch, std::span<const std::byte> rest) {
  if (spare_.empty()) {
    constexpr std::size_t kMost = 256;
    std::size_t n = 1;
    std::size_t off = ch.decoder.frame_remaining();
    while (n < kMost && off + kBinaryHeaderSize <= rest.size()) {
      const std::byte* h = rest.data() + off;
      const std::size_t thl = std::to_integer<std::size_t>(h[12]) << 8 | std::to_integer<std::size_t>(h[13]);
      const std::size_t bl = std::to_integer<std::size_t>(h[14]) << 8 | std::to_integer<std::size_t>(h[15]);
      off += kBinaryHeaderSize + thl + bl;
      if (off > rest.size()) break;
      ++n;
    }
    if (n == 1) return pool_->get();  // a lone frame (request/response traffic): the plain path
    pool_->get_many(n, spare_);
    if (spare_.empty()) return {};
    std::reverse(spare_.begin(), spare_.end());  // taken from the back: the pool's order
  }
  MessagePtr m = std::move(spare_.back());
  spare_.pop_back();
  return m;
}

bool EngineImpl::decode_frames(Channel& ch, std::span<const std::byte> bytes) {
  for (;;) {
    if (ch.partial_complete) {
      MessagePtr m = pool_->get();
      if (!m) return stash_and_pause(ch, bytes);
      ch.pool_signal_sent = false;
      *m = std::move(*ch.partial);
      ch.partial.reset();
      ch.partial_complete = false;
      if (!deliver_frame(ch, std::move(m))) return false;
      if (receiver_behind(ch)) return pause_for_receiver(ch, bytes);
      continue;
    }
    if (ch.decoder.in_header()) {
      if (bytes.empty()) return true;
      const DecodeStep h = ch.decoder.feed_header(bytes);
      bytes = bytes.subspan(h.consumed);
      if (h.state == DecodeState::error) {
        log_.info("channel ", ch.number, ": protocol error from peer: ", to_string(h.error));
        close_channel(ch, h.error);
        return false;
      }
      if (h.state == DecodeState::need_more) return true;  // a partial header costs 16 bytes, no more
      if (const Status v = admit_frame(ch, ch.decoder.current_header()); !ok(v)) {
        close_channel(ch, v);
        return false;
      }
    }
    Message* target = ch.partial.get();
    MessagePtr whole;
    if (ch.decoder.awaiting_target()) {
      if (bytes.size() >= ch.decoder.frame_remaining()) {
        whole = message_for_frame(ch, bytes);
        if (!whole) return stash_and_pause(ch, bytes);
        ch.pool_signal_sent = false;
        target = whole.get();
      } else {
        if (!ch.partial) ch.partial = std::make_unique<Message>();
        target = ch.partial.get();
      }
    }
    if (target == nullptr) {  // mid-frame without an assembly message: cannot happen
      log_.error("channel ", ch.number, ": decoder mid-frame without a target");
      close_channel(ch, Status::processing_failed);
      return false;
    }
    const DecodeStep step = ch.decoder.feed(bytes, *target);
    bytes = bytes.subspan(step.consumed);
    if (step.state == DecodeState::error) {
      log_.info("channel ", ch.number, ": protocol error from peer: ", to_string(step.error));
      close_channel(ch, step.error);
      return false;
    }
    if (step.state == DecodeState::need_more) {
      if (!whole) return true;  // everything consumed into `partial`
      log_.error("channel ", ch.number, ": a frame held whole did not complete");  // cannot happen
      close_channel(ch, Status::processing_failed);
      return false;
    }
    if (whole) {
      if (!deliver_frame(ch, std::move(whole))) return false;
      if (receiver_behind(ch)) return pause_for_receiver(ch, bytes);
    } else {
      ch.partial_complete = true;  // delivered at the top of the loop, with a pool message
    }
  }
}

bool EngineImpl::stash_and_pause(Channel& ch, std::span<const std::byte> rest) {
  ch.stash.assign(rest.begin(), rest.end());
  pause_reading(ch);
  return false;
}

// Which frames the peer may send in the channel's state (spec 9.4, D-34); checked as soon as a
// frame's binary header is in, before anything is spent on the frame.
Status EngineImpl::admit_frame(Channel& ch, const BinaryHeader& h) {
  ch.large_frames = std::size_t{h.text_headers_len} + h.body_len >= kLargeFrame;
  const OpCode op = h.opcode;
  const char* what = nullptr;
  switch (ch.stage) {
    case detail::PeerStage::hello_request:
      if (op == OpCode::hello_request) {
        ch.stage = detail::PeerStage::open;
        return Status::success;
      }
      what = "a frame before its HelloRequest";
      break;
    case detail::PeerStage::hello_response:
      if (op == OpCode::hello_response) {
        ch.stage = detail::PeerStage::open;
        return Status::success;
      }
      what = "a frame before the HelloResponse";
      break;
    case detail::PeerStage::open:
      if (op != OpCode::hello_request && op != OpCode::hello_response && op != OpCode::welcome_request &&
          op != OpCode::welcome_response) {
        return Status::success;
      }
      what = "a handshake frame on an open channel";
      break;
  }
  log_.info("channel ", ch.number, ": protocol violation: peer sent ", what, " (", to_string(op), ")");
  return Status::protocol_violation;
}

// Returns false when delivering closed the channel (a ByeResponse ends it).
bool EngineImpl::deliver_frame(Channel& ch, MessagePtr m) {
  // The peer's channel number is informational; the application sees its own.
  m->header.channel_number = ch.number;
  if (ch.first_id == 0) ch.first_id = m->header.message_id;
  const OpCode op = m->header.opcode;
  ++ch.frames_in;
  ch.read_since_write = true;
  if (op == OpCode::hello_request) ch.handshake_deadline = {};
  if (op == OpCode::hello_request && !detail::stamp_peer_headers(m->text_headers, ch.peer)) {
    close_channel(ch, Status::invalid_headers_len);  // no room to say who the peer is (D-72)
    return false;
  }
  if (count_untaken_) {
    ch.group->outbox_frames.push_back({ch.group->outbox.size(), ch.key});
    ++ch.untaken;
  }
  deliver(*ch.group, std::move(m));
  // A ByeResponse ends the conversation: the peer has sent its last frame.
  if (op == OpCode::bye_response) {
    close_channel(ch, ch.draining ? ch.drain_reason : Status::channel_closed);
    return false;
  }
  return true;
}

void EngineImpl::on_writable(Channel& ch) {
  std::array<ConstBuffer, detail::SendBatch::kFrameParts> parts;  // one frame's parts
  detail::SendBatch& batch = send_batch_;
  std::size_t written = 0;  // messages fully written: their slots are released once, at the end
  std::uint32_t written_units = 0;
  const auto finish = [&] { release_slots(ch, written, written_units); };
  for (int round = 0; round < kMaxWritesPerEvent && !ch.send_queue.empty() && !ch.bye_sent; ++round) {
    // Gather as many frames as the iovec budget holds into one send (a small frame takes two
    // entries, header and body); a frame after a Bye frame is never sent.
    std::size_t frames = 0;
    batch.clear();
    const std::size_t queued = ch.send_queue.size();
    for (; frames < encoders_.size() && frames < queued && batch.has_room(); ++frames) {
      FrameEncoder& enc = encoders_[frames];
      const Message& msg = *ch.send_queue[frames];
      enc.start(msg);
      if (frames == 0) enc.advance(ch.front_sent);
      const std::size_t k = enc.buffers(parts);
      for (std::size_t j = 0; j < k; ++j) batch.add(platform::ConstBuffer{parts[j].data, parts[j].size});
      const OpCode op = msg.header.opcode;
      if (op == OpCode::bye_request || op == OpCode::bye_response || op == OpCode::bye_signal) {
        ++frames;
        break;
      }
    }
    const platform::IoResult r = platform::send_some(ch.sock, batch.buffers());
    if (r.state == platform::IoState::would_block) {
      ch.block_writes(true);
      return finish();
    }
    if (r.state == platform::IoState::failed) {
      finish();
      log_.info("channel ", ch.number, ": ", r.error.message());
      lose_peer(ch, io_failure(r.error, Status::send_failed));
      return;
    }
    if (r.bytes > 0) {
      ch.send_progress = now_;
      ch.last_write = now_;
      ch.read_since_write = false;
    }
    std::size_t left = r.bytes;
    for (std::size_t f = 0; f < frames; ++f) {
      FrameEncoder& enc = encoders_[f];
      const std::size_t take = std::min(left, enc.remaining());
      left -= take;
      if (!enc.advance(take)) {
        ch.front_sent = (f == 0 ? ch.front_sent : 0) + take;  // earlier frames were popped
        ch.block_writes(true);  // the socket took less than offered: wait for writable
        return finish();
      }
      // Fully written: the message goes back to the pool (the app never sees it again), with the
      // others written in this iteration (recycle_written).
      MessagePtr done = std::move(ch.send_queue.front());
      ch.send_queue.pop_front();
      ch.front_sent = 0;
      ++written;
      written_units += detail::ChannelShared::units_for(*done);
      const OpCode op = done->header.opcode;
      written_.push_back(std::move(done));
      if (op == OpCode::bye_request || op == OpCode::bye_response || op == OpCode::bye_signal) {
        ch.bye_sent = true;
        if (op == OpCode::bye_response) {
          finish();
          close_channel(ch, Status::channel_closed);  // we answered the peer's Bye: done
          return;
        }
      }
    }
  }
  finish();
}

}  // namespace tofu
