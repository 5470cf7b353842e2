#pragma once
// Channel numbers: local to one engine, picked at random from 1..65534 (0 = "assign me one",
// 65535 reserved), skipping numbers in use and the last 1024 released ones so a late message
// for a closed channel does not land on a new one. Shared by post() (application threads) and
// the reactor, hence the mutex.
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "tofu/message.hpp"

namespace tofu::detail {

class ChannelRegistry {
 public:
  static constexpr ChannelNumber kFirst = 1;
  static constexpr ChannelNumber kLast = 65534;
  static constexpr std::size_t kQuarantine = 1024;

  // A free number owned by `group`, or 0 when every number is taken.
  ChannelNumber allocate(std::uint64_t group);
  void release(ChannelNumber n);
  [[nodiscard]] std::optional<std::uint64_t> owner(ChannelNumber n) const;
  [[nodiscard]] std::size_t size() const;

 private:
  [[nodiscard]] bool free_locked(ChannelNumber n) const;

  mutable std::mutex mu_;
  std::unordered_map<ChannelNumber, std::uint64_t> owner_;
  std::deque<ChannelNumber> recent_;
  std::unordered_set<ChannelNumber> recent_set_;
  std::minstd_rand rng_{std::random_device{}()};
};

}  // namespace tofu::detail
