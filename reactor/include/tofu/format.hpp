#pragma once
/// @file
/// fmt formatters for tofu's printable types. Separate from the core headers so that using tofu
/// does not require fmt; include this where you log or format tofu values.
///   fmt::format("{}", tofu::Status::pool_empty)   -> "pool_empty"
///   fmt::format("{}", tofu::OpCode::hello_request) -> "HelloRequest"
///   fmt::format("{}", header)  -> "{ch=5 op=Request origin=application more=0 oob=0 b=0 st=success id=7 thl=0 bl=3}"
#include <string_view>

#include <fmt/format.h>

#include "tofu/address.hpp"
#include "tofu/codec.hpp"
#include "tofu/message.hpp"
#include "tofu/pool.hpp"
#include "tofu/status.hpp"

/// @cond TOFU_FORMAT_INTERNALS
namespace tofu::detail {
/// Formats a value through its to_string, accepting the string format specs ("{:>12}").
template <class T>
struct NamedFormatter : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const T& v, FormatContext& ctx) const -> decltype(ctx.out()) {
    return fmt::formatter<std::string_view>::format(std::string_view(to_string(v)), ctx);
  }
};

/// A formatter that takes no format specs.
struct PlainFormatter {
  constexpr auto parse(fmt::format_parse_context& ctx) -> decltype(ctx.begin()) { return ctx.begin(); }
};

constexpr std::string_view to_string(DecodeState s) noexcept {
  switch (s) {
    case DecodeState::need_more: return "need_more";
    case DecodeState::complete: return "complete";
    case DecodeState::error: return "error";
  }
  return "invalid_decode_state";
}
constexpr std::string_view to_string(Transport t) noexcept { return t == Transport::tcp ? "tcp" : "uds"; }
}  // namespace tofu::detail

template <>
struct fmt::formatter<tofu::OpCode> : tofu::detail::NamedFormatter<tofu::OpCode> {};
template <>
struct fmt::formatter<tofu::Status> : tofu::detail::NamedFormatter<tofu::Status> {};
template <>
struct fmt::formatter<tofu::Origin> : tofu::detail::NamedFormatter<tofu::Origin> {};

template <>
struct fmt::formatter<tofu::DecodeState> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(tofu::DecodeState s, FormatContext& ctx) const -> decltype(ctx.out()) {
    return fmt::formatter<std::string_view>::format(tofu::detail::to_string(s), ctx);
  }
};

template <>
struct fmt::formatter<tofu::Transport> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(tofu::Transport t, FormatContext& ctx) const -> decltype(ctx.out()) {
    return fmt::formatter<std::string_view>::format(tofu::detail::to_string(t), ctx);
  }
};

/// "tcp|127.0.0.1|7099" / "uds|/tmp/x.sock" (the header value form).
template <>
struct fmt::formatter<tofu::Address> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const tofu::Address& a, FormatContext& ctx) const -> decltype(ctx.out()) {
    const std::string s = tofu::to_string(a);
    return fmt::formatter<std::string_view>::format(std::string_view(s), ctx);
  }
};

template <>
struct fmt::formatter<tofu::BinaryHeader> : tofu::detail::PlainFormatter {
  template <class FormatContext>
  auto format(const tofu::BinaryHeader& h, FormatContext& ctx) const -> decltype(ctx.out()) {
    const auto raw_op = static_cast<unsigned>(h.opcode);
    auto out = fmt::format_to(ctx.out(), "{{ch={} op=", h.channel_number);
    out = tofu::is_valid_opcode(static_cast<std::uint8_t>(raw_op)) ? fmt::format_to(out, "{}", tofu::to_string(h.opcode))
                                                                   : fmt::format_to(out, "InvalidOpCode({})", raw_op);
    return fmt::format_to(out, " origin={} more={:d} oob={:d} b={:d} st={} id={} thl={} bl={}}}", tofu::to_string(h.origin),
                          h.more, h.oob, h.internal_b, tofu::to_string(h.status), h.message_id, h.text_headers_len,
                          h.body_len);
  }
};

/// "{ch=.. ...} + 12 B headers + 3 B body" (contents are not printed: they may be large or binary).
template <>
struct fmt::formatter<tofu::Message> : tofu::detail::PlainFormatter {
  template <class FormatContext>
  auto format(const tofu::Message& m, FormatContext& ctx) const -> decltype(ctx.out()) {
    return fmt::format_to(ctx.out(), "{} + {} B headers + {} B body", m.header, m.text_headers.size_bytes(),
                          m.body_size());
  }
};

template <>
struct fmt::formatter<tofu::PoolStats> : tofu::detail::PlainFormatter {
  template <class FormatContext>
  auto format(const tofu::PoolStats& s, FormatContext& ctx) const -> decltype(ctx.out()) {
    return fmt::format_to(ctx.out(), "{{in_use={} idle={} high_water={} created={} max={}}}", s.in_use, s.idle,
                          s.high_water, s.created, s.max);
  }
};
/// @endcond
