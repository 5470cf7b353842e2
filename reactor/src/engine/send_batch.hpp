#pragma once
// The buffers of one gathered send (D-97). Small parts (a frame's 16-byte header, short text
// headers and bodies) are copied into one contiguous staging area, and a run of them becomes a
// single buffer; large parts are passed by reference. A stream of 64-byte messages is then one
// buffer per send instead of two per message: the kernel's per-buffer cost of copying from user
// memory was the largest single item of the 64 B stream profile. Only what is about to be sent is
// copied, so a partial send needs nothing special: the unsent rest is gathered again next time.
#include <array>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>

#include "platform/common/socket_ops.hpp"

namespace tofu::detail {

class SendBatch {
 public:
  static constexpr std::size_t kCopyLimit = 512;       // parts up to this size are copied
  static constexpr std::size_t kStaging = 64 * 1024;   // copied bytes per send
  static constexpr std::size_t kMaxBuffers = 128;      // what platform::send_some passes at once

  SendBatch() : staging_(std::make_unique<std::byte[]>(kStaging)) {}

  void clear() noexcept {
    count_ = 0;
    staged_ = 0;
    last_staged_ = false;
  }
  // True when `parts` more buffers surely fit (a frame has at most 3).
  [[nodiscard]] bool has_room(std::size_t parts) const noexcept { return count_ + parts <= kMaxBuffers; }

  void add(platform::ConstBuffer b) {
    if (b.size == 0) return;
    if (b.size <= kCopyLimit && staged_ + b.size <= kStaging) {
      std::byte* at = staging_.get() + staged_;
      std::memcpy(at, b.data, b.size);
      staged_ += b.size;
      if (last_staged_) {
        buffers_[count_ - 1].size += b.size;  // the staging area is contiguous
      } else {
        buffers_[count_++] = platform::ConstBuffer{at, b.size};
        last_staged_ = true;
      }
      return;
    }
    buffers_[count_++] = b;
    last_staged_ = false;
  }

  [[nodiscard]] std::span<const platform::ConstBuffer> buffers() const noexcept { return {buffers_.data(), count_}; }

 private:
  std::unique_ptr<std::byte[]> staging_;
  std::array<platform::ConstBuffer, kMaxBuffers> buffers_{};
  std::size_t count_ = 0;
  std::size_t staged_ = 0;
  bool last_staged_ = false;
};

}  // namespace tofu::detail
