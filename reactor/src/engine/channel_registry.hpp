#pragma once
// Channel numbers: local to one engine, picked at random from 1..65534 (0 = "assign me one",
// 65535 reserved), skipping numbers in use and the last 1024 released ones so a late message
// for a closed channel does not land on a new one. Each number in use carries a ChannelShared:
// what post() must know about a channel without asking the reactor. Allocation and release take
// a mutex (once per channel); finding a number's ChannelShared, which every post() does, takes
// no lock and touches no reference count (D-80).
#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <unordered_set>
#include <vector>

#include "tofu/message.hpp"

namespace tofu::detail {

// The part of a channel that application threads read and write (spec section 9.1). These objects
// live as long as the registry and are reused for later channels, so a pointer to one never
// dangles; the generation tells one use from the next.
struct ChannelShared {
  // The owning group's id while the number is in use, 0 when it is free.
  std::atomic<std::uint64_t> group{0};
  // generation (24 bits) << 40 | queued (20 bits) << 20 | units (20 bits). queued = messages posted
  // to this channel and not yet written or handed back, units = their frames' size in 64-byte units:
  // post() reserves both (refusing past either cap with send_queue_full), the reactor releases them
  // (D-28, D-100). The generation changes each time the object is given to a new channel, so a
  // reservation or release meant for an earlier channel fails instead of counting here.
  std::atomic<std::uint64_t> counts{0};
  // An accepted channel: the application's first message on it must be the HelloResponse (D-34).
  std::atomic<bool> awaiting_hello_response{false};
  // generation << 1 | 1 while the channel's socket refuses writes (Channel::write_blocked), else 0;
  // written by the loop's holder, read by post() under the loop mutex (D-98). Tagged with the
  // generation so a value left by an earlier channel never matches a later one.
  std::atomic<std::uint64_t> write_blocked{0};

  static constexpr unsigned kFieldBits = 20;
  static constexpr std::uint64_t kFieldMask = (std::uint64_t{1} << kFieldBits) - 1;
  static constexpr std::uint32_t kGenerationMask = (std::uint32_t{1} << 24) - 1;
  // Most messages, and most units, a channel may hold queued: the caps are clamped to these.
  static constexpr std::uint32_t kMaxQueued = static_cast<std::uint32_t>(kFieldMask);
  // A reservation is admitted below the cap, so one frame (at most 2,049 units) may cross it.
  static constexpr std::uint32_t kMaxUnitsCap = static_cast<std::uint32_t>(kFieldMask) - 4096;

  static constexpr std::uint32_t generation_of(std::uint64_t c) noexcept { return static_cast<std::uint32_t>(c >> 40); }
  static constexpr std::uint32_t queued_of(std::uint64_t c) noexcept { return static_cast<std::uint32_t>((c >> kFieldBits) & kFieldMask); }
  static constexpr std::uint32_t units_of(std::uint64_t c) noexcept { return static_cast<std::uint32_t>(c & kFieldMask); }
  static constexpr std::uint64_t pack(std::uint32_t gen, std::uint32_t queued, std::uint32_t units) noexcept {
    return std::uint64_t{gen & kGenerationMask} << 40 | std::uint64_t{queued} << kFieldBits | units;
  }
  // The 64-byte units a message's frame counts for (header, text headers and body, rounded up).
  static std::uint32_t units_for(const Message& m) noexcept {
    return static_cast<std::uint32_t>((kBinaryHeaderSize + m.text_headers.size_bytes() + m.body_size() + 63) / 64);
  }

