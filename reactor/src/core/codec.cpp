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

namespace {
// v := its first `at` bytes, then n bytes from src (no zero-filling in between).
void append_at(std::vector<std::byte>& v, std::size_t at, const std::byte* src, std::size_t n) {
  if (v.size() != at) v.resize(at);
  v.insert(v.end(), src, src + n);
}
}  // namespace

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
  target_ready_ = false;
}

std::size_t FrameDecoder::frame_remaining() const noexcept {
  switch (phase_) {
    case Phase::text_headers: return (need_ - have_) + body_len_;
    case Phase::body: return need_ - have_;
    case Phase::header:
    case Phase::failed: break;
  }
  return 0;
}

Status FrameDecoder::header_complete() noexcept {
  const BinaryHeader h = decode_header(header_);
  const auto raw_op = static_cast<std::uint8_t>(std::to_integer<unsigned>(header_[2]) & 0x0Fu);
  if (!is_valid_opcode(raw_op)) return Status::invalid_op_code;
  if (h.origin != Origin::application || header_[3] != std::byte{0} || h.internal_b) return Status::invalid_message;
  // What post() refuses to send, a receiver refuses to accept (D-34).
  if (h.more && !is_regular(h.opcode)) return Status::invalid_more_usage;
  if (is_response(h.opcode) && h.message_id == 0) return Status::invalid_message_id;
  if (h.text_headers_len > limits_.max_text_headers) return Status::invalid_headers_len;
  if (h.body_len > limits_.max_body) return Status::invalid_body_len;
  current_ = h;
  body_len_ = h.body_len;
  phase_ = Phase::text_headers;
  have_ = 0;
  need_ = h.text_headers_len;
  target_ready_ = false;
  return Status::success;
}

void FrameDecoder::prepare(Message& target) {
  target.header = current_;
  target.text_headers.clear();
  target.text_headers.reserve(current_.text_headers_len);
  target.clear_body();
  target.reserve_body(current_.body_len);
  target_ready_ = true;
}

DecodeStep FrameDecoder::feed_header(std::span<const std::byte> in) noexcept {
  if (phase_ == Phase::failed) return {DecodeState::error, 0, error_};
  if (phase_ != Phase::header) return {DecodeState::complete, 0, Status::success};
  const std::size_t take = std::min(need_ - have_, in.size());
  std::memcpy(header_.data() + have_, in.data(), take);
  have_ += take;
  if (have_ < need_) return {DecodeState::need_more, take, Status::success};
  if (const Status s = header_complete(); s != Status::success) return fail(s, take);
  return {DecodeState::complete, take, Status::success};
}

DecodeStep FrameDecoder::fail(Status s, std::size_t consumed) noexcept {
  phase_ = Phase::failed;
  error_ = s;
  return {DecodeState::error, consumed, s};
}

DecodeStep FrameDecoder::feed(std::span<const std::byte> in, Message& target) {
  if (phase_ == Phase::failed) return {DecodeState::error, 0, error_};
  if (phase_ == Phase::text_headers && have_ == 0 && !target_ready_ && in.size() >= need_ + body_len_) {
    // The whole rest of the frame is in hand (the usual case after feed_header): two straight
    // copies into the target, sized exactly.
    const std::byte* p = in.data();
    target.header = current_;
    target.text_headers.raw_.assign(p, p + need_);
    if (need_ > 0) {
      if (const Status s = check_text_headers(target.text_headers.view()); s != Status::success) return fail(s, need_);
    }
    target.body_.assign(p + need_, p + need_ + body_len_);
    const std::size_t used = need_ + body_len_;
    phase_ = Phase::header;
    have_ = 0;
    need_ = kBinaryHeaderSize;
    return {DecodeState::complete, used, Status::success};
  }
  if (phase_ != Phase::header && !target_ready_) prepare(target);
  std::size_t used = 0;
  for (;;) {
    // Copy what is available of the current part.
    const std::size_t take = std::min(need_ - have_, in.size() - used);
    if (take > 0) {
      // The target grows by what arrives (its capacity was reserved when the header completed), so
      // a peer that announces a large frame and sends little costs nothing more. The bytes are
      // appended at have_ (the target's part is cut to that first), which keeps a misused target
      // (a different one mid-frame) memory-safe.
      const std::byte* src = in.data() + used;
      switch (phase_) {
        case Phase::header: std::memcpy(header_.data() + have_, src, take); break;
        case Phase::text_headers: append_at(target.text_headers.raw_, have_, src, take); break;
        case Phase::body: append_at(target.body_, have_, src, take); break;
        case Phase::failed: return {DecodeState::error, used, error_};
      }
      have_ += take;
      used += take;
    }
    if (have_ < need_) return {DecodeState::need_more, used, Status::success};

    // The current part is complete: validate it and move on.
    switch (phase_) {
      case Phase::header:
        if (const Status s = header_complete(); s != Status::success) return fail(s, used);
        prepare(target);
        break;
      case Phase::text_headers:
        if (const Status s = need_ == 0 ? Status::success : check_text_headers(target.text_headers.view());
            s != Status::success) {
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
        target_ready_ = false;
        return {DecodeState::complete, used, Status::success};
      case Phase::failed:
        return {DecodeState::error, used, error_};
    }
  }
}

}  // namespace tofu
