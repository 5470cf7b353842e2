// The application side of the engine: creation, post() validation, groups, shutdown.
#include "engine/engine_impl.hpp"
#include "core/saturating_deadline.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "tofu/address.hpp"

namespace tofu {
namespace {

// "~reason:" + the longest status name + CRLF, rounded up.
constexpr std::size_t kReasonCapacity = 48;

platform::PollerKind poller_kind(Backend b) {
  switch (b) {
    case Backend::poll: return platform::PollerKind::poll;
    case Backend::epoll: return platform::PollerKind::epoll;
    case Backend::afd: return platform::PollerKind::afd;
    case Backend::best: break;
  }
#ifdef _WIN32
  return platform::PollerKind::afd;
#else
  return platform::PollerKind::epoll;
#endif
}

Backend backend_of(platform::PollerKind k) {
  switch (k) {
    case platform::PollerKind::poll: return Backend::poll;
    case platform::PollerKind::epoll: return Backend::epoll;
    case platform::PollerKind::afd: return Backend::afd;
  }
  return Backend::best;
}

// Resolves a Hello/Welcome request's address header. Syntax errors and unresolvable names are
// refused here, synchronously, so the caller learns at once (invalid_address / wrong_address).
Status resolve(const Message& m, std::unique_ptr<platform::SocketAddress>& out) {
  const AddressRole role =
      m.header.opcode == OpCode::welcome_request ? AddressRole::listen : AddressRole::connect;
  const std::string_view header = role == AddressRole::listen ? kListenOnHeader : kConnectToHeader;
  const auto value = m.text_headers.find(header);
  if (!value) return Status::wrong_address;
  const AddressResult parsed = parse_address(*value, role);
  if (!ok(parsed.status)) return parsed.status;
  const Address& a = parsed.address;
  if (a.transport == Transport::uds) {
    auto addr = platform::uds_address(a.path);
    if (!addr.ok()) return Status::invalid_address;
    out = std::make_unique<platform::SocketAddress>(addr.value());
    return Status::success;
  }
  auto addrs = platform::resolve_tcp(a.host, a.port, role == AddressRole::listen);
  if (!addrs.ok()) return Status::invalid_address;
  out = std::make_unique<platform::SocketAddress>(addrs.value().front());
  return Status::success;
}

// The most messages the pool may hold (its `max`, or `initial` when that is larger).
std::size_t pool_size(const PoolOptions& pool) { return std::max(pool.max, pool.initial); }
// A FlowOptions per-channel cap: as asked, or 0 = a quarter of the pool, at least 1; at most `limit`.
std::uint32_t per_channel_cap(std::size_t asked, const PoolOptions& pool, std::size_t limit) {
  const std::size_t cap = asked != 0 ? asked : std::max<std::size_t>(1, pool_size(pool) / 4);
  return static_cast<std::uint32_t>(std::min<std::size_t>(cap, limit));
}

// The byte cap in the 64-byte units ChannelShared counts: at least one (a message is always
// admitted to an empty queue), at most what the count's field holds.
std::uint32_t queued_units_cap(std::size_t bytes) {
  const std::size_t units = std::max<std::size_t>(1, bytes / 64);
  return static_cast<std::uint32_t>(std::min<std::size_t>(units, detail::ChannelShared::kMaxUnitsCap));
}
}  // namespace

std::shared_ptr<EngineImpl> EngineImpl::create(const EngineOptions& options, std::string* error) {
  const platform::PollerKind kind = poller_kind(options.backend);
  if (!platform::poller_available(kind)) {
    if (error != nullptr) *error = std::string("backend ") + to_string(options.backend) + " is not available on this OS";
    return nullptr;
  }
  auto poller = platform::make_poller(kind);
  if (!poller.ok()) {
    if (error != nullptr) *error = std::string("backend ") + to_string(backend_of(kind)) + ": " + poller.error().message();
    return nullptr;
  }
  std::shared_ptr<EngineImpl> impl(new EngineImpl(options, std::move(poller).value(), backend_of(kind)));
  // create() returns once the reactor thread runs (or after a second at most): whatever starting a
  // thread needs (the runtime's, a sanitizer's) is then taken, not left to race with the caller
  // (D-90: the caller may use up the descriptors at once).
  struct Started {
    std::mutex mutex;
    std::condition_variable cv;
    bool running = false;
  };
  auto started = std::make_shared<Started>();  // shared: the thread may outlive a timed-out wait
  impl->thread_ = std::thread([raw = impl.get(), started] {
    {
      const std::lock_guard<std::mutex> lock(started->mutex);
      started->running = true;
    }
    started->cv.notify_one();
    raw->run();
  });
  std::unique_lock<std::mutex> lock(started->mutex);
  started->cv.wait_for(lock, std::chrono::seconds(1), [&] { return started->running; });
  return impl;
}

EngineImpl::EngineImpl(const EngineOptions& options, std::unique_ptr<platform::Poller> poller, Backend backend)
    : pool_(Pool::create(options.pool)),
      // One close signal per possible channel plus slack: this pool is never the bottleneck. Its
      // messages carry one short text header (`~reason`) and no body: each channel keeps one
      // reserved (D-23), so they start with room for that only (D-87).
      status_pool_(Pool::create(PoolOptions{0, 65536, 4096, kReasonCapacity, 0})),
      log_(options.logger),
      poller_(std::move(poller)),
      backend_(backend),
      // The outbound count lives in a 20-bit field of ChannelShared::counts (D-100).
      max_queued_(per_channel_cap(options.flow.max_queued_per_channel, options.pool, detail::ChannelShared::kMaxQueued)),
      max_queued_units_(queued_units_cap(options.flow.max_queued_bytes_per_channel)),
      max_untaken_(per_channel_cap(options.flow.max_untaken_per_channel, options.pool, UINT32_MAX)),
      resume_untaken_(max_untaken_ / 2),
      // A cap at the pool's size can never bind: every untaken frame holds a pool message.
      count_untaken_(max_untaken_ < pool_size(options.pool)),
      handshake_timeout_(options.flow.handshake_timeout),
      frame_timeout_(options.flow.frame_timeout),
      send_timeout_(options.flow.send_timeout),
      spin_(std::max(options.spin, std::chrono::microseconds(0))),
      fault_hook_(options.fault_hook),
      read_buffer_(kReadSize),
      resume_batch_(std::max<std::size_t>(1, pool_size(options.pool) / 8)) {}

EngineImpl::~EngineImpl() { shutdown(); }

MessagePtr EngineImpl::get() {
  if (shutting_down_.load(std::memory_order_acquire)) return {};
  return pool_->get();
}

MessagePtr EngineImpl::get(std::chrono::milliseconds timeout) {
  if (shutting_down_.load(std::memory_order_acquire)) return {};
  MessagePtr m = pool_->get();
  if (!m) {
    // Messages come back from writes, which need someone in the poller while we sleep (D-83).
    pool_waiters_.fetch_add(1);
    wake();
    m = pool_->get(timeout);  // shutdown() cancels the wait
    pool_waiters_.fetch_sub(1);
  }
  if (shutting_down_.load(std::memory_order_acquire)) return {};
  return m;
}

std::shared_ptr<detail::GroupState> EngineImpl::new_group() {
  if (shutting_down_.load(std::memory_order_acquire)) return nullptr;
  auto g = std::make_shared<detail::GroupState>(next_group_id_.fetch_add(1));
  if (count_untaken_) {
    std::weak_ptr<EngineImpl> weak = weak_from_this();
    g->on_caught_up = [weak] {
      if (auto self = weak.lock()) {
        self->receivers_caught_up_.store(true);
        self->wake();
      }
    };
  }
  std::lock_guard lock(groups_mu_);
  groups_.push_back(g);
  return g;
}

PostResult EngineImpl::post(const std::shared_ptr<detail::GroupState>& group, MessagePtr& msg) {
  PostResult r;
  if (!msg) {
    r.status = Status::null_message;
    return r;
  }
  if (shutting_down_.load(std::memory_order_acquire) || group->closed()) {
    r.status = Status::shutdown_started;
    return r;
  }
  Message& m = *msg;
  const BinaryHeader before = m.header;
  r.status = check_and_prepare(m);
  if (!ok(r.status)) {
    m.header = before;  // a refused message goes back untouched
    return r;
  }
  Command c;
  c.group = group.get();
  const std::uint32_t units = detail::ChannelShared::units_for(m);  // what the byte cap counts (D-100)
  const bool opens = m.header.channel_number == 0 &&
                     (m.header.opcode == OpCode::hello_request || m.header.opcode == OpCode::welcome_request);
  if (opens) {
    r.status = resolve(m, c.address);
    if (!ok(r.status)) {
      m.header = before;
      return r;
    }
    // The request itself takes the channel's first queued slot.
    const ChannelNumber n = registry_.allocate(group->id, &c.channel, 1, units);
    if (n == 0) {
      m.header = before;
      r.status = Status::not_allowed;  // all 65534 channel numbers are in use
      return r;
    }
    m.header.channel_number = n;
  } else {
    c.channel = registry_.find(m.header.channel_number, group->id);
    r.status = c.channel ? admit_post(*c.channel.shared, m) : Status::invalid_channel_number;
    if (ok(r.status)) {
      switch (c.channel.try_reserve(max_queued_, units, max_queued_units_)) {
        case detail::ChannelShared::Reserve::ok: break;
        case detail::ChannelShared::Reserve::full: r.status = Status::send_queue_full; break;
        case detail::ChannelShared::Reserve::gone: r.status = Status::invalid_channel_number; break;
      }
      if (ok(r.status) && m.header.opcode == OpCode::hello_response) {
        // Exactly one HelloResponse answers an accepted connection's HelloRequest.
        bool expected = true;
        if (!c.channel.shared->awaiting_hello_response.compare_exchange_strong(expected, false)) {
          c.channel.release(1, units);
          r.status = Status::not_allowed;
        }
      }
    }
    if (!ok(r.status)) {
      m.header = before;
      return r;
    }
  }
  r.header = m.header;
  c.msg = std::move(msg);
  if (const Status st = submit(c); !ok(st)) {
    // The engine stopped or the group is being destroyed: the caller keeps the message.
    msg = std::move(c.msg);
    if (opens) {
      registry_.release(msg->header.channel_number);
    } else {
      c.channel.release(1, units);
      if (msg->header.opcode == OpCode::hello_response) c.channel.shared->awaiting_hello_response.store(true);
    }
    msg->header = before;
    r = PostResult{};
    r.status = st;
  }
  return r;
}

// What the application may post on an existing channel (spec 9.4): the engine never sends a frame
// its peer would have to refuse.
Status EngineImpl::admit_post(const detail::ChannelShared& shared, const Message& m) const {
  const OpCode op = m.header.opcode;
  // Requests that open a channel carry channel 0; a WelcomeResponse is only ever the engine's.
  if (op == OpCode::hello_request || op == OpCode::welcome_request || op == OpCode::welcome_response) {
    return Status::not_allowed;
  }
  if (shared.awaiting_hello_response.load()) {
    const bool local_close = op == OpCode::bye_signal && m.header.oob;
    return op == OpCode::hello_response || local_close ? Status::success : Status::not_allowed;
  }
  return op == OpCode::hello_response ? Status::not_allowed : Status::success;
}

PostResult EngineImpl::post(const std::shared_ptr<detail::GroupState>& group, MessagePtr& msg,
                            std::chrono::milliseconds wait_for_room) {
  PostResult r = post(group, msg);
  if (r.status != Status::send_queue_full) return r;  // the common case: no waiting machinery
  const auto deadline = detail::saturating_deadline(wait_for_room);
  // Counted as a waiter from before the next try until we return, so a slot the reactor frees
  // after a failed try is announced (the reactor releases, then reads room_waiters_; we register,
  // then read the count in post()).
  room_waiters_.fetch_add(1);
  wake();  // room comes from writes, which need someone in the poller while we sleep (D-83)
  std::unique_lock lock(room_mu_);
  for (;;) {
    const std::uint64_t epoch = room_epoch_;
    lock.unlock();
    r = post(group, msg);
    lock.lock();
    if (r.status != Status::send_queue_full) break;
    const bool more = detail::wait_until_saturating(room_cv_, lock, deadline, [&] {
      return room_epoch_ != epoch || shutting_down_.load(std::memory_order_acquire);
    });
    if (!more) break;
  }
  room_waiters_.fetch_sub(1);
  return r;
}

void EngineImpl::notify_room() {
  {
    std::lock_guard lock(room_mu_);
    ++room_epoch_;
  }
  room_cv_.notify_all();
}

Status EngineImpl::update_receiver(detail::GroupState& group, MessagePtr msg) {
  if (msg) {
    msg->header.status = Status::receiver_update;
    msg->header.origin = Origin::application;
    group.deliver(std::move(msg));
  } else {
    MessagePtr sig = engine_signal(0, 0, Status::receiver_update);
    if (!sig) return Status::pool_empty;
    group.deliver(std::move(sig));
  }
  wake();  // a receiver holding the loop sleeps in the poller, not on the group's queue
  return Status::success;
}

void EngineImpl::destroy_group(const std::shared_ptr<detail::GroupState>& group) {
  Command c;
  c.kind = Command::Kind::destroy_group;
  c.group = group.get();
  // Refused when another destroy() of this group is queued or the reactor has stopped; either way
  // the group is marked destroyed once that is done (fail_everything marks every group).
  (void)submit(c);
  group->wait_destroyed();
}

void EngineImpl::shutdown() {
  shutting_down_.store(true, std::memory_order_release);
  pool_->cancel_waits();  // get(timeout) returns at once
  notify_room();          // post(msg, wait_for_room) returns shutdown_started
  bool notify = false;
  {
    std::lock_guard lock(loop_mu_);
    stop_ = true;
    notify = kick_locked();  // a receiver or the reactor thread asleep in the poller lets go
    want_reactor_locked();   // the reactor thread takes the loop and finishes (run())
    handover_cv_.notify_all();
  }
  if (notify) notify_poller();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

MessagePtr EngineImpl::engine_signal(ChannelNumber n, MessageId id, Status status) {
  MessagePtr m = status_pool_->get();
  if (!m) return m;
  m->header = make_header(OpCode::signal);
  m->header.origin = Origin::engine;
  m->header.status = status;
  m->header.channel_number = n;
  m->header.message_id = id;
  return m;
}

}  // namespace tofu
