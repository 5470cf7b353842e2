#include "engine/channel_registry.hpp"

namespace tofu::detail {

bool ChannelRegistry::free_locked(ChannelNumber n) const {
  return !in_use_.contains(n) && !recent_set_.contains(n);
}

ChannelNumber ChannelRegistry::take_locked(ChannelNumber n, std::uint64_t group,
                                           std::shared_ptr<ChannelShared>* shared) {
  auto state = std::make_shared<ChannelShared>(group);
  if (shared != nullptr) *shared = state;
  in_use_.emplace(n, std::move(state));
  return n;
}

ChannelNumber ChannelRegistry::allocate(std::uint64_t group, std::shared_ptr<ChannelShared>* shared) {
  std::lock_guard lock(mu_);
  std::uniform_int_distribution<unsigned> pick(kFirst, kLast);
  for (int attempt = 0; attempt < 64; ++attempt) {
    const auto n = static_cast<ChannelNumber>(pick(rng_));
    if (free_locked(n)) return take_locked(n, group, shared);
  }
  // Nearly full: scan. Quarantined numbers are used only when nothing else is left.
  for (unsigned n = kFirst; n <= kLast; ++n) {
    if (free_locked(static_cast<ChannelNumber>(n))) return take_locked(static_cast<ChannelNumber>(n), group, shared);
  }
  if (!recent_.empty()) {
    const ChannelNumber n = recent_.front();
    recent_.pop_front();
    recent_set_.erase(n);
    return take_locked(n, group, shared);
  }
  return 0;
}

void ChannelRegistry::release(ChannelNumber n) {
  std::lock_guard lock(mu_);
  if (in_use_.erase(n) == 0) return;
  recent_.push_back(n);
  recent_set_.insert(n);
  if (recent_.size() > kQuarantine) {
    recent_set_.erase(recent_.front());
    recent_.pop_front();
  }
}

std::shared_ptr<ChannelShared> ChannelRegistry::find(ChannelNumber n) const {
  std::lock_guard lock(mu_);
  const auto it = in_use_.find(n);
  return it == in_use_.end() ? nullptr : it->second;
}

std::size_t ChannelRegistry::size() const {
  std::lock_guard lock(mu_);
  return in_use_.size();
}

}  // namespace tofu::detail
