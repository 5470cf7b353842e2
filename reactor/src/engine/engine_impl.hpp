#pragma once
// EngineImpl: the engine's shared state (pool, channel registry, mailbox) and its reactor thread.
// Application-side functions (engine_impl.cpp) only validate, queue and wake; everything that
// touches a socket runs on the reactor thread (reactor_loop.cpp, channel_io.cpp).
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <string_view>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/channel.hpp"
#include "engine/channel_registry.hpp"
#include "engine/channel_table.hpp"
#include "engine/group_state.hpp"
#include "engine/logger.hpp"
#include "engine/send_batch.hpp"
#include "platform/common/poller.hpp"
#include "tofu/engine.hpp"

namespace tofu {

class EngineImpl : public std::enable_shared_from_this<EngineImpl> {
 public:
  static std::shared_ptr<EngineImpl> create(const EngineOptions& options, std::string* error);
  ~EngineImpl();

  // ---- application side (any thread) ----
  MessagePtr get();
  MessagePtr get(std::chrono::milliseconds timeout);
  std::shared_ptr<detail::GroupState> new_group();
  PostResult post(const std::shared_ptr<detail::GroupState>& group, MessagePtr& msg);
  PostResult post(const std::shared_ptr<detail::GroupState>& group, MessagePtr& msg,
                  std::chrono::milliseconds wait_for_room);
  Status update_receiver(detail::GroupState& group, MessagePtr msg);
  // wait_receive(): runs the loop itself while it is free (D-83).
  MessagePtr receive(detail::GroupState& group, std::chrono::milliseconds timeout, ReceiveEnd* end);
  void destroy_group(const std::shared_ptr<detail::GroupState>& group);
  void shutdown();
  [[nodiscard]] PoolStats pool_stats() const { return pool_->stats(); }
  [[nodiscard]] Backend backend() const noexcept { return backend_; }
  [[nodiscard]] std::size_t channel_count() const { return registry_.size(); }

 private:
  struct Command {
    enum class Kind : std::uint8_t { message, destroy_group };
    Kind kind = Kind::message;
    MessagePtr msg;
    // Alive until the command is handled: groups_ holds every group until its destroy command has
    // been dispatched, and no command for a group is accepted after that one (D-81).
    detail::GroupState* group = nullptr;
    detail::ChannelRef channel;  // the channel's counters: one queued slot is ours
    std::unique_ptr<platform::SocketAddress> address;  // resolved for Hello/Welcome requests
  };

  // Who holds the loop (loop_owner.cpp, D-83).
  enum class Owner : std::uint8_t { none, reactor, guest, poster };

  EngineImpl(const EngineOptions& options, std::unique_ptr<platform::Poller> poller, Backend backend);
  Status admit_post(const detail::ChannelShared& shared, const Message& m) const;
  void notify_room();

  // ---- loop ownership (loop_owner.cpp) ----
  void wake() noexcept;  // any thread: the loop must look at its mailbox / flags soon
  Status submit(Command& c);
  [[nodiscard]] bool waits_for_writable(const Command& c) const noexcept;
  bool kick_locked();    // loop_mu_ held; true when the caller must write the notifier
  void want_reactor_locked();
  void notify_poller() noexcept;
  [[nodiscard]] bool needs_poller() const noexcept;
  void release_loop();
  bool iterate(int timeout_ms, bool marked);
  void finish_iteration();
  void on_owner_failure() noexcept;
  void lead_as_reactor();
  void lead(detail::GroupState& g, detail::Clock::time_point deadline, int first_timeout);
  static void spin_for_delivery(const detail::GroupState& g, detail::Clock::time_point until);

