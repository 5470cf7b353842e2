// The reactor thread: wait for readiness or a wake, take the application's commands, run the
// triggered channels, close what must close. Every failure ends as a status message to the app.

#include <algorithm>
#include <array>
#include <exception>
#include <iterator>

#include "engine/engine_impl.hpp"
#include "tofu/address.hpp"
#include "tofu/uds_access.hpp"

namespace tofu {

using detail::Channel;
using detail::ChannelKind;

namespace {
// How long a channel must have been quiet for a post to be written by the posting thread itself
// although no frame came in since the channel's last write (D-84).
constexpr auto kStreamGap = std::chrono::microseconds(200);
// Paused channels whose resume batch did not come back look at the pool this often (D-94).
constexpr auto kPoolRecheck = std::chrono::milliseconds(1);
// The timer entry of that recheck: no channel has key 0 (channel numbers start at 1).
constexpr std::uint64_t kPoolRecheckKey = 0;
}  // namespace

void EngineImpl::run() noexcept {
  Status reason = Status::shutdown_started;
  try {
    loop();
  } catch (const std::exception& e) {
    // The original's I/O thread died silently (its bug #6); ours reports and shuts down cleanly.
    log_.error("reactor failed: ", e.what());
    reason = Status::processing_failed;
  } catch (...) {
    log_.error("reactor failed with an unknown exception");
    reason = Status::processing_failed;
  }
  try {
    fail_everything(reason);
  } catch (...) {
    log_.critical("reactor could not finish its shutdown");
  }
}

// Dispatches batch_ in order, then writes each channel that got messages once (one gathered send
// for many posts). A command stays in batch_ until the whole batch is done: if dispatching throws,
// fail_everything() still finds the ones not handled (their message is still in them, D-27).
void EngineImpl::dispatch_batch() {
  for (Command& c : batch_) {
    if (c.kind == Command::Kind::message && !c.msg) continue;  // handed back by a close (give_back_pending)
    if (fault_hook_) fault_hook_("dispatch");
    dispatch(c);
  }
  batch_.clear();
  flush_posted();
}

void EngineImpl::take_commands(std::vector<Command>& out) {
  std::lock_guard lock(loop_mu_);
  if (out.empty()) {
    out.swap(mailbox_);
  } else {
    for (Command& c : mailbox_) out.push_back(std::move(c));
    mailbox_.clear();
  }
}

void EngineImpl::fail_everything(Status reason) {
  std::vector<Command> pending = std::move(batch_);  // a batch interrupted by a failure
  batch_.clear();
  {
    std::lock_guard lock(loop_mu_);
    stopped_ = true;  // from now on submit() refuses and receivers wait on their queues
    stop_ = true;
    handover_cv_.notify_all();
  }
  shutting_down_.store(true, std::memory_order_release);
  take_commands(pending);
  for (Command& c : pending) {
    if (c.kind == Command::Kind::message && c.msg) {
      const bool opens = c.msg->header.opcode == OpCode::hello_request ||
                         c.msg->header.opcode == OpCode::welcome_request;
      if (opens && !find(c.msg->header.channel_number)) registry_.release(c.msg->header.channel_number);
      give_back(c, reason);
    }
  }
  channels_.for_each([&](Channel& ch) {
    if (!ch.closing) close_channel(ch, reason);
  });
  reap_closed();
  recycle_written();
  flush_deliveries();
  std::vector<std::shared_ptr<detail::GroupState>> groups;
  {
    std::lock_guard lock(groups_mu_);
    groups.swap(groups_);
  }
  for (auto& g : groups) g->mark_destroyed();
}

void EngineImpl::dispatch(Command& c) {
  if (c.kind == Command::Kind::destroy_group) {
    channels_.for_each([&](Channel& ch) {
      if (ch.group.get() == c.group && !ch.closing) close_channel(ch, Status::channel_closed);
    });
    reap_closed();
    flush_deliveries();  // what the closes returned is in the queue before the group reports its end
    c.group->mark_destroyed();
    // No command names the group after this one (submit refuses them): drop the engine's hold.
    std::lock_guard lock(groups_mu_);
    std::erase_if(groups_, [&](const auto& g) { return g.get() == c.group; });
    return;
  }
  dispatch_message(c);
}

void EngineImpl::dispatch_message(Command& c) {
  Message& m = *c.msg;
  if (c.group->closed()) {
    // The engine closed the group after this was posted: open nothing for it, send nothing.
    if (c.address && !find(m.header.channel_number)) registry_.release(m.header.channel_number);
    give_back(c, Status::channel_closed);
    return;
  }
  if (c.address && !find(m.header.channel_number)) {
    if (m.header.opcode == OpCode::welcome_request) {
      open_listener(c);
    } else {
      open_client(c);
    }
    return;
  }
  Channel* ch = find(m.header.channel_number);
  if (ch == nullptr || ch->closing) {
    // Closed between post() and now: the message comes back, never silently dropped.
    give_back(c, Status::channel_closed);
    return;
  }
  if (m.header.opcode == OpCode::bye_signal && m.header.oob) {
    // Close locally at once, send nothing (the original's ByeSignal with _internalA).
    give_back(c, Status::channel_closed);
    close_channel(*ch, ch->draining ? ch->drain_reason : Status::channel_closed);
    return;
  }
  if (ch->draining) {
    give_back(c, ch->drain_reason);  // the peer is gone; its last frames are still being delivered
    return;
  }
  if (ch->kind == ChannelKind::listener) {
    give_back(c, Status::not_allowed);  // nothing is sent on a listener
    return;
  }
  queue_for_send(*ch, std::move(c.msg));
}

// A posted message that never reaches a send queue goes back with `status` and frees its slot.
void EngineImpl::give_back(Command& c, Status status) {
  c.channel.release(1, detail::ChannelShared::units_for(*c.msg));
  return_to_app(*c.group, std::move(c.msg), status);
  if (room_waiters_.load() != 0) notify_room();
}

void EngineImpl::release_slots(Channel& ch, std::size_t n, std::uint32_t units) {
  if (n == 0) return;
  ch.shared.release(static_cast<std::uint32_t>(n), units);
  if (room_waiters_.load() != 0) notify_room();
}

// Frees the slots of every message in the channel's send queue (before they go back to the app).
void EngineImpl::release_queue_slots(Channel& ch) {
  std::uint32_t units = 0;
  for (const MessagePtr& m : ch.send_queue) units += detail::ChannelShared::units_for(*m);
  release_slots(ch, ch.send_queue.size(), units);
}

void EngineImpl::queue_for_send(Channel& ch, MessagePtr m) {
  if (ch.first_id == 0) ch.first_id = m->header.message_id;
  if (ch.send_queue.empty()) ch.send_progress = now_;  // the send-stall clock starts now (D-33)
  if (m->header.oob && !ch.send_queue.empty()) {
    // Out of band goes first, but never in front of a frame already partly on the wire.
    ch.send_queue.insert(ch.front_sent > 0 ? 1 : 0, std::move(m));
  } else {
    ch.send_queue.push_back(std::move(m));
  }
  // The send-stall deadline is at most now + send_timeout: an entry due by then already covers it.
  if (send_timeout_.count() > 0 && (ch.timer_at == detail::Clock::time_point{} || ch.timer_at > now_ + send_timeout_)) {
    schedule(ch);
  }
  // Written once after the whole command batch (flush_posted, which then re-syncs the interest):
  // one gathered send for many posts, and no poll round trip before the first write.
  if (ch.kind != ChannelKind::connected) {
    mark_dirty(ch);
  } else if (!ch.flush_queued) {
    ch.flush_queued = true;
    to_flush_.push_back(ch.number);
  }
}

void EngineImpl::flush_posted() {
  for (ChannelNumber n : to_flush_) {
    Channel* ch = find(n);
    if (ch == nullptr) continue;
    ch->flush_queued = false;
    if (ch->closing || ch->draining || ch->kind != ChannelKind::connected) continue;
    // A thread in post() writes at once what completes an exchange (an answer, a request after its
    // response, the first message after a pause). A stream of posts instead goes to the reactor
    // thread, which gathers many messages per send: the queued output makes the loop's release
    // wake it, and later posts find it holding the loop (D-84).
    const bool now = role_ != Owner::poster || ch->read_since_write || now_ - ch->last_write >= kStreamGap;
    if (now && !ch->write_blocked) on_writable(*ch);
    mark_dirty(*ch);
  }
  to_flush_.clear();
}

Channel* EngineImpl::add_channel(ChannelNumber n, ChannelKind kind, platform::NativeSocket s,
                                 std::shared_ptr<detail::GroupState> group, detail::ChannelRef shared) {
  if (channels_.find(n) != nullptr) {
    // Only possible when more than the quarantine's 1024 numbers were freed in one iteration:
    // the old channel is already fully closed, so it can go now rather than at reap time.
    std::erase(closed_, n);
    channels_.erase(n);
  }
  auto ch = std::make_unique<Channel>();
  ch->number = n;
  ch->key = static_cast<std::uint64_t>(n) | (++generation_ << 16);
  ch->kind = kind;
  ch->sock = s;
  ch->group = std::move(group);
  ch->shared = shared;
  ch->close_signal = engine_signal(n, 0, Status::channel_closed);
  Channel* raw = channels_.insert(std::move(ch));
  if (auto st = poller_->add(s, raw->wanted(), raw->key); !st.ok()) {
    log_.unexpected(detail::LogLevel::warn, st.error(), "channel ", n, ": ");
    close_channel(*raw, Status::processing_failed);
    return raw;
  }
  raw->in_poller = true;
  set_registered(*raw, raw->wanted());
  return raw;
}

void EngineImpl::report_closed(detail::GroupState& group, ChannelNumber n, MessageId first_id, Status reason,
                               MessagePtr sig) {
  if (!sig) sig = engine_signal(n, first_id, Status::channel_closed);
  if (!sig) {
    log_.error("channel ", n, " closed (", reason, ") but no message was left to report it");
    return;
  }
  sig->header.message_id = first_id;
  (void)sig->text_headers.add("~reason", to_string(reason));
  deliver(group, std::move(sig));
}

void EngineImpl::refuse_open(Command& c, Status reason, const platform::SysError& e) {
  const bool listen = c.msg->header.opcode == OpCode::welcome_request;
  const ChannelNumber n = c.msg->header.channel_number;
  const MessageId id = c.msg->header.message_id;
  log_.info(listen ? "listen" : "connect", " on channel ", n, ": ", e.message());
  if (listen) c.msg->header.opcode = OpCode::welcome_response;
  give_back(c, reason);
  report_closed(*c.group, n, id, reason, {});
  registry_.release(n);
}

void EngineImpl::open_listener(Command& c) {
  Message& m = *c.msg;
  const ChannelNumber n = m.header.channel_number;
  const auto mode_text = m.text_headers.find(kListenModeHeader);  // UDS socket file mode (D-70)
  const auto mode = mode_text ? parse_listen_mode(*mode_text) : kDefaultUdsListenMode;
  if (!mode) return refuse_open(c, Status::listen_failed, platform::internal_error("~listen_mode is not 0..0777 in octal"));
  auto s = platform::open_stream(*c.address);
  if (!s.ok()) return refuse_open(c, Status::listen_failed, s.error());
  if (auto st = platform::bind_listen(s.value(), *c.address, 1024, *mode); !st.ok()) {
    platform::close_socket(s.value());
    const bool uds = c.address->kind == platform::AddressKind::uds;
    return refuse_open(c, uds && platform::is_path_not_found(st.error()) ? Status::uds_path_not_found : Status::listen_failed,
                st.error());
  }
  auto local = platform::local_address(s.value(), c.address->kind);
  const std::string bound = local.ok() ? platform::to_tofu_address(local.value()) : std::string();
  Channel* ch = add_channel(n, ChannelKind::listener, s.value(), c.group->shared_from_this(), c.channel);
  ch->first_id = m.header.message_id;
  if (c.address->kind == platform::AddressKind::uds && local.ok()) ch->uds_path = bound.substr(4);
  if (ch->closing) {
    give_back(c, Status::listen_failed);
    return;
  }
  c.channel.release(1, detail::ChannelShared::units_for(m));  // the request comes back as the response below
  // Success: the request comes back as WelcomeResponse, carrying the address actually bound
  // (useful with port 0).
  m.header.opcode = OpCode::welcome_response;
  m.header.status = Status::success;
  m.text_headers.remove(kListenOnHeader);
  if (!bound.empty()) (void)m.text_headers.add(kListenOnHeader, bound);
  deliver(*c.group, std::move(c.msg));
}

void EngineImpl::open_client(Command& c) {
  Message& m = *c.msg;
  const ChannelNumber n = m.header.channel_number;
  auto s = platform::open_stream(*c.address);
  if (!s.ok()) return refuse_open(c, Status::connect_failed, s.error());
  const platform::IoResult r = platform::start_connect(s.value(), *c.address);
  if (r.state == platform::IoState::failed) {
    platform::close_socket(s.value());
    Status st = Status::connect_failed;
    if (platform::is_connection_refused(r.error)) st = Status::peer_disconnected;
    if (c.address->kind == platform::AddressKind::uds && platform::is_path_not_found(r.error)) {
      st = Status::uds_path_not_found;
    }
    return refuse_open(c, st, r.error);
  }
  const ChannelKind kind = r.state == platform::IoState::in_progress ? ChannelKind::connecting : ChannelKind::connected;
  Channel* ch = add_channel(n, kind, s.value(), c.group->shared_from_this(), c.channel);
  ch->first_id = m.header.message_id;
  if (ch->closing) {
    give_back(c, ch->close_reason);  // the poller refused the socket; the Signal is already out
    return;
  }
  ch->stage = detail::PeerStage::hello_response;
  // The HelloRequest is the first frame on the wire: written after this command batch if the
  // connect completed at once (UDS), else when the socket reports the connection.
  queue_for_send(*ch, std::move(c.msg));
}

void EngineImpl::handle_event(const platform::ReadyEvent& ev) {
  const auto n = static_cast<ChannelNumber>(ev.key & 0xFFFF);
  Channel* ch = find(n);
  if (ch == nullptr || ch->key != ev.key || ch->closing) return;  // stale: channel gone or replaced
  switch (ch->kind) {
    case ChannelKind::listener:
      if (ev.readiness.error) {
        close_channel(*ch, Status::accept_failed);
      } else {
        on_accept(*ch);
      }
      return;
    case ChannelKind::connecting:
      on_connect(*ch, ev.readiness);
      mark_dirty(*ch);
      return;
    case ChannelKind::connected:
      // Read before acting on a hang-up: frames the peer sent before closing are delivered first
      // (the original dropped them: its bug #3). on_readable sees the EOF and closes.
      if (ch->read_paused() && (ev.readiness.hangup || ev.readiness.error)) {
        // Paused for the pool, yet the peer reset the connection (a plain FIN is not reported
        // while paused, D-14). Act now, whatever the pool: the socket and the send queue go at
        // once; the frames already read are delivered when messages come back (D-32).
        lose_peer(*ch, Status::peer_disconnected);
        return;
      }
      if (ev.readiness.readable || ev.readiness.hangup || ev.readiness.error) {
        if (!ch->read_paused()) on_readable(*ch);
      }
      if (!ch->closing && !ch->draining && ev.readiness.writable) {
        ch->block_writes(false);
        on_writable(*ch);
      }
      mark_dirty(*ch);
      return;
  }
}

// Queues the channel for an interest re-sync at the end of the iteration, if its interest changed.
// Called after the change (the wanted interest is compared now).
void EngineImpl::mark_dirty(Channel& ch) {
  if (ch.dirty || ch.closing || ch.wanted() == ch.registered) return;
  ch.dirty = true;
  dirty_.push_back(ch.number);
}

void EngineImpl::sync_interest(Channel& ch) {
  if (!ch.in_poller || ch.closing) return;
  const platform::Interest want = ch.wanted();
  if (want == ch.registered) return;
  if (auto st = poller_->modify(ch.sock, want, ch.key); !st.ok()) {
    log_.unexpected(detail::LogLevel::warn, st.error(), "channel ", ch.number, ": ");
    close_channel(ch, Status::processing_failed);
    return;
  }
  set_registered(ch, want);
}

// Keeps write_registered_ (the loop's "someone must poll for this" count, D-83) in step.
void EngineImpl::set_registered(Channel& ch, platform::Interest interest) {
  if (ch.registered.write != interest.write) {
    if (interest.write) {
      ++write_registered_;
    } else {
      --write_registered_;
    }
  }
  ch.registered = interest;
}

void EngineImpl::pause_reading(Channel& ch) {
  if (ch.read_paused()) return;
  ch.pause = detail::Pause::pool;
  paused_.push_back(ch.number);
  if (!ch.pool_signal_sent) {
    ch.pool_signal_sent = true;
    if (MessagePtr sig = engine_signal(ch.number, 0, Status::pool_empty)) deliver(*ch.group, std::move(sig));
  }
  if (!pool_watch_armed_) arm_pool_watch();
}

// Paused channels wait for the pool (D-94). The episode starts with a callback for the first
// message that comes back (nothing else wakes us while the application holds the whole pool); then
// they resume once resume_batch_ are free (a second callback) or kPoolRecheck later with what is
// free (the application may keep the rest). The callbacks run on whichever thread returns the
// message (or here, at once); they only set a flag and wake us. One still waiting from an earlier
// episode is not doubled.
void EngineImpl::arm_pool_watch() {
  pool_watch_armed_ = true;
  pool_batch_wait_ = false;
  watch_pool(first_watch_registered_, 1);
}

void EngineImpl::watch_pool(std::atomic<bool>& registered, std::size_t at_least) {
  if (registered.exchange(true)) return;
  std::weak_ptr<EngineImpl> weak = weak_from_this();
  pool_->notify_when_available(
      [weak, &registered] {
        if (auto self = weak.lock()) {  // `registered` is a member of *self: alive while we hold it
          registered.store(false);
          self->pool_became_available_.store(true);
          self->wake();
        }
      },
      at_least);
}

// A pool callback ran (or a stale one from an earlier episode).
void EngineImpl::on_pool_returned() {
  if (!pool_watch_armed_) return;
  const PoolStats pool = pool_->stats();
  const std::size_t free = pool.max - std::min(pool.in_use, pool.max);
  if (paused_.empty() || (free > 0 && (free >= resume_batch_ || resume_batch_ <= 1))) {
    pool_watch_armed_ = false;
    pool_batch_wait_ = false;
    resume_paused();
    return;
  }
  if (free == 0) {  // taken again already (a get() elsewhere): wait for the next one
    if (!pool_batch_wait_) watch_pool(first_watch_registered_, 1);
    return;
  }
  if (pool_batch_wait_) return;  // the recheck is already set
  pool_batch_wait_ = true;
  pool_recheck_at_ = now_ + kPoolRecheck;
  timers_.push(pool_recheck_at_, kPoolRecheckKey);
  watch_pool(batch_watch_registered_, resume_batch_);
}

// The recheck came due: resume with what is free; if nothing is, wait for the next message again.
void EngineImpl::recheck_pool() {
  pool_recheck_at_ = {};
  if (!pool_watch_armed_ || !pool_batch_wait_) return;
  pool_batch_wait_ = false;
  const PoolStats pool = pool_->stats();
  if (paused_.empty() || pool.in_use < pool.max) {
    pool_watch_armed_ = false;
    resume_paused();
    return;
  }
  watch_pool(first_watch_registered_, 1);
}

// Stops watching and closes the socket; the Channel stays (draining or about to be reaped).
void EngineImpl::release_socket(Channel& ch) {
  if (ch.in_poller) {
    if (auto st = poller_->remove(ch.sock); !st.ok()) log_.unexpected(detail::LogLevel::warn, st.error(), "channel ", ch.number, ": ");
    ch.in_poller = false;
    set_registered(ch, {});
  }
  if (ch.sock != platform::kInvalidSocket) platform::close_socket(ch.sock);
  ch.sock = platform::kInvalidSocket;
  if (!ch.uds_path.empty()) platform::remove_uds_path(ch.uds_path);
  ch.uds_path.clear();
}

// The peer is gone (reset, EOF, I/O error). Normally the channel closes now. If frames it sent
// are still waiting for pool messages (reading paused), the socket and the send queue are released
// at once and the channel drains: those frames are delivered as messages come back, then it
// closes with `reason` (D-32). Nothing the channel holds waits on its own peer.
void EngineImpl::lose_peer(Channel& ch, Status reason) {
  if (ch.closing || ch.draining) return;
  if (!ch.read_paused() || !ch.holds_frames()) {
    close_channel(ch, reason);
    return;
  }
  release_socket(ch);
  release_queue_slots(ch);
  for (MessagePtr& m : ch.send_queue) return_to_app(*ch.group, std::move(m), reason);
  ch.send_queue.clear();
  ch.front_sent = 0;
  ch.draining = true;
  ch.drain_reason = reason;
}

// A paused channel reads again: a draining one delivers its stash and closes, any other decodes
// what it stashed and reads on (it may pause again at once).
void EngineImpl::resume_reading(Channel& ch) {
  ch.pause = detail::Pause::none;
  if (ch.draining) {
    std::vector<std::byte> stash = std::move(ch.stash);
    ch.stash.clear();
    if (decode_buffered(ch, stash) && !ch.closing && !ch.read_paused()) close_channel(ch, ch.drain_reason);
    return;
  }
  // A pause does not count against the peer: its handshake and frame clocks restart (D-33).
  if (ch.handshake_deadline != detail::Clock::time_point{}) ch.handshake_deadline = now_ + handshake_timeout_;
  if (ch.frame_deadline != detail::Clock::time_point{}) ch.frame_deadline = now_ + frame_timeout_;
  on_readable(ch);  // decode what is stashed first; level-triggered polling does the rest
  if (!ch.closing) {
    schedule(ch);
    mark_dirty(ch);
  }
}

void EngineImpl::resume_paused() {
  std::vector<ChannelNumber> paused;
  paused.swap(paused_);
  for (ChannelNumber n : paused) {
    Channel* ch = find(n);
    if (ch == nullptr || ch->pause != detail::Pause::pool || ch->closing) continue;
    const std::uint64_t frames_before = ch->frames_in;
    const bool draining = ch->draining;
    resume_reading(*ch);
    if (!draining && !ch->closing) ch->resume_starved = ch->read_paused() && ch->frames_in == frames_before;
  }
  // Fair shares of a scarce pool (D-94): whoever paused again without getting a message goes ahead
  // of whoever took the returned ones, or a flooder resumed first would take every message each
  // time and a new channel's HelloRequest would wait until the flood ends.
  std::stable_partition(paused_.begin(), paused_.end(), [this](ChannelNumber n) {
    const Channel* ch = find(n);
    return ch != nullptr && ch->resume_starved;
  });
}

// ---- the receiver's share of the group queue (spec 9.3a, D-95) ----
// A channel whose peer sends faster than the application takes stops being read once
// max_untaken_ of its frames wait in the group's queue; it reads again once the receiver has taken
// enough of them to leave half (resume_untaken_). So however fast one peer sends, at most that
// many of its messages stand between any other channel's message and the receiver; the half is
// hysteresis: resuming at the first one taken costs a wake-up of the loop per message (measured
// under Wine: depth 15-16 with one-message deliveries, no faster than no cap at all).

// The receiver's progress applied: frames it has taken no longer count for their channels.
void EngineImpl::settle_taken(detail::GroupState& g) {
  const std::uint64_t taken = g.taken();
  std::size_t i = g.untaken_head;
  for (; i < g.untaken.size() && g.untaken[i].at < taken; ++i) {
    Channel* ch = find(static_cast<ChannelNumber>(g.untaken[i].key & 0xFFFF));
    if (ch != nullptr && ch->key == g.untaken[i].key && ch->untaken > 0) --ch->untaken;
  }
  g.untaken_head = i;
  if (i == g.untaken.size()) {
    g.untaken.clear();
    g.untaken_head = 0;
  } else if (i > 64 && i * 2 > g.untaken.size()) {  // amortised: erase the taken prefix now and then
    g.untaken.erase(g.untaken.begin(), g.untaken.begin() + static_cast<std::ptrdiff_t>(i));
    g.untaken_head = 0;
  }
}

// True when the channel has max_untaken_ frames waiting for its receiver (checked after each
// delivered frame; the group's queue is looked at only once the channel's own count is there).
bool EngineImpl::receiver_behind(Channel& ch) {
  if (ch.untaken < max_untaken_) return false;
  settle_taken(*ch.group);
  return ch.untaken >= max_untaken_;
}

// Stops reading the channel with `rest` (bytes read after the last delivered frame) stashed. Which
// queue position will resume it is known once this iteration's deliveries are handed over, so the
// receiver is asked to call back at the end of the iteration (arm_receiver_wakes).
bool EngineImpl::pause_for_receiver(Channel& ch, std::span<const std::byte> rest) {
  ch.stash.assign(rest.begin(), rest.end());
  ch.pause = detail::Pause::receiver;
  receiver_paused_.push_back(ch.number);
  receiver_arm_ = true;
  mark_dirty(ch);
  return false;
}

// After the iteration's deliveries: each paused channel waits for its oldest untaken frame to be
// taken. When that happened already, the next iteration resumes it.
void EngineImpl::arm_receiver_wakes() {
  receiver_arm_ = false;
  for (ChannelNumber n : receiver_paused_) {
    Channel* ch = find(n);
    if (ch == nullptr || ch->closing || ch->pause != detail::Pause::receiver) continue;
    detail::GroupState& g = *ch->group;
    settle_taken(g);
    // The frame whose taking brings the channel down to the low mark.
    std::uint64_t at = detail::GroupState::kNever;
    if (ch->untaken > resume_untaken_) {
      std::uint32_t left = ch->untaken - resume_untaken_;
      for (std::size_t i = g.untaken_head; i < g.untaken.size(); ++i) {
        if (g.untaken[i].key == ch->key && --left == 0) {
          at = g.untaken[i].at;
          break;
        }
      }
    }
    // Already taken (the receiver was quick): resume next time.
    if (at == detail::GroupState::kNever || !g.notify_when_taken(at + 1)) {
      receivers_caught_up_.store(true);
      wake();
    }
  }
}

// A receiver took what a paused channel waited for (or may have): resume every channel down to the
// low mark; the others wait on (re-armed at the end of the iteration).
void EngineImpl::resume_for_receivers() {
  std::vector<ChannelNumber> paused;
  paused.swap(receiver_paused_);
  for (ChannelNumber n : paused) {
    Channel* ch = find(n);
    if (ch == nullptr || ch->closing || ch->pause != detail::Pause::receiver) continue;
    settle_taken(*ch->group);
    if (ch->untaken > resume_untaken_) {
      receiver_paused_.push_back(n);
      receiver_arm_ = true;
      continue;
    }
    resume_reading(*ch);
  }
}

// The earliest of the channel's deadlines, or a zero time point.
static detail::Clock::time_point next_deadline(const Channel& ch, std::chrono::milliseconds send_timeout) {
  detail::Clock::time_point d{};
  const auto earlier = [&](detail::Clock::time_point t) {
    if (t != detail::Clock::time_point{} && (d == detail::Clock::time_point{} || t < d)) d = t;
  };
  earlier(ch.handshake_deadline);
  earlier(ch.frame_deadline);
  earlier(ch.accept_resume);
  if (send_timeout.count() > 0 && !ch.send_queue.empty() && !ch.bye_sent) earlier(ch.send_progress + send_timeout);
  return d;
}

// Makes sure a DeadlineQueue entry comes due no later than the channel's earliest deadline. An
// entry that comes due early is re-checked then (expire_due), so deadlines that move later (send
// progress) cost nothing here.
void EngineImpl::schedule(Channel& ch) {
  const detail::Clock::time_point d = next_deadline(ch, send_timeout_);
  if (d == detail::Clock::time_point{}) return;
  if (ch.timer_at != detail::Clock::time_point{} && ch.timer_at <= d) return;
  ch.timer_at = d;
  timers_.push(d, ch.key);
}

void EngineImpl::expire_due() {
  detail::DeadlineQueue::Entry e{};
  bool recheck = false;
  while (timers_.pop_due(now_, e)) {
    if (e.key == kPoolRecheckKey) {
      recheck = recheck || e.when == pool_recheck_at_;  // else stale: resumed since
      continue;
    }
    Channel* ch = find(static_cast<ChannelNumber>(e.key & 0xFFFF));
    if (ch == nullptr || ch->key != e.key || ch->closing || ch->timer_at != e.when) continue;  // stale entry
    ch->timer_at = {};
    if (ch->draining) continue;
    const auto due = [&](detail::Clock::time_point t) { return t != detail::Clock::time_point{} && t <= now_; };
    if (due(ch->accept_resume)) {  // a resting listener accepts again
      ch->accept_resume = {};
      mark_dirty(*ch);
    }
    if (send_timeout_.count() > 0 && !ch->send_queue.empty() && !ch->bye_sent && due(ch->send_progress + send_timeout_)) {
      log_.info("channel ", ch->number, ": nothing written for ", send_timeout_.count(), " ms, closing");
      close_channel(*ch, Status::send_timeout);
      continue;
    }
    if (!ch->read_paused()) {  // while paused the engine, not the peer, is the one not reading
      if (due(ch->handshake_deadline)) {
        log_.info("channel ", ch->number, ": no HelloRequest within ", handshake_timeout_.count(), " ms, closing");
        close_channel(*ch, Status::handshake_timeout);
        continue;
      }
      if (due(ch->frame_deadline)) {
        log_.info("channel ", ch->number, ": frame not completed within ", frame_timeout_.count(), " ms, closing");
        close_channel(*ch, Status::frame_timeout);
        continue;
      }
    }
    schedule(*ch);  // not due yet (or paused): the next entry at the real deadline
  }
  if (recheck) recheck_pool();
}

void EngineImpl::close_channel(Channel& ch, Status reason) {
  if (ch.closing) return;
  ch.closing = true;
  ch.close_reason = reason;
  ch.pause = detail::Pause::none;  // paused_ entries for it are skipped (closing)
  release_socket(ch);
  // Unsent messages go back first, each with the reason; then one channel_closed Signal.
  release_queue_slots(ch);
  for (MessagePtr& m : ch.send_queue) return_to_app(*ch.group, std::move(m), reason);
  ch.send_queue.clear();
  ch.partial.reset();
  ch.stash.clear();
  // Free the number before the Signal is seen: once the app knows the channel is closed, post()
  // to it is refused at once (the quarantine keeps the number from being reused right away).
  registry_.release(ch.number);
  // Messages posted before that and not dispatched yet come back now too, so that the Signal is the
  // channel's last message.
  give_back_pending(ch.number, reason);
  report_closed(*ch.group, ch.number, ch.first_id, reason, std::move(ch.close_signal));
  closed_.push_back(ch.number);
  if (room_waiters_.load() != 0) notify_room();  // a post waiting for room here now fails at once
}

void EngineImpl::give_back_pending(ChannelNumber n, Status reason) {
  const auto for_channel = [n](const Command& c) {
    return c.kind == Command::Kind::message && c.msg && !c.address && c.msg->header.channel_number == n;
  };
  for (Command& c : batch_) {
    if (for_channel(c)) give_back(c, reason);  // moves the message out: dispatch_batch skips it
  }
  std::vector<Command> mine;
  {
    std::lock_guard lock(loop_mu_);
    const auto keep = std::stable_partition(mailbox_.begin(), mailbox_.end(), [&](const Command& c) { return !for_channel(c); });
    std::move(keep, mailbox_.end(), std::back_inserter(mine));
    mailbox_.erase(keep, mailbox_.end());
  }
  for (Command& c : mine) give_back(c, reason);
}

void EngineImpl::reap_closed() {
  for (ChannelNumber n : closed_) channels_.erase(n);
  closed_.clear();
  // Entries of closed channels wait in the heap until they come due (up to send_timeout); under
  // connection churn that is many. Drop them once they outnumber the live ones (amortised O(1)).
  if (timers_.size() > 64 + 2 * channels_.size()) {
    timers_.remove_if([this](const detail::DeadlineQueue::Entry& e) {
      if (e.key == kPoolRecheckKey) return e.when != pool_recheck_at_;
      const Channel* ch = find(static_cast<ChannelNumber>(e.key & 0xFFFF));
      return ch == nullptr || ch->key != e.key || ch->timer_at != e.when;
    });
  }
}

void EngineImpl::deliver(detail::GroupState& group, MessagePtr m) {
  group.outbox.push_back(std::move(m));
  if (!group.outbox_listed) {
    group.outbox_listed = true;
    outboxes_.push_back(group.shared_from_this());
  }
}

void EngineImpl::return_to_app(detail::GroupState& group, MessagePtr m, Status status) {
  m->header.origin = Origin::engine;
  m->header.status = status;
  deliver(group, std::move(m));
}

// Every group's deliveries of this iteration: one lock and at most one wake-up per group (D-82).
void EngineImpl::flush_deliveries() {
  for (auto& g : outboxes_) {
    g->outbox_listed = false;
    // To the guest's own group: we are its receiving thread, so no lock and no wake-up.
    const std::uint64_t first = g.get() == guest_group_ ? g->deliver_to_self(g->outbox) : g->deliver(g->outbox);
    if (!g->outbox_frames.empty()) {
      for (const detail::GroupState::Counted& f : g->outbox_frames) g->untaken.push_back({first + f.at, f.key});
      g->outbox_frames.clear();
      settle_taken(*g);  // keeps `untaken` as long as the group's queue, not its history
    }
  }
  outboxes_.clear();
  if (receiver_arm_) arm_receiver_wakes();
}

void EngineImpl::recycle_written() {
  if (!written_.empty()) pool_->recycle_all(written_);
}

}  // namespace tofu
