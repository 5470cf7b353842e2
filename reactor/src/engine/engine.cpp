// The public Engine / ChannelGroup API: thin handles over EngineImpl.
#include "tofu/engine.hpp"

#include "engine/engine_impl.hpp"

namespace tofu {

const char* to_string(Backend b) noexcept {
  switch (b) {
    case Backend::best: return "best";
    case Backend::poll: return "poll";
    case Backend::epoll: return "epoll";
    case Backend::afd: return "afd";
  }
  return "unknown";
}

bool parse_backend(std::string_view name, Backend& out) noexcept {
  for (Backend b : {Backend::best, Backend::poll, Backend::epoll, Backend::afd}) {
    if (name == to_string(b)) {
      out = b;
      return true;
    }
  }
  return false;
}

bool backend_available(Backend b) noexcept {
  switch (b) {
    case Backend::best: return true;
    case Backend::poll: return platform::poller_available(platform::PollerKind::poll);
    case Backend::epoll: return platform::poller_available(platform::PollerKind::epoll);
    case Backend::afd: return platform::poller_available(platform::PollerKind::afd);
  }
  return false;
}

std::unique_ptr<Engine> Engine::create(const EngineOptions& options, std::string* error) {
  auto impl = EngineImpl::create(options, error);
  if (!impl) return nullptr;
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::Engine(std::shared_ptr<EngineImpl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() { impl_->shutdown(); }

MessagePtr Engine::get() { return impl_->get(); }
MessagePtr Engine::get(std::chrono::milliseconds timeout) { return impl_->get(timeout); }

std::shared_ptr<ChannelGroup> Engine::create_group() {
  auto state = impl_->new_group();
  if (!state) return nullptr;
  return std::shared_ptr<ChannelGroup>(new ChannelGroup(impl_, std::move(state)));
}

void Engine::shutdown() { impl_->shutdown(); }
PoolStats Engine::pool_stats() const { return impl_->pool_stats(); }
Backend Engine::backend() const noexcept { return impl_->backend(); }
std::size_t Engine::channel_count() const { return impl_->channel_count(); }

ChannelGroup::ChannelGroup(std::shared_ptr<EngineImpl> engine, std::shared_ptr<detail::GroupState> state)
    : engine_(std::move(engine)), state_(std::move(state)) {}

ChannelGroup::~ChannelGroup() { destroy(); }

PostResult ChannelGroup::post(MessagePtr& msg) { return engine_->post(state_, msg); }
PostResult ChannelGroup::post(MessagePtr& msg, std::chrono::milliseconds wait_for_room) {
  return engine_->post(state_, msg, wait_for_room);
}

MessagePtr ChannelGroup::wait_receive(std::chrono::milliseconds timeout, ReceiveEnd* end) {
  return engine_->receive(*state_, timeout, end);
}

Status ChannelGroup::update_receiver(MessagePtr msg) { return engine_->update_receiver(*state_, std::move(msg)); }

void ChannelGroup::destroy() {
  if (state_->closed()) return;
  engine_->destroy_group(state_);
}

}  // namespace tofu