  // ---- the loop's holder ----
  void run() noexcept;
  void loop();
  void fail_everything(Status reason);
  void take_commands(std::vector<Command>& out);
  void dispatch_batch();
  void dispatch(Command& c);
  void dispatch_message(Command& c);
  void refuse_open(Command& c, Status reason, const platform::SysError& e);
  void report_closed(detail::GroupState& group, ChannelNumber n, MessageId first_id, Status reason, MessagePtr sig);
  void open_listener(Command& c);
  void open_client(Command& c);
  void queue_for_send(detail::Channel& ch, MessagePtr m);
  void flush_posted();
  void handle_event(const platform::ReadyEvent& ev);
  void give_back(Command& c, Status status);
  void release_slots(detail::Channel& ch, std::size_t n, std::uint32_t units);
  void release_queue_slots(detail::Channel& ch);
  void on_accept(detail::Channel& listener);
  void on_connect(detail::Channel& ch, const platform::Readiness& r);
  void on_readable(detail::Channel& ch);
  std::span<std::byte> read_span(const detail::Channel& ch);
  void on_writable(detail::Channel& ch);
  bool decode_buffered(detail::Channel& ch, std::span<const std::byte> bytes);
  bool decode_frames(detail::Channel& ch, std::span<const std::byte> bytes);
  MessagePtr message_for_frame(const detail::Channel& ch, std::span<const std::byte> rest);
  bool stash_and_pause(detail::Channel& ch, std::span<const std::byte> rest);
  Status admit_frame(detail::Channel& ch, const BinaryHeader& h);
  bool deliver_frame(detail::Channel& ch, MessagePtr m);
  void pause_reading(detail::Channel& ch);
  bool receiver_behind(detail::Channel& ch);
  bool pause_for_receiver(detail::Channel& ch, std::span<const std::byte> rest);
  void settle_taken(detail::GroupState& g);
  void resume_for_receivers();
  void arm_receiver_wakes();
  void resume_reading(detail::Channel& ch);
  void lose_peer(detail::Channel& ch, Status reason);
  void release_socket(detail::Channel& ch);
  void resume_paused();
  void arm_pool_watch();
  void watch_pool(std::atomic<bool>& registered, std::size_t at_least);
  void on_pool_returned();
  void recheck_pool();
  void track_frame_deadline(detail::Channel& ch);
  void schedule(detail::Channel& ch);
  void expire_due();
  void mark_dirty(detail::Channel& ch);
  void sync_interest(detail::Channel& ch);
  void set_registered(detail::Channel& ch, platform::Interest interest);
  detail::Channel* add_channel(ChannelNumber n, detail::ChannelKind kind, platform::NativeSocket s,
                               std::shared_ptr<detail::GroupState> group, detail::ChannelRef shared);
  void close_channel(detail::Channel& ch, Status reason);
  void give_back_pending(ChannelNumber n, Status reason);
  void reap_closed();
  // Reactor side: queued for the group, handed over at the end of the iteration (flush_deliveries).
  void deliver(detail::GroupState& group, MessagePtr m);
  void return_to_app(detail::GroupState& group, MessagePtr m, Status status);
  void flush_deliveries();
  void recycle_written();
  MessagePtr engine_signal(ChannelNumber n, MessageId id, Status status);
  detail::Channel* find(ChannelNumber n) const noexcept { return channels_.find(n); }

  // ---- shared state ----
  std::shared_ptr<Pool> pool_;         // the application's messages (bounded)
  std::shared_ptr<Pool> status_pool_;  // engine reports: close signals, pool_empty, receiver_update
  detail::Logger log_;
  std::unique_ptr<platform::Poller> poller_;
  const Backend backend_;
  detail::ChannelRegistry registry_;
  std::atomic<std::uint64_t> next_group_id_{1};
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> pool_became_available_{false};
  std::atomic<bool> receivers_caught_up_{false};  // a group's receiver took what we waited for (D-95)
  // Our pool callbacks waiting in the pool (D-94): for the first returned message, for a batch.
  std::atomic<bool> first_watch_registered_{false};
  std::atomic<bool> batch_watch_registered_{false};

  // Flow control (spec section 9).
  const std::uint32_t max_queued_;          // per channel, resolved from FlowOptions
  const std::uint32_t max_queued_units_;    // per channel, in 64-byte units (D-100)
  const std::uint32_t max_untaken_;         // per channel, resolved from FlowOptions (D-95)
  const std::uint32_t resume_untaken_;      // ... and the low mark at which reading resumes
  const bool count_untaken_;                // false when the cap cannot bind: nothing is counted
  const std::chrono::milliseconds handshake_timeout_;
  const std::chrono::milliseconds frame_timeout_;
  const std::chrono::milliseconds send_timeout_;
  const std::chrono::microseconds spin_;  // EngineOptions::spin (D-86)
  std::mutex room_mu_;                      // post(msg, wait_for_room) sleeps on room_cv_
  std::condition_variable room_cv_;
  std::uint64_t room_epoch_ = 0;            // bumped (room_mu_) whenever room may have appeared
  std::atomic<std::uint32_t> room_waiters_{0};
  std::atomic<std::uint32_t> pool_waiters_{0};  // threads in get(timeout) with the pool empty