  enum class Reserve : std::uint8_t { ok, full, gone };
  // One more queued message of generation `gen`, of `units`: full when `max` messages, or
  // `max_units` units or more, are queued; gone when the object was given to another channel since.
  Reserve try_reserve(std::uint32_t gen, std::uint32_t max, std::uint32_t units, std::uint32_t max_units) noexcept {
    std::uint64_t c = counts.load(std::memory_order_relaxed);
    const std::uint64_t add = std::uint64_t{1} << kFieldBits | units;
    do {
      if (generation_of(c) != gen) return Reserve::gone;
      if (queued_of(c) >= max || units_of(c) >= max_units) return Reserve::full;
    } while (!counts.compare_exchange_weak(c, c + add, std::memory_order_acq_rel, std::memory_order_relaxed));
    return Reserve::ok;
  }
  // Frees n queued messages of `units` in all, of generation `gen` (nothing when the object moved
  // on since).
  void release(std::uint32_t gen, std::uint32_t n, std::uint32_t units) noexcept {
    std::uint64_t c = counts.load(std::memory_order_relaxed);
    const std::uint64_t sub = std::uint64_t{n} << kFieldBits | units;
    do {
      if (generation_of(c) != gen || queued_of(c) < n || units_of(c) < units) return;
    } while (!counts.compare_exchange_weak(c, c - sub, std::memory_order_acq_rel, std::memory_order_relaxed));
  }
};

// A channel's ChannelShared and the generation it had when the channel was opened (or found).
struct ChannelRef {
  ChannelShared* shared = nullptr;
  std::uint32_t gen = 0;
  explicit operator bool() const noexcept { return shared != nullptr; }
  ChannelShared::Reserve try_reserve(std::uint32_t max, std::uint32_t units, std::uint32_t max_units) const noexcept {
    return shared->try_reserve(gen, max, units, max_units);
  }
  void release(std::uint32_t n, std::uint32_t units) const noexcept {
    if (shared != nullptr) shared->release(gen, n, units);
  }
  void set_write_blocked(bool blocked) const noexcept {
    if (shared != nullptr) shared->write_blocked.store(blocked ? (std::uint64_t{gen} << 1 | 1) : 0, std::memory_order_relaxed);
  }
  [[nodiscard]] bool write_blocked() const noexcept {
    return shared != nullptr && shared->write_blocked.load(std::memory_order_relaxed) == (std::uint64_t{gen} << 1 | 1);
  }
};

class ChannelRegistry {
 public:
  static constexpr ChannelNumber kFirst = 1;
  static constexpr ChannelNumber kLast = 65534;
  static constexpr std::size_t kQuarantine = 1024;

  ChannelRegistry() = default;
  ~ChannelRegistry();
  ChannelRegistry(const ChannelRegistry&) = delete;
  ChannelRegistry& operator=(const ChannelRegistry&) = delete;

  // A free number owned by `group` (0 when every number is taken); `ref` gets its state, with
  // `queued` messages of `units` already counted and awaiting_hello_response set as given.
  ChannelNumber allocate(std::uint64_t group, ChannelRef* ref, std::uint32_t queued = 0, std::uint32_t units = 0,
                         bool awaiting_hello_response = false);
  void release(ChannelNumber n);
  // Channel n if it is in use by `group`, else an empty ref. Any thread; lock-free.
  [[nodiscard]] ChannelRef find(ChannelNumber n, std::uint64_t group) const noexcept;
  [[nodiscard]] std::size_t size() const;

 private:
  static constexpr std::size_t kPageBits = 8;
  static constexpr std::size_t kPageSize = std::size_t{1} << kPageBits;
  using Page = std::array<std::atomic<ChannelShared*>, kPageSize>;

  [[nodiscard]] bool free_locked(ChannelNumber n) const;
  ChannelNumber take_locked(ChannelNumber n, std::uint64_t group, ChannelRef* ref, std::uint32_t queued, std::uint32_t units,
                            bool awaiting);
  [[nodiscard]] std::atomic<ChannelShared*>* slot(ChannelNumber n) const noexcept;

  mutable std::mutex mu_;
  // number -> its ChannelShared while in use: 256 pages of 256, a page allocated when first needed
  // (an engine with a few channels stays small).
  std::array<std::atomic<Page*>, 65536 / kPageSize> pages_{};
  std::vector<std::unique_ptr<ChannelShared[]>> blocks_;  // every ChannelShared ever made
  std::vector<ChannelShared*> spare_;                     // made and not in use
  std::size_t in_use_ = 0;
  std::deque<ChannelNumber> recent_;
  std::unordered_set<ChannelNumber> recent_set_;
  std::minstd_rand rng_{std::random_device{}()};
};

}  // namespace tofu::detail
