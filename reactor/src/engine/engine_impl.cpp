// The application side of the engine: creation, post() validation, groups, shutdown.
#include "engine/engine_impl.hpp"
#include "core/saturating_deadline.hpp"


#include "tofu/address.hpp"

namespace tofu {
namespace {

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
Status resolve(const Message& m, std::optional<platform::SocketAddress>& out) {
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
    out = addr.value();
    return Status::success;
  }
  auto addrs = platform::resolve_tcp(a.host, a.port, role == AddressRole::listen);
  if (!addrs.ok()) return Status::invalid_address;
  out = addrs.value().front();
  return Status::success;
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
  impl->thread_ = std::thread([raw = impl.get()] { raw->run(); });
  return impl;
}

EngineImpl::EngineImpl(const EngineOptions& options, std::unique_ptr<platform::Poller> poller, Backend backend)
    : pool_(Pool::create(options.pool)),
      // One close signal per possible channel plus slack: this pool is never the bottleneck.
      status_pool_(Pool::create(PoolOptions{0, 65536, 4096})),
      log_(options.logger),
      poller_(std::move(poller)),
      backend_(backend),
      max_queued_(static_cast<std::uint32_t>(std::min<std::size_t>(
          options.flow.max_queued_per_channel != 0
              ? options.flow.max_queued_per_channel
              : std::max<std::size_t>(1, std::max(options.pool.max, options.pool.initial) / 4),
          UINT32_MAX))),
      handshake_timeout_(options.flow.handshake_timeout),
      frame_timeout_(options.flow.frame_timeout),
      send_timeout_(options.flow.send_timeout),
      fault_hook_(options.fault_hook),
      read_buffer_(64 * 1024) {}

EngineImpl::~EngineImpl() { shutdown(); }

MessagePtr EngineImpl::get() {
  if (shutting_down_.load(std::memory_order_acquire)) return {};
  return pool_->get();
}

MessagePtr EngineImpl::get(std::chrono::milliseconds timeout) {
  if (shutting_down_.load(std::memory_order_acquire)) return {};
  MessagePtr m = pool_->get(timeout);  // shutdown() cancels the wait
  if (shutting_down_.load(std::memory_order_acquire)) return {};
  return m;
}

std::shared_ptr<detail::GroupState> EngineImpl::new_group() {
  if (shutting_down_.load(std::memory_order_acquire)) return nullptr;
  auto g = std::make_shared<detail::GroupState>(next_group_id_.fetch_add(1));
  std::lock_guard lock(groups_mu_);
  std::erase_if(groups_, [](const auto& w) { return w.expired(); });
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
  c.group = group;
  const bool opens = m.header.channel_number == 0 &&
                     (m.header.opcode == OpCode::hello_request || m.header.opcode == OpCode::welcome_request);
  if (opens) {
    r.status = resolve(m, c.address);
    if (!ok(r.status)) {
      m.header = before;
      return r;
    }
    const ChannelNumber n = registry_.allocate(group->id, &c.shared);
    if (n == 0) {
      m.header = before;
      r.status = Status::not_allowed;  // all 65534 channel numbers are in use
      return r;
    }
    c.shared->queued.store(1, std::memory_order_relaxed);  // the request itself
    m.header.channel_number = n;
  } else {
    c.shared = registry_.find(m.header.channel_number);
    if (!c.shared || c.shared->group != group->id) {
      m.header = before;
      r.status = Status::invalid_channel_number;
      return r;
    }
    r.status = admit_post(*c.shared, m);
    if (ok(r.status) && !reserve_slot(*c.shared)) r.status = Status::send_queue_full;
    if (ok(r.status) && m.header.opcode == OpCode::hello_response) {
      // Exactly one HelloResponse answers an accepted connection's HelloRequest.
      bool expected = true;
      if (!c.shared->awaiting_hello_response.compare_exchange_strong(expected, false)) {
        c.shared->queued.fetch_sub(1);
        r.status = Status::not_allowed;
      }
    }
    if (!ok(r.status)) {
      m.header = before;
      return r;
    }
  }
  r.header = m.header;
  c.msg = std::move(msg);
  enqueue(std::move(c));
  // A shutdown racing with this post returns the message through the group with a status.
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

bool EngineImpl::reserve_slot(detail::ChannelShared& shared) const {
  std::uint32_t q = shared.queued.load(std::memory_order_relaxed);
  do {
    if (q >= max_queued_) return false;
  } while (!shared.queued.compare_exchange_weak(q, q + 1));
  return true;
}

PostResult EngineImpl::post(const std::shared_ptr<detail::GroupState>& group, MessagePtr& msg,
                            std::chrono::milliseconds wait_for_room) {
  const auto deadline = detail::saturating_deadline(wait_for_room);
  // Counted as a waiter from before the first try until we return, so a slot the reactor frees
  // after a failed try is announced (the reactor releases, then reads room_waiters_; we register,
  // then read the count in post()).
  room_waiters_.fetch_add(1);
  std::unique_lock lock(room_mu_);
  PostResult r;
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

void EngineImpl::enqueue(Command c) {
  {
    std::lock_guard lock(mailbox_mu_);
    if (stopped_) {
      // The reactor is gone: hand the message straight back (never lose it).
      if (c.msg && c.group) {
        if (c.msg->header.channel_number != 0 &&
            (c.msg->header.opcode == OpCode::hello_request || c.msg->header.opcode == OpCode::welcome_request)) {
          registry_.release(c.msg->header.channel_number);
        }
        return_to_app(*c.group, std::move(c.msg), Status::shutdown_started);
      }
      if (c.kind == Command::Kind::destroy_group && c.group) c.group->mark_destroyed();
      return;
    }
    // Wake only on the empty -> non-empty edge: the reactor takes every queued command per wake,
    // so a wake per post would cost a syscall per message for nothing.
    const bool was_empty = mailbox_.empty();
    mailbox_.push_back(std::move(c));
    if (!was_empty) return;
  }
  wake();
}

void EngineImpl::wake() noexcept {
  if (auto st = poller_->notifier().notify(); !st.ok()) {
    log_.unexpected(detail::LogLevel::error, st.error(), "waking the reactor failed: ");
  }
}

Status EngineImpl::update_receiver(detail::GroupState& group, MessagePtr msg) {
  if (msg) {
    msg->header.status = Status::receiver_update;
    msg->header.origin = Origin::application;
    group.deliver(std::move(msg));
    return Status::success;
  }
  MessagePtr sig = engine_signal(0, 0, Status::receiver_update);
  if (!sig) return Status::pool_empty;
  group.deliver(std::move(sig));
  return Status::success;
}

void EngineImpl::destroy_group(const std::shared_ptr<detail::GroupState>& group) {
  Command c;
  c.kind = Command::Kind::destroy_group;
  c.group = group;
  enqueue(std::move(c));
  group->wait_destroyed();
}

void EngineImpl::shutdown() {
  shutting_down_.store(true, std::memory_order_release);
  pool_->cancel_waits();  // get(timeout) returns at once
  notify_room();          // post(msg, wait_for_room) returns shutdown_started
  {
    std::lock_guard lock(mailbox_mu_);
    stop_ = true;
  }
  wake();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void EngineImpl::return_to_app(detail::GroupState& group, MessagePtr m, Status status) {
  m->header.origin = Origin::engine;
  m->header.status = status;
  group.deliver(std::move(m));
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
