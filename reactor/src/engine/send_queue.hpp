#pragma once
// A channel's messages on their way out, in order. A vector read from a moving head: nothing is
// allocated until the first message (std::deque allocates ~576 bytes as soon as it exists, which
// an idle channel paid for nothing, D-87), and a queue that empties reuses its storage.
#include <cstddef>
#include <vector>

#include "tofu/pool.hpp"

namespace tofu::detail {

class SendQueue {
 public:
  [[nodiscard]] bool empty() const noexcept { return head_ == items_.size(); }
  [[nodiscard]] std::size_t size() const noexcept { return items_.size() - head_; }
  MessagePtr& operator[](std::size_t i) noexcept { return items_[head_ + i]; }
  MessagePtr& front() noexcept { return items_[head_]; }

  void push_back(MessagePtr m) { items_.push_back(std::move(m)); }
  // Inserts at position i (0 = the front); used for out-of-band messages only.
  void insert(std::size_t i, MessagePtr m) {
    items_.insert(items_.begin() + static_cast<std::ptrdiff_t>(head_ + i), std::move(m));
  }
  void pop_front() noexcept {
    ++head_;
    if (head_ == items_.size()) {
      clear();
    } else if (head_ >= 64 && head_ * 2 >= items_.size()) {
      // A queue that never empties (a steady backlog): drop the spent prefix, amortised O(1).
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  // Spent (moved-from) elements stay until the queue empties or half of it is spent.
  void clear() noexcept {
    items_.clear();
    head_ = 0;
  }

  auto begin() noexcept { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() noexcept { return items_.end(); }

 private:
  std::vector<MessagePtr> items_;
  std::size_t head_ = 0;
};

}  // namespace tofu::detail
