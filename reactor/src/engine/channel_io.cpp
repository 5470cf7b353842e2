// Socket I/O of the reactor: accept, connect completion, receive (decode + backpressure) and
// gathered sends. Every outcome a peer can cause ends as a status, never as a crash.

#include <algorithm>

#include "engine/engine_impl.hpp"

namespace tofu {

using detail::Channel;
using detail::ChannelKind;

namespace {
// Upper bounds per readiness event, so one busy channel cannot starve the others.
constexpr int kMaxAcceptsPerEvent = 64;
constexpr int kMaxReadsPerEvent = 16;
constexpr int kMaxWritesPerEvent = 16;

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
      // EMFILE and friends: the listener stays; the connection waits in the backlog.
      log_.warn("listener ", listener.number, ": ", r.error.message());
      return;
    }
    const ChannelNumber n = registry_.allocate(listener.group->id);
    if (n == 0) {
      log_.warn("listener ", listener.number, ": no free channel number, connection refused");
      platform::close_socket(s);
      continue;
    }
    Channel* ch = add_channel(n, ChannelKind::connected, s, listener.group);
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
  if (!ch.stash.empty()) {
    // Bytes read before the pool ran dry: decode them before reading more.
    std::vector<std::byte> stash = std::move(ch.stash);
    ch.stash.clear();
    if (!decode_buffered(ch, stash)) return;
  }
  for (int i = 0; i < kMaxReadsPerEvent; ++i) {
    const platform::IoResult r = platform::recv_some(ch.sock, read_buffer_);
    switch (r.state) {
      case platform::IoState::done:
        if (!decode_buffered(ch, std::span<const std::byte>(read_buffer_.data(), r.bytes))) return;
        if (r.bytes < read_buffer_.size()) return;  // drained for now; level polling brings us back
        break;
      case platform::IoState::would_block:
      case platform::IoState::in_progress:
        return;
      case platform::IoState::closed:
        // EOF. Mid-frame means the peer died mid-message; either way it is gone.
        close_channel(ch, Status::peer_disconnected);
        return;
      case platform::IoState::failed:
        log_.info("channel ", ch.number, ": ", r.error.message());
        close_channel(ch, io_failure(r.error, Status::recv_failed));
        return;
    }
  }
}

// Decodes `bytes` into frames. Returns false when the channel stopped reading: closed on a
// protocol error, or paused because the pool is empty (the rest is stashed).
bool EngineImpl::decode_buffered(Channel& ch, std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    if (!ch.target) {
      ch.target = pool_->get();
      if (!ch.target) {
        ch.stash.assign(bytes.begin(), bytes.end());
        pause_reading(ch);
        return false;
      }
    }
    const DecodeStep step = ch.decoder.feed(bytes, *ch.target);
    bytes = bytes.subspan(step.consumed);
    if (step.state == DecodeState::error) {
      log_.info("channel ", ch.number, ": protocol error from peer: ", to_string(step.error));
      close_channel(ch, step.error);
      return false;
    }
    if (step.state == DecodeState::complete) {
      deliver_frame(ch, std::move(ch.target));
      if (ch.closing) return false;
    }
  }
  return true;
}

void EngineImpl::deliver_frame(Channel& ch, MessagePtr m) {
  // The peer's channel number is informational; the application sees its own.
  m->header.channel_number = ch.number;
  if (ch.first_id == 0) ch.first_id = m->header.message_id;
  const OpCode op = m->header.opcode;
  ch.group->deliver(std::move(m));
  // A ByeResponse ends the conversation: the peer has sent its last frame.
  if (op == OpCode::bye_response) close_channel(ch, Status::channel_closed);
}

void EngineImpl::on_writable(Channel& ch) {
  std::array<ConstBuffer, 3> parts{};
  std::array<platform::ConstBuffer, 3 * 40> iov{};
  for (int round = 0; round < kMaxWritesPerEvent && !ch.send_queue.empty() && !ch.bye_sent; ++round) {
    // Gather up to 40 frames into one send; a frame after a Bye frame is never sent.
    std::size_t frames = 0;
    std::size_t nbuf = 0;
    for (; frames < encoders_.size() && frames < ch.send_queue.size(); ++frames) {
      FrameEncoder& enc = encoders_[frames];
      const Message& msg = *ch.send_queue[frames];
      enc.start(msg);
      if (frames == 0) enc.advance(ch.front_sent);
      const std::size_t k = enc.buffers(parts);
      for (std::size_t j = 0; j < k; ++j) iov[nbuf++] = platform::ConstBuffer{parts[j].data, parts[j].size};
      const OpCode op = msg.header.opcode;
      if (op == OpCode::bye_request || op == OpCode::bye_response || op == OpCode::bye_signal) {
        ++frames;
        break;
      }
    }
    const platform::IoResult r = platform::send_some(ch.sock, std::span(iov.data(), nbuf));
    if (r.state == platform::IoState::would_block) return;
    if (r.state == platform::IoState::failed) {
      log_.info("channel ", ch.number, ": ", r.error.message());
      close_channel(ch, io_failure(r.error, Status::send_failed));
      return;
    }
    std::size_t left = r.bytes;
    for (std::size_t f = 0; f < frames; ++f) {
      FrameEncoder& enc = encoders_[f];
      const std::size_t take = std::min(left, enc.remaining());
      left -= take;
      if (!enc.advance(take)) {
        ch.front_sent = (f == 0 ? ch.front_sent : 0) + take;  // earlier frames were popped
        return;  // the socket took less than offered: wait for writable
      }
      // Fully written: the message goes back to the pool (the app never sees it again).
      MessagePtr done = std::move(ch.send_queue.front());
      ch.send_queue.pop_front();
      ch.front_sent = 0;
      const OpCode op = done->header.opcode;
      if (op == OpCode::bye_request || op == OpCode::bye_response || op == OpCode::bye_signal) {
        ch.bye_sent = true;
        if (op == OpCode::bye_response) {
          close_channel(ch, Status::channel_closed);  // we answered the peer's Bye: done
          return;
        }
      }
    }
  }
}

}  // namespace tofu
