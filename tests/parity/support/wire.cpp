#include "wire.hpp"

namespace tofu::parity::wire {
namespace {

void put_be(std::vector<std::byte>& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFFu));
}

std::uint64_t get_be(const std::vector<std::byte>& in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | std::to_integer<std::uint64_t>(in[at + static_cast<std::size_t>(i)]);
  return v;
}

}  // namespace

std::vector<std::byte> header_bytes(std::uint16_t channel, std::uint8_t proto, std::uint8_t status, std::uint64_t id,
                                    std::uint16_t thl, std::uint16_t bl) {
  std::vector<std::byte> out;
  out.reserve(16);
  put_be(out, channel, 2);
  out.push_back(static_cast<std::byte>(proto));
  out.push_back(static_cast<std::byte>(status));
  put_be(out, id, 8);
  put_be(out, thl, 2);
  put_be(out, bl, 2);
  return out;
}

std::vector<std::byte> bytes_of(std::string_view s) {
  std::vector<std::byte> out(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) out[i] = static_cast<std::byte>(s[i]);
  return out;
}

std::vector<std::byte> encode(const Frame& f) {
  std::vector<std::byte> out = header_bytes(f.channel, f.proto, f.status, f.message_id,
                                            static_cast<std::uint16_t>(f.text_headers.size()),
                                            static_cast<std::uint16_t>(f.body.size()));
  const auto th = bytes_of(f.text_headers);
  const auto body = bytes_of(f.body);
  out.insert(out.end(), th.begin(), th.end());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::optional<Frame> read_frame(RawSocket& s, std::chrono::milliseconds timeout) {
  bool ok = false;
  const std::vector<std::byte> h = s.recv_exact(16, timeout, &ok);
  if (!ok) return std::nullopt;
  Frame f;
  f.channel = static_cast<std::uint16_t>(get_be(h, 0, 2));
  f.proto = std::to_integer<std::uint8_t>(h[2]);
  f.status = std::to_integer<std::uint8_t>(h[3]);
  f.message_id = get_be(h, 4, 8);
  const auto thl = static_cast<std::size_t>(get_be(h, 12, 2));
  const auto bl = static_cast<std::size_t>(get_be(h, 14, 2));
  const std::vector<std::byte> rest = s.recv_exact(thl + bl, timeout, &ok);
  if (!ok && thl + bl != 0) return std::nullopt;
  f.text_headers.resize(thl);
  f.body.resize(bl);
  for (std::size_t i = 0; i < thl; ++i) f.text_headers[i] = static_cast<char>(rest[i]);
  for (std::size_t i = 0; i < bl; ++i) f.body[i] = static_cast<char>(rest[thl + i]);
  return f;
}

std::vector<Frame> read_frames_until_closed(RawSocket& s, std::chrono::milliseconds timeout, bool* closed) {
  std::vector<Frame> frames;
  while (auto f = read_frame(s, timeout)) frames.push_back(std::move(*f));
  const bool eof = s.wait_closed(timeout);  // at once when read_frame stopped at the end of stream
  if (closed != nullptr) *closed = eof;
  return frames;
}

std::string describe(const Frame& f) {
  return "{ch=" + std::to_string(f.channel) + " proto=0x" + [&] {
    const char* hex = "0123456789abcdef";
    return std::string{hex[f.proto >> 4], hex[f.proto & 0xF]};
  }() + " status=" + std::to_string(f.status) + " id=" + std::to_string(f.message_id) +
         " thl=" + std::to_string(f.text_headers.size()) + " bl=" + std::to_string(f.body.size()) + "}";
}

}  // namespace tofu::parity::wire
