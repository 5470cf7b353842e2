#include "engine/channel_registry.hpp"

namespace tofu::detail {
namespace {
constexpr std::size_t kBlock = 64;  // ChannelShared objects made at a time
}

ChannelRegistry::~ChannelRegistry() {
  for (auto& p : pages_) delete p.load(std::memory_order_relaxed);
}

std::atomic<ChannelShared*>* ChannelRegistry::slot(ChannelNumber n) const noexcept {
  Page* page = pages_[n >> kPageBits].load(std::memory_order_acquire);
  return page == nullptr ? nullptr : &(*page)[n & (kPageSize - 1)];
}

bool ChannelRegistry::free_locked(ChannelNumber n) const {
  const auto* s = slot(n);
  return (s == nullptr || s->load(std::memory_order_relaxed) == nullptr) && !recent_set_.contains(n);
}

ChannelNumber ChannelRegistry::take_locked(ChannelNumber n, std::uint64_t group, ChannelRef* ref,
                                           std::uint32_t queued, std::uint32_t units, bool awaiting) {
  if (spare_.empty()) {
    blocks_.push_back(std::make_unique<ChannelShared[]>(kBlock));
    for (std::size_t i = kBlock; i > 0; --i) spare_.push_back(&blocks_.back()[i - 1]);
  }
  ChannelShared* s = spare_.back();
  spare_.pop_back();
  // The group first, then the counts with a new generation (release): a post() that sees the new
  // generation also sees the new owner (ChannelRegistry::find reads them in the other order).
  s->awaiting_hello_response.store(awaiting, std::memory_order_relaxed);
  s->group.store(group, std::memory_order_relaxed);
  const std::uint32_t gen =
      (ChannelShared::generation_of(s->counts.load(std::memory_order_relaxed)) + 1) & ChannelShared::kGenerationMask;
  s->counts.store(ChannelShared::pack(gen, queued, units), std::memory_order_release);
  auto& page = pages_[n >> kPageBits];
  if (page.load(std::memory_order_relaxed) == nullptr) page.store(new Page{}, std::memory_order_release);
  (*page.load(std::memory_order_relaxed))[n & (kPageSize - 1)].store(s, std::memory_order_release);
  ++in_use_;
  if (ref != nullptr) *ref = ChannelRef{s, gen};
  return n;
}

ChannelNumber ChannelRegistry::allocate(std::uint64_t group, ChannelRef* ref, std::uint32_t queued, std::uint32_t units,
                                       bool awaiting) {
  std::lock_guard lock(mu_);
  std::uniform_int_distribution<unsigned> pick(kFirst, kLast);
  for (int attempt = 0; attempt < 64; ++attempt) {
    const auto n = static_cast<ChannelNumber>(pick(rng_));
    if (free_locked(n)) return take_locked(n, group, ref, queued, units, awaiting);
  }
  // Nearly full: scan. Quarantined numbers are used only when nothing else is left.
  for (unsigned n = kFirst; n <= kLast; ++n) {
    if (free_locked(static_cast<ChannelNumber>(n))) return take_locked(static_cast<ChannelNumber>(n), group, ref, queued, units, awaiting);
  }
  if (!recent_.empty()) {
    const ChannelNumber n = recent_.front();
    recent_.pop_front();
    recent_set_.erase(n);
    return take_locked(n, group, ref, queued, units, awaiting);
  }
  return 0;
}

void ChannelRegistry::release(ChannelNumber n) {
  std::lock_guard lock(mu_);
  auto* s = slot(n);
  ChannelShared* shared = s == nullptr ? nullptr : s->load(std::memory_order_relaxed);
  if (shared == nullptr) return;
  s->store(nullptr, std::memory_order_release);
  shared->group.store(0, std::memory_order_release);
  spare_.push_back(shared);
  --in_use_;
  recent_.push_back(n);
  recent_set_.insert(n);
  if (recent_.size() > kQuarantine) {
    recent_set_.erase(recent_.front());
    recent_.pop_front();
  }
}

ChannelRef ChannelRegistry::find(ChannelNumber n, std::uint64_t group) const noexcept {
  const auto* s = slot(n);
  ChannelShared* shared = s == nullptr ? nullptr : s->load(std::memory_order_acquire);
  if (shared == nullptr) return {};
  // Counts before group (see take_locked): the generation read here belongs to an owner no newer
  // than the group checked below, so a reservation made with it cannot land on a later channel.
  const std::uint64_t c = shared->counts.load(std::memory_order_acquire);
  if (shared->group.load(std::memory_order_acquire) != group) return {};
  return ChannelRef{shared, ChannelShared::generation_of(c)};
}

std::size_t ChannelRegistry::size() const {
  std::lock_guard lock(mu_);
  return in_use_;
}

}  // namespace tofu::detail
