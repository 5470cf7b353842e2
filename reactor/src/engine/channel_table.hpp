#pragma once
// The loop's channels by number: 256 pages of 256 slots, a page allocated when first used. Finding
// a channel (every event, every post) is two loads; a few channels cost a few pages (D-85).
#include <array>
#include <cstddef>
#include <memory>

#include "engine/channel.hpp"

namespace tofu::detail {

class ChannelTable {
 public:
  [[nodiscard]] Channel* find(ChannelNumber n) const noexcept {
    const Page* page = pages_[n >> kPageBits].get();
    return page == nullptr ? nullptr : (*page)[n & (kPageSize - 1)].get();
  }

  // Stores `ch` under its number; the slot must be empty.
  Channel* insert(std::unique_ptr<Channel> ch) {
    auto& page = pages_[ch->number >> kPageBits];
    if (!page) page = std::make_unique<Page>();
    auto& slot = (*page)[ch->number & (kPageSize - 1)];
    slot = std::move(ch);
    ++size_;
    return slot.get();
  }

  void erase(ChannelNumber n) noexcept {
    Page* page = pages_[n >> kPageBits].get();
    if (page == nullptr) return;
    auto& slot = (*page)[n & (kPageSize - 1)];
    if (slot) {
      slot.reset();
      --size_;
    }
  }

  // Calls f(Channel&) for every channel, in number order. f must not insert or erase.
  template <class F>
  void for_each(F&& f) {
    for (auto& page : pages_) {
      if (!page) continue;
      for (auto& slot : *page) {
        if (slot) f(*slot);
      }
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  static constexpr std::size_t kPageBits = 8;
  static constexpr std::size_t kPageSize = std::size_t{1} << kPageBits;
  using Page = std::array<std::unique_ptr<Channel>, kPageSize>;
  std::array<std::unique_ptr<Page>, 65536 / kPageSize> pages_{};
  std::size_t size_ = 0;
};

}  // namespace tofu::detail
