#include "engine/channel_registry.hpp"

namespace tofu::detail {

bool ChannelRegistry::free_locked(ChannelNumber n) const {
  return !owner_.contains(n) && !recent_set_.contains(n);
}

ChannelNumber ChannelRegistry::allocate(std::uint64_t group) {
  std::lock_guard lock(mu_);
  std::uniform_int_distribution<unsigned> pick(kFirst, kLast);
  for (int attempt = 0; attempt < 64; ++attempt) {
    const auto n = static_cast<ChannelNumber>(pick(rng_));
    if (free_locked(n)) {
      owner_.emplace(n, group);
      return n;
    }
  }
  // Nearly full: scan. Quarantined numbers are used only when nothing else is left.
  for (unsigned n = kFirst; n <= kLast; ++n) {
    if (free_locked(static_cast<ChannelNumber>(n))) {
      owner_.emplace(static_cast<ChannelNumber>(n), group);
      return static_cast<ChannelNumber>(n);
    }
  }
  if (!recent_.empty()) {
    const ChannelNumber n = recent_.front();
    recent_.pop_front();
    recent_set_.erase(n);
    owner_.emplace(n, group);
    return n;
  }
  return 0;
}

void ChannelRegistry::release(ChannelNumber n) {
  std::lock_guard lock(mu_);
  if (owner_.erase(n) == 0) return;
  recent_.push_back(n);
  recent_set_.insert(n);
  if (recent_.size() > kQuarantine) {
    recent_set_.erase(recent_.front());
    recent_.pop_front();
  }
}

std::optional<std::uint64_t> ChannelRegistry::owner(ChannelNumber n) const {
  std::lock_guard lock(mu_);
  const auto it = owner_.find(n);
  if (it == owner_.end()) return std::nullopt;
  return it->second;
}

std::size_t ChannelRegistry::size() const {
  std::lock_guard lock(mu_);
  return owner_.size();
}

}  // namespace tofu::detail
