#pragma once
// The buffers of one gathered send (D-97). When the send holds more than one frame, small parts (a
// frame's 16-byte header, short text headers and bodies) are copied into one contiguous staging
// area, and a run of them becomes a single buffer; large parts are passed by reference. A stream of
// 64-byte messages is then one buffer per send instead of two per message: the kernel's per-buffer
// cost of copying from user memory was the largest single item of the 64 B stream profile. A lone
// frame (request/response traffic) is passed as it is: nothing to gain from a copy. Only what is
// about to be sent is copied, so a partial send needs nothing special: the unsent rest is gathered
// again next time.
#include <array>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>

#include "platform/common/socket_ops.hpp"

namespace tofu::detail {

class SendBatch {
 public:
  static constexpr std::size_t kCopyLimit = 512;      // parts up to this size are copied
  static constexpr std::size_t kStaging = 64 * 1024;  // copied bytes per send
  static constexpr std::size_t kMaxBuffers = 128;     // what platform::send_some passes at once
  static constexpr std::size_t kFrameParts = 3;       // header, text headers, body

  SendBatch() : staging_(std::make_unique_for_overwrite<std::byte[]>(kStaging)) {}  // written before read

  void clear() noexcept { count_ = 0; }
  // True when one more frame's parts surely fit.
  [[nodiscard]] bool has_room() const noexcept { return count_ + kFrameParts <= kMaxBuffers; }
  void add(platform::ConstBuffer b) noexcept {
    if (b.size > 0) parts_[count_++] = b;
  }

  // The buffers to send: the parts as added when they are few (one frame), else with runs of small
  // parts copied together.
  [[nodiscard]] std::span<const platform::ConstBuffer> buffers() noexcept {
    if (count_ <= kFrameParts) return {parts_.data(), count_};
    std::size_t n = 0;
    std::size_t staged = 0;
    bool last_staged = false;
    for (std::size_t i = 0; i < count_; ++i) {
      const platform::ConstBuffer b = parts_[i];
      if (b.size <= kCopyLimit && staged + b.size <= kStaging) {
        std::byte* at = staging_.get() + staged;
        std::memcpy(at, b.data, b.size);
        staged += b.size;
        if (last_staged) {
          out_[n - 1].size += b.size;  // the staging area is contiguous
        } else {
          out_[n++] = platform::ConstBuffer{at, b.size};
          last_staged = true;
        }
      } else {
        out_[n++] = b;
        last_staged = false;
      }
    }
    return {out_.data(), n};
  }

 private:
  std::unique_ptr<std::byte[]> staging_;
  std::array<platform::ConstBuffer, kMaxBuffers> parts_{};
  std::array<platform::ConstBuffer, kMaxBuffers> out_{};
  std::size_t count_ = 0;
};

}  // namespace tofu::detail
