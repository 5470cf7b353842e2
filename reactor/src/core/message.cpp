#include "tofu/message.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>

namespace tofu {
namespace {

std::string_view as_text(std::span<const std::byte> bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::span<const std::byte> as_bytes(std::string_view text) noexcept {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s, bool (*pred)(char)) noexcept {
  while (!s.empty() && pred(s.front())) s.remove_prefix(1);
  while (!s.empty() && pred(s.back())) s.remove_suffix(1);
  return s;
}

// One line of a text-header buffer: [begin, end) is the line without its CRLF, next is where the
// following line starts.
struct Line {
  std::size_t begin;
  std::size_t end;
  std::size_t next;
};

Line line_at(std::string_view raw, std::size_t pos) noexcept {
  const std::size_t crlf = raw.find("\r\n", pos);
  if (crlf == std::string_view::npos) return {pos, raw.size(), raw.size()};
  return {pos, crlf, crlf + 2};
}

// Splits a non-empty line the way the original reader does.
TextHeader split_line(std::string_view line) noexcept {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return {line, {}};
  return {line.substr(0, colon), trim(line.substr(colon + 1), is_blank)};
}

std::atomic<MessageId> g_next_id{1};

}  // namespace

std::string_view to_string(Origin o) noexcept {
  switch (o) {
    case Origin::application: return "application";
    case Origin::engine: return "engine";
  }
  return "invalid_origin";
}

// ---- binary header -------------------------------------------------------------------------------

namespace {
// Big-endian loads and stores of 2 and 8 bytes. memcpy + byte swap compiles to a load or store and
// a bswap instruction (the byte loops they replace cost ~60 instructions per header, D-85).
constexpr bool kLittleEndian = std::endian::native == std::endian::little;
std::uint16_t to_be16(std::uint16_t v) noexcept { return kLittleEndian ? static_cast<std::uint16_t>((v >> 8) | (v << 8)) : v; }
std::uint64_t to_be64(std::uint64_t v) noexcept { return kLittleEndian ? __builtin_bswap64(v) : v; }
void put16(std::byte* p, std::uint16_t v) noexcept {
  v = to_be16(v);
  std::memcpy(p, &v, 2);
}
void put64(std::byte* p, std::uint64_t v) noexcept {
  v = to_be64(v);
  std::memcpy(p, &v, 8);
}
std::uint16_t get16(const std::byte* p) noexcept {
  std::uint16_t v = 0;
  std::memcpy(&v, p, 2);
  return to_be16(v);
}
std::uint64_t get64(const std::byte* p) noexcept {
  std::uint64_t v = 0;
  std::memcpy(&v, p, 8);
  return to_be64(v);
}
}  // namespace

void encode_header(const BinaryHeader& h, std::span<std::byte, kBinaryHeaderSize> out) noexcept {
  std::byte* p = out.data();
  put16(p + 0, h.channel_number);
  p[2] = static_cast<std::byte>(h.proto());
  p[3] = static_cast<std::byte>(to_raw(h.status));
  put64(p + 4, h.message_id);
  put16(p + 12, h.text_headers_len);
  put16(p + 14, h.body_len);
}

BinaryHeader decode_header(std::span<const std::byte, kBinaryHeaderSize> in) noexcept {
  const std::byte* p = in.data();
  BinaryHeader h;
  h.channel_number = get16(p + 0);
  h.set_proto(std::to_integer<std::uint8_t>(p[2]));
  h.status = status_from_raw(std::to_integer<std::uint8_t>(p[3]));
  h.message_id = get64(p + 4);
  h.text_headers_len = get16(p + 12);
  h.body_len = get16(p + 14);
  return h;
}

// ---- text headers --------------------------------------------------------------------------------

Status check_text_headers(std::string_view raw) noexcept {
  std::size_t pos = 0;
  while (pos < raw.size()) {
    const Line l = line_at(raw, pos);
    pos = l.next;
    if (l.begin == l.end) continue;  // empty line: skipped by readers
    const std::string_view line = raw.substr(l.begin, l.end - l.begin);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return Status::invalid_message;
  }
  return Status::success;
}

void TextHeaders::Iterator::next() noexcept {
  done_ = true;
  while (pos_ < raw_.size()) {
    const Line l = line_at(raw_, pos_);
    pos_ = l.next;
    if (l.begin == l.end) continue;
    cur_ = split_line(raw_.substr(l.begin, l.end - l.begin));
    if (cur_.name.empty()) {  // the original stops at a line with an empty name
      pos_ = raw_.size();
      return;
    }
    done_ = false;
    return;
  }
}

std::string_view TextHeaders::view() const noexcept { return as_text(raw_); }

Status TextHeaders::add(std::string_view name, std::string_view value) {
  name = trim(name, [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
  if (name.empty() || value.empty()) return Status::invalid_message;
  if (name.find_first_of(":\r\n") != std::string_view::npos) return Status::invalid_message;
  if (value.find_first_of("\r\n") != std::string_view::npos) return Status::invalid_message;
  const std::size_t added = name.size() + 1 + value.size() + 2;
  if (raw_.size() + added > kMaxTextHeadersLen) return Status::invalid_headers_len;
  const auto n = as_bytes(name);
  const auto v = as_bytes(value);
  raw_.reserve(raw_.size() + added);
  raw_.insert(raw_.end(), n.begin(), n.end());
  raw_.push_back(std::byte{':'});
  raw_.insert(raw_.end(), v.begin(), v.end());
  raw_.push_back(std::byte{'\r'});
  raw_.push_back(std::byte{'\n'});
  return Status::success;
}

std::optional<std::string_view> TextHeaders::find(std::string_view name) const noexcept {
  for (const TextHeader& h : *this) {
    if (h.name == name) return h.value;
  }
  return std::nullopt;
}

std::size_t TextHeaders::remove(std::string_view name) {
  const std::string_view raw = view();
  std::vector<std::byte> kept;
  kept.reserve(raw_.capacity());
  std::size_t removed = 0;
  std::size_t pos = 0;
  bool stopped = false;  // past a line with an empty name nothing is a header any more: keep as is
  while (pos < raw.size()) {
    const Line l = line_at(raw, pos);
    pos = l.next;
    bool drop = false;
    if (!stopped && l.begin != l.end) {
      const TextHeader h = split_line(raw.substr(l.begin, l.end - l.begin));
      if (h.name.empty()) {
        stopped = true;
      } else if (h.name == name) {
        drop = true;
      }
    }
    if (drop) {
      ++removed;
      continue;
    }
    const auto line = as_bytes(raw.substr(l.begin, l.next - l.begin));
    kept.insert(kept.end(), line.begin(), line.end());
  }
  if (removed != 0) raw_.swap(kept);
  return removed;
}

std::span<std::byte> TextHeaders::resize_raw(std::size_t n) {
  raw_.resize(n);
  return raw_;
}

void TextHeaders::trim_capacity(std::size_t keep, std::size_t fresh) {
  if (raw_.capacity() <= keep) return;
  std::vector<std::byte> smaller;
  smaller.reserve(std::max(fresh, raw_.size()));
  smaller.assign(raw_.begin(), raw_.end());
  raw_.swap(smaller);
}

// ---- message -------------------------------------------------------------------------------------

std::string_view Message::body_text() const noexcept { return as_text(body_); }

void Message::set_body(std::span<const std::byte> bytes) { body_.assign(bytes.begin(), bytes.end()); }
void Message::set_body(std::string_view text) { set_body(as_bytes(text)); }
void Message::append_body(std::span<const std::byte> bytes) { body_.insert(body_.end(), bytes.begin(), bytes.end()); }
void Message::append_body(std::string_view text) { append_body(as_bytes(text)); }

std::span<std::byte> Message::resize_body(std::size_t n) {
  body_.resize(n);
  return body_;
}

void Message::reset() noexcept {
  header = BinaryHeader{};
  text_headers.clear();
  body_.clear();
}

void Message::trim_capacity(std::size_t keep) {
  text_headers.trim_capacity(keep, kInitialTextHeadersCapacity);
  if (body_.capacity() > keep) {
    std::vector<std::byte> smaller;
    smaller.reserve(std::max(kInitialBodyCapacity, body_.size()));
    smaller.assign(body_.begin(), body_.end());
    body_.swap(smaller);
  }
}

// Each thread takes ids from the process-wide counter in blocks (D-97): one atomic add per block
// instead of one per posted message. The add is a full barrier, and the posting thread paid for it
// on every message (8 % of a 64 B stream's samples). Ids stay unique in the process and increase
// per thread; across threads they no longer follow the order of the posts.
MessageId next_message_id() noexcept {
  constexpr MessageId kBlock = 1024;
  struct Block {
    MessageId next = 0;
    MessageId end = 0;
  };
  thread_local Block block;
  if (block.next == block.end) {
    block.next = g_next_id.fetch_add(kBlock, std::memory_order_relaxed);
    block.end = block.next + kBlock;
  }
  return block.next++;
}

Status check_and_prepare(Message& m) noexcept {
  BinaryHeader& h = m.header;
  if (!is_valid_opcode(static_cast<std::uint8_t>(h.opcode))) return Status::invalid_op_code;
  h.origin = Origin::application;
  h.status = Status::success;
  if (h.internal_b) return Status::invalid_message;  // reserved: a receiver refuses it (D-34)
  if (is_response(h.opcode) && h.message_id == 0) return Status::invalid_message_id;
  if (h.more && !is_regular(h.opcode)) return Status::invalid_more_usage;
  const bool opens_channel = h.opcode == OpCode::hello_request || h.opcode == OpCode::welcome_request;
  if (h.channel_number == 0 && !opens_channel) return Status::invalid_channel_number;
  if (m.text_headers.size_bytes() > kMaxTextHeadersLen) return Status::invalid_headers_len;
  h.text_headers_len = static_cast<std::uint16_t>(m.text_headers.size_bytes());
  if (opens_channel && m.text_headers.empty()) return Status::wrong_address;
  if (m.body_size() > kMaxBodyLen) return Status::invalid_body_len;
  h.body_len = static_cast<std::uint16_t>(m.body_size());
  if (h.message_id == 0) h.message_id = next_message_id();
  return Status::success;
}

}  // namespace tofu
