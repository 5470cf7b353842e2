#pragma once
// The reactor's timers (spec section 9.5): a min-heap of (when, channel key). Entries are never
// removed early: the engine re-checks a channel's real deadline when its entry comes due, so
// moving a deadline later costs nothing and each channel has few entries at a time.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace tofu::detail {

using Clock = std::chrono::steady_clock;

class DeadlineQueue {
 public:
  struct Entry {
    Clock::time_point when;
    std::uint64_t key;
  };

  void push(Clock::time_point when, std::uint64_t key) {
    heap_.push_back({when, key});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }
  [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
  // The earliest entry's time (the queue must not be empty).
  [[nodiscard]] Clock::time_point next() const noexcept { return heap_.front().when; }

  // Removes and returns the earliest entry if it is due at `now`.
  bool pop_due(Clock::time_point now, Entry& out) {
    if (heap_.empty() || heap_.front().when > now) return false;
    std::pop_heap(heap_.begin(), heap_.end(), later);
    out = heap_.back();
    heap_.pop_back();
    return true;
  }

  // Drops every entry for which `stale(entry)` is true (one pass plus a heap rebuild).
  template <class Stale>
  void remove_if(Stale&& stale) {
    std::erase_if(heap_, stale);
    std::make_heap(heap_.begin(), heap_.end(), later);
  }

  // Milliseconds a wait may last before the earliest entry is due: -1 (none), 0 (due), else
  // rounded up so the wait never ends just before the deadline.
  [[nodiscard]] int wait_ms(Clock::time_point now) const noexcept {
    if (heap_.empty()) return -1;
    if (heap_.front().when <= now) return 0;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(heap_.front().when - now).count();
    const long long ms = (ns + 999'999) / 1'000'000;
    return static_cast<int>(std::min<long long>(ms, 24LL * 3600 * 1000));
  }

 private:
  static bool later(const Entry& a, const Entry& b) noexcept { return a.when > b.when; }
  std::vector<Entry> heap_;
};

}  // namespace tofu::detail