  // Guards the mailbox and who holds the loop (loop_owner.cpp, D-83).
  std::mutex loop_mu_;
  Owner owner_ = Owner::none;
  bool owner_blocked_ = false;   // the holder waits in the poller: a wake goes through the notifier
  bool notified_ = false;        // ... and the notifier was written since
  bool kicked_ = false;          // a wake() the holder has not looked at yet
  bool reactor_parked_ = false;  // the reactor thread sleeps on reactor_cv_
  bool reactor_wanted_ = false;  // ... and takes the loop as soon as it is free
  bool handover_ = false;        // a receiver asked the reactor thread for the loop
  std::size_t handover_waiters_ = 0;
  std::size_t followers_ = 0;    // receivers waiting for another holder's deliveries
  bool reactor_deep_ = false;    // ... without a timeout: a release must wake it
  detail::Clock::time_point park_until_{};    // the next timer, for the parked reactor thread
  detail::Clock::time_point vacant_since_{};  // when the loop was last let go (zero: not free)
  std::uint64_t releases_ = 0;                // how often the loop was let go
  std::condition_variable reactor_cv_;
  std::condition_variable handover_cv_;
  // One FIFO in posting order. Out-of-band (the original's _internalA) only moves a message ahead
  // within its channel's send queue; letting it overtake the mailbox would let a ByeSignal or a
  // group's destroy run before the HelloRequest posted just before it (D-26). Taken whole by one
  // swap per wake (D-82).
  std::vector<Command> mailbox_;
  bool stop_ = false;                // guarded by loop_mu_
  bool stopped_ = false;             // reactor finished: commands are refused (loop_mu_)

  std::thread thread_;
  std::mutex groups_mu_;
  // Every group not yet destroyed: for closing them at shutdown, and so that a Command's raw group
  // pointer stays valid (D-81).
  std::vector<std::shared_ptr<detail::GroupState>> groups_;

  // The loop holder's state (the reactor thread's, or whoever holds the loop)
  Owner role_ = Owner::reactor;  // who holds it now (a copy of owner_ for the holder)
  detail::GroupState* guest_group_ = nullptr;  // a receiver holding the loop: its group
  std::array<platform::ReadyEvent, 256> events_{};
  bool busy_iteration_ = false;       // the last iteration had events or commands (spin, D-86)
  std::size_t write_registered_ = 0;  // sockets registered with write interest (unwritten output, connects)
  detail::ChannelTable channels_;
  std::vector<ChannelNumber> closed_;  // closed this iteration, erased after the event batch
  std::vector<Command> batch_;  // commands taken from the mailbox, being dispatched (D-27)
  std::vector<std::shared_ptr<detail::GroupState>> outboxes_;  // groups with deliveries this iteration
  std::vector<MessagePtr> written_;  // fully written this iteration: back to the pool in one go
  std::vector<MessagePtr> spare_;    // fetched for the whole frames of the read being decoded
  std::function<void(std::string_view)> fault_hook_;
  std::vector<ChannelNumber> to_flush_;  // got posted messages in this batch
  std::vector<ChannelNumber> dirty_;   // interest may have changed: re-synced at the end of the iteration
  std::uint64_t generation_ = 0;
  static constexpr std::size_t kReadSize = 64 * 1024;         // one read, unless read_span() allows more
  static constexpr std::size_t kLargeReadSize = 1024 * 1024;  // one read of large frames (D-102)
  std::vector<std::byte> read_buffer_;  // kReadSize, grown to kLargeReadSize by the first large read
  std::array<FrameEncoder, 64> encoders_{};  // frames gathered into one send
  detail::SendBatch send_batch_;  // the buffers of one send, small parts copied together (D-97)
  std::vector<ChannelNumber> paused_;   // read-paused channels, resumed when the pool has messages
  // Channels paused with `max_untaken_` frames in their group's queue; resumed as its receiver takes
  // them. receiver_arm_ is set when one paused since the last arm_receiver_wakes().
  std::vector<ChannelNumber> receiver_paused_;
  bool receiver_arm_ = false;
  bool pool_watch_armed_ = false;       // paused channels wait for the pool
  bool pool_batch_wait_ = false;        // a message came back: waiting for a batch, or the recheck
  // Paused channels resume once this many messages are free, or kPoolRecheck after the first came
  // back with whatever is free (D-94): one message at a time costs a wake-up and a poll each.
  const std::size_t resume_batch_;
  detail::Clock::time_point pool_recheck_at_{};
  detail::DeadlineQueue timers_;
  detail::Clock::time_point now_{};     // read once per loop iteration
  detail::Clock::time_point last_poll_{};  // when a holder last asked the poller (D-94)
};

}  // namespace tofu
