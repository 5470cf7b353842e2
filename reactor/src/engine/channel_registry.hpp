#pragma once
// Channel numbers: local to one engine, picked at random from 1..65534 (0 = "assign me one",
// 65535 reserved), skipping numbers in use and the last 1024 released ones so a late message
// for a closed channel does not land on a new one. Shared by post() (application threads) and
// the reactor, hence the mutex. Each number in use carries a ChannelShared: what post() must know
// about a channel without asking the reactor.
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "tofu/message.hpp"

namespace tofu::detail {

// The part of a channel that application threads read and write (spec section 9.1).
struct ChannelShared {
  explicit ChannelShared(std::uint64_t owner_group) : group(owner_group) {}
  const std::uint64_t group;
  // Messages posted to this channel and not yet written or handed back: post() reserves one
  // (refusing past the cap with send_queue_full), the reactor releases it (D-28).
  std::atomic<std::uint32_t> queued{0};
  // An accepted channel: the application's first message on it must be the HelloResponse (D-34).
  std::atomic<bool> awaiting_hello_response{false};
};

class ChannelRegistry {
 public:
  static constexpr ChannelNumber kFirst = 1;
  static constexpr ChannelNumber kLast = 65534;
  static constexpr std::size_t kQuarantine = 1024;

  // A free number owned by `group` (0 when every number is taken); `shared` gets its state.
  ChannelNumber allocate(std::uint64_t group, std::shared_ptr<ChannelShared>* shared = nullptr);
  void release(ChannelNumber n);
  // The state of channel n, or nullptr when n is not in use.
  [[nodiscard]] std::shared_ptr<ChannelShared> find(ChannelNumber n) const;
  [[nodiscard]] std::size_t size() const;

 private:
  [[nodiscard]] bool free_locked(ChannelNumber n) const;
  ChannelNumber take_locked(ChannelNumber n, std::uint64_t group, std::shared_ptr<ChannelShared>* shared);

  mutable std::mutex mu_;
  std::unordered_map<ChannelNumber, std::shared_ptr<ChannelShared>> in_use_;
  std::deque<ChannelNumber> recent_;
  std::unordered_set<ChannelNumber> recent_set_;
  std::minstd_rand rng_{std::random_device{}()};
};

}  // namespace tofu::detail
