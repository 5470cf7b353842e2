#include "tofu/codec.hpp"

#include <algorithm>
#include <cstring>

namespace tofu {

// ---- encoder -------------------------------------------------------------------------------------

void FrameEncoder::start(const Message& m) noexcept {
  const auto thdrs = m.text_headers.bytes();
  const auto body = m.body();
  const std::size_t thl = std::min(thdrs.size(), kMaxTextHeadersLen);
  const std::size_t bl = std::min(body.size(), kMaxBodyLen);
  BinaryHeader h = m.header;
  h.text_headers_len = static_cast<std::uint16_t>(thl);
  h.body_len = static_cast<std::uint16_t>(bl);
  encode_header(h, header_);
  parts_[0] = {header_.data(), header_.size()};
  parts_[1] = {thdrs.data(), thl};
  parts_[2] = {body.data(), bl};
  part_ = 0;
  offset_ = 0;
  total_ = remaining_ = kBinaryHeaderSize + thl + bl;
}

std::size_t FrameEncoder::buffers(std::span<ConstBuffer> out) const noexcept {
  std::size_t n = 0;
  std::size_t skip = offset_;
  for (std::size_t i = part_; i < parts_.size() && n < out.size(); ++i) {
    const ConstBuffer& p = parts_[i];
    if (p.size > skip) out[n++] = {p.data + skip, p.size - skip};
    skip = 0;
  }
  return n;
}

bool FrameEncoder::advance(std::size_t n) noexcept {
  n = std::min(n, remaining_);
  remaining_ -= n;
  while (n > 0 && part_ < parts_.size()) {
    const std::size_t left = parts_[part_].size - offset_;
    if (n < left) {
      offset_ += n;
      n = 0;
    } else {
      n -= left;
      ++part_;
      offset_ = 0;
    }
  }
  // Step over exhausted (or empty) parts so buffers() starts at real data.
  while (part_ < parts_.size() && parts_[part_].size == offset_) {
    ++part_;
    offset_ = 0;
  }
  return remaining_ == 0;
}

void encode_to(const Message& m, std::vector<std::byte>& out) {
  FrameEncoder enc;
  enc.start(m);
  std::array<ConstBuffer, 3> bufs{};
  const std::size_t n = enc.buffers(bufs);
  out.reserve(out.size() + enc.frame_size());
  for (std::size_t i = 0; i < n; ++i) out.insert(out.end(), bufs[i].data, bufs[i].data + bufs[i].size);
}

// ---- decoder -------------------------------------------------------------------------------------

bool FrameDecoder::mid_frame() const noexcept {
  switch (phase_) {
    case Phase::header: return have_ > 0;
    case Phase::text_headers:
    case Phase::body: return true;
    case Phase::failed: return false;
  }
  return false;
}

void FrameDecoder::reset() noexcept {
  phase_ = Phase::header;
  error_ = Status::success;
  have_ = 0;
  need_ = kBinaryHeaderSize;
  body_len_ = 0;
}

DecodeStep FrameDecoder::fail(Status s, std::size_t consumed) noexcept {
  phase_ = Phase::failed;
  error_ = s;
  return {DecodeState::error, consumed, s};
}

DecodeStep FrameDecoder::feed(std::span<const std::byte> in, Message& target) {
  if (phase_ == Phase::failed) return {DecodeState::error, 0, error_};
  std::size_t used = 0;
  for (;;) {
    // Copy what is available of the current part.
    const std::size_t take = std::min(need_ - have_, in.size() - used);
    if (take > 0) {
      // The target grows by what arrives (its capacity was reserved when the header completed), so
      // a peer that announces a large frame and sends little costs no zero-filling. Sizing to
      // have_ + take before every copy also keeps a misused target (a different one mid-frame)
      // memory-safe.
      std::byte* dst = nullptr;
      switch (phase_) {
        case Phase::header: dst = header_.data(); break;
        case Phase::text_headers: dst = target.text_headers.resize_raw(have_ + take).data(); break;
        case Phase::body: dst = target.resize_body(have_ + take).data(); break;
        case Phase::failed: return {DecodeState::error, used, error_};
      }
      std::memcpy(dst + have_, in.data() + used, take);
      have_ += take;
      used += take;
    }
    if (have_ < need_) return {DecodeState::need_more, used, Status::success};

    // The current part is complete: validate it and move on.
    switch (phase_) {
      case Phase::header: {
        const BinaryHeader h = decode_header(header_);
        const auto raw_op = static_cast<std::uint8_t>(std::to_integer<unsigned>(header_[2]) & 0x0Fu);
        if (!is_valid_opcode(raw_op)) return fail(Status::invalid_op_code, used);
        if (h.origin != Origin::application || header_[3] != std::byte{0}) return fail(Status::invalid_message, used);
        if (h.text_headers_len > limits_.max_text_headers) return fail(Status::invalid_headers_len, used);
        if (h.body_len > limits_.max_body) return fail(Status::invalid_body_len, used);
        target.header = h;
        target.text_headers.clear();
        target.text_headers.reserve(h.text_headers_len);
        target.clear_body();
        target.reserve_body(h.body_len);
        body_len_ = h.body_len;
        phase_ = Phase::text_headers;
        have_ = 0;
        need_ = h.text_headers_len;
        break;
      }
      case Phase::text_headers:
        if (const Status s = check_text_headers(target.text_headers.view()); s != Status::success) {
          return fail(s, used);
        }
        phase_ = Phase::body;
        have_ = 0;
        need_ = body_len_;
        break;
      case Phase::body:
        phase_ = Phase::header;
        have_ = 0;
        need_ = kBinaryHeaderSize;
        return {DecodeState::complete, used, Status::success};
      case Phase::failed:
        return {DecodeState::error, used, error_};
    }
  }
}

}  // namespace tofu
