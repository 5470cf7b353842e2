#pragma once
/// @file
/// The engine (the original tofu's "Ampe"): one reactor loop that owns every socket, a bounded
/// message pool, and channel groups through which the application posts and receives messages.
///
/// Threading: every Engine and ChannelGroup function may be called from any thread, except that
/// each group has ONE receiving thread (wait_receive). The loop runs on one thread at a time: the
/// engine's reactor thread, or an application thread while it waits in wait_receive() or posts
/// when the loop is free (it then writes and reads sockets itself, spec section 5.3). Nothing here
/// calls back into user code except the logger and the test-only fault_hook, from that thread.
///
/// Ownership: a message is always owned by exactly one party. post() moves it into the engine
/// (the caller's MessagePtr becomes empty) or, on a validation error, leaves it with the caller.
/// The engine hands every message back to the application: delivered, returned with a status, or
/// (once fully sent) recycled into the pool.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "tofu/export.hpp"
#include "tofu/message.hpp"
#include "tofu/pool.hpp"
#include "tofu/status.hpp"

namespace spdlog {
class logger;
}

namespace tofu {

/// Which readiness mechanism the reactor uses.
enum class Backend : std::uint8_t {
  best,   ///< epoll on Linux, afd on Windows
  poll,   ///< POSIX poll(2) (Linux): the original tofu's model
  epoll,  ///< Linux epoll, level-triggered
  afd,    ///< Windows: one I/O completion port + IOCTL_AFD_POLL per socket
};

/// "poll", "epoll", "afd" or "best".
TOFU_API const char* to_string(Backend b) noexcept;
/// Parses a backend name as printed by to_string; returns false for an unknown name.
TOFU_API bool parse_backend(std::string_view name, Backend& out) noexcept;
/// True when this build and host can run `b` (best is always available).
TOFU_API bool backend_available(Backend b) noexcept;

/// What one channel may make the engine hold, and for how long (spec section 9). Every peer is
/// treated as hostile: these bounds keep one channel from freezing the others.
struct FlowOptions {
  /// Most messages one channel may hold on their way out: posted and not yet fully written (or
  /// handed back). Past it post() answers Status::send_queue_full at once and the caller keeps the
  /// message (ChannelGroup::post with a timeout waits for room instead). 0 = a quarter of the pool's
  /// `max` (at least 1): with the default pool, 16. At most 1,048,575.
  std::size_t max_queued_per_channel = 0;
  /// Most bytes (frames on the wire: 16-byte header, text headers and body, counted in 64-byte
  /// units rounded up) one channel may hold on their way out, counted like max_queued_per_channel.
  /// A post is admitted while the channel holds less than this, so one message larger than the cap
  /// still goes to an empty queue. Keeps what a slow peer makes the engine hold small when messages
  /// are large, and the bodies waiting to be written in the CPU's cache (D-100). At most 63 MiB.
  std::size_t max_queued_bytes_per_channel = std::size_t{2} * 1024 * 1024;
  /// Most messages from one channel's peer that may wait in the group's receive queue, delivered
  /// and not yet taken by wait_receive()/try_receive(). At the cap the engine stops reading that
  /// channel until the receiver takes one, so one busy peer cannot put more than this many messages
  /// ahead of every other channel's (nothing is dropped: the peer's kernel buffers fill and TCP
  /// flow control slows it). 0 = a quarter of the pool's `max` (at least 1): with the default pool, 16.
  std::size_t max_untaken_per_channel = 0;
  /// An accepted connection must deliver its HelloRequest within this time, else the channel closes
  /// with Status::handshake_timeout. 0 = no limit.
  std::chrono::milliseconds handshake_timeout{10'000};
  /// A frame whose first byte arrived must be complete within this time, else the channel closes
  /// with Status::frame_timeout. Time spent paused for the pool restarts the clock. 0 = no limit.
  std::chrono::milliseconds frame_timeout{30'000};
  /// A channel with messages queued must get bytes onto the wire at least this often, else it
  /// closes with Status::send_timeout (a peer that stopped reading). 0 = no limit.
  std::chrono::milliseconds send_timeout{60'000};
};

/// Options for Engine::create(). The defaults suit a small application: a pool of 16..64
/// messages, the best backend, no logging.
struct EngineOptions {
  /// Messages created up front / the most that may exist at once (in use + idle). The maximum is
  /// the backpressure bound: when every message is in use, get() returns an empty MessagePtr and
  /// the reactor stops reading until the application returns some.
  PoolOptions pool{};
  /// Per-channel bounds and timeouts (spec section 9).
  FlowOptions flow{};
  /// The readiness mechanism; `best` picks epoll on Linux and afd on Windows.
  Backend backend = Backend::best;
  /// Busy-polling before sleeping: a thread that runs the engine's loop (a receiver waiting in
  /// wait_receive(), or the reactor thread) checks the sockets without blocking for up to this
  /// long before it sleeps in the poller, and a receiver waiting for another thread's deliveries
  /// checks its queue. Saves the sleep and wake-up of a hand-off (a few microseconds each) when
  /// the next message comes soon, at the price of a CPU kept busy for that long each time. 0 (the
  /// default) never spins.
  std::chrono::microseconds spin{0};
  /// Where the engine logs; nullptr = the quiet default (warnings and errors to stderr are
  /// off too). Set e.g. spdlog::stderr_color_mt("tofu") to see what the reactor does.
  std::shared_ptr<spdlog::logger> logger;
  /// Fault injection, for tests of the failure path only: called by the thread running the loop
  /// (the reactor thread, or an application thread inside wait_receive() or post()) at named
  /// points ("wait": after each wait returns; "dispatch": before each posted command is handled).
  /// An exception thrown from it fails the reactor the way an internal error would: every message
  /// inside the engine comes back with status processing_failed, every group is closed, and post()
  /// then answers shutdown_started. Leave empty in production.
  std::function<void(std::string_view point)> fault_hook;
};

class ChannelGroup;
class EngineImpl;
namespace detail {
struct GroupState;
}

/// What post() tells the caller.
struct PostResult {
  Status status = Status::success;  ///< success, or why the message was refused (caller keeps it)
  BinaryHeader header{};            ///< on success: the final header (channel number, message id)
};

/// What wait_receive() tells the caller when it returns no message.
enum class ReceiveEnd : std::uint8_t {
  message,   ///< a message was returned
  timeout,   ///< nothing arrived in time
  shutdown,  ///< the group or the engine was shut down and the queue is drained
};

/// The engine: owns the reactor thread, every socket and the message pool. Create it with
/// create(); destroy it (or call shutdown()) to close everything.
class TOFU_API Engine {
 public:
  /// Starts the reactor thread. On failure returns nullptr and, when `error` is given, a
  /// description of what failed (e.g. "backend epoll: epoll_create1: ... (errno 24)").
  static std::unique_ptr<Engine> create(const EngineOptions& options = {}, std::string* error = nullptr);

  /// Stops the engine (see shutdown()) and joins the reactor thread.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// A clean message from the pool, or an empty MessagePtr when the pool is exhausted
  /// (that is the backpressure signal: return received messages, then try again) or the
  /// engine is shut down.
  MessagePtr get();
  /// Like get(), but when the pool is exhausted waits up to `timeout` for a message to come back
  /// (without polling). Empty on timeout, or at once when the engine is or gets shut down.
  MessagePtr get(std::chrono::milliseconds timeout);

  /// A new channel group, or nullptr after shutdown began.
  std::shared_ptr<ChannelGroup> create_group();

  /// Closes every channel, returns every message still queued inside the engine to its group's
  /// receive queue with status shutdown_started (origin engine), then stops the reactor thread.
  /// Receivers drain what is queued and then see ReceiveEnd::shutdown. Idempotent.
  void shutdown();

  /// Pool accounting (the application's messages).
  [[nodiscard]] PoolStats pool_stats() const;
  /// The backend actually in use (never `best`).
  [[nodiscard]] Backend backend() const noexcept;
  /// Channels currently open (listeners, clients and accepted connections).
  [[nodiscard]] std::size_t channel_count() const;

 private:
  friend class ChannelGroup;
  explicit Engine(std::shared_ptr<EngineImpl> impl);
  std::shared_ptr<EngineImpl> impl_;
};

/// A set of channels (listeners, connections) with one receive queue. Messages are posted
/// through the group and every message for its channels comes back through wait_receive().
class TOFU_API ChannelGroup {
 public:
  /// Closes the group's channels (as destroy() does) if the application did not.
  ~ChannelGroup();
  ChannelGroup(const ChannelGroup&) = delete;
  ChannelGroup& operator=(const ChannelGroup&) = delete;

  /// Validates the message (check_and_prepare, plus: a non-zero channel must exist and belong to
  /// this group; a Hello/Welcome request must carry a parsable address), assigns a channel number
  /// to a Hello/Welcome request with channel 0, and queues it for the reactor. On success `msg` is
  /// empty and the returned header says which channel and message id it got. On failure `msg` is
  /// untouched and the status says why (e.g. invalid_channel_number, invalid_address,
  /// send_queue_full, not_allowed, shutdown_started). Returns quickly: nothing is on the wire yet.
  /// On an accepted channel the first message must be the HelloResponse (or a local ByeSignal);
  /// Hello/Welcome requests with a channel number, WelcomeResponses and a HelloResponse anywhere
  /// else are not_allowed (spec section 9.4).
  PostResult post(MessagePtr& msg);
  /// Like post(), but when the channel holds its maximum of queued messages (send_queue_full)
  /// waits up to `wait_for_room` for one of them to be written, then posts. Any other refusal
  /// returns at once. Without room in time the result is send_queue_full and `msg` is untouched.
  PostResult post(MessagePtr& msg, std::chrono::milliseconds wait_for_room);

  /// Waits up to `timeout` for the next message for this group: data from a peer, a response to
  /// one of our requests, or an engine status report (origin engine). Returns an empty MessagePtr
  /// on timeout or when the group is closed and drained; `end` says which.
  MessagePtr wait_receive(std::chrono::milliseconds timeout, ReceiveEnd* end = nullptr);

  /// Wakes this group's receiver from another thread: `msg` (status forced to receiver_update,
  /// origin application) is put in the receive queue, or, when `msg` is empty, an engine Signal
  /// with status receiver_update. Returns pool_empty if no message could be made for the signal.
  Status update_receiver(MessagePtr msg = {});

  /// Closes every channel of this group and waits until the reactor has done so; their queued
  /// messages and a channel_closed Signal per channel land in this group's receive queue, which is
  /// then closed (wait_receive drains it and then reports shutdown). Idempotent.
  void destroy();

 private:
  friend class Engine;
  ChannelGroup(std::shared_ptr<EngineImpl> engine, std::shared_ptr<detail::GroupState> state);
  std::shared_ptr<EngineImpl> engine_;
  std::shared_ptr<detail::GroupState> state_;
};

}  // namespace tofu
