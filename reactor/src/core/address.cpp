#include "tofu/address.hpp"

#include <array>

namespace tofu {
namespace {

bool host_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_' || c == ':' || c == '%';
}

// The host without one pair of enclosing brackets (IPv6 literal).
std::string_view bare_host(std::string_view host) noexcept {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

bool valid_host(std::string_view host, AddressRole role) noexcept {
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  host = bare_host(host);
  if (bracketed && host.find(':') == std::string_view::npos) return false;  // brackets only for IPv6
  if (host.empty()) return !bracketed && role == AddressRole::listen;
  if (host.size() > kMaxHostLen) return false;
  for (const char c : host) {
    if (!host_char(c)) return false;
  }
  return true;
}

bool valid_path(std::string_view path) noexcept {
  if (path.empty() || path.size() > kUdsPathMax) return false;
  if (path.find_first_of(std::string_view("|\r\n\0", 4)) != std::string_view::npos) return false;
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  return !blank(path.front()) && !blank(path.back());
}

bool parse_port(std::string_view s, std::uint16_t& port) noexcept {
  if (s.empty() || s.size() > 5) return false;
  std::uint32_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v > 65535) return false;
  port = static_cast<std::uint16_t>(v);
  return true;
}

Status prepare(Message& m, const Address& a, AddressRole role) {
  if (!is_valid(a, role)) return Status::wrong_address;
  const std::string value = to_string(a);
  TextHeaders headers = m.text_headers;
  headers.remove(kConnectToHeader);
  headers.remove(kListenOnHeader);
  const std::string_view name = role == AddressRole::connect ? kConnectToHeader : kListenOnHeader;
  if (const Status s = headers.add(name, value); s != Status::success) return Status::wrong_address;
  m.text_headers = std::move(headers);
  m.header = make_header(role == AddressRole::connect ? OpCode::hello_request : OpCode::welcome_request);
  return Status::success;
}

}  // namespace

bool is_valid(const Address& a, AddressRole role) noexcept {
  switch (a.transport) {
    case Transport::tcp: return valid_host(a.host, role) && (a.port != 0 || role == AddressRole::listen);
    case Transport::uds: return valid_path(a.path);
  }
  return false;
}

std::string to_string(const Address& a) {
  switch (a.transport) {
    case Transport::tcp: {
      std::string s = "tcp|";
      s += bare_host(a.host);
      s += '|';
      s += std::to_string(a.port);
      return s;
    }
    case Transport::uds: return "uds|" + a.path;
  }
  return {};
}

AddressResult parse_address(std::string_view value, AddressRole role) {
  AddressResult bad{Status::invalid_address, {}};
  std::array<std::string_view, 3> parts{};
  std::size_t count = 0;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t bar = value.find('|', pos);
    if (count == parts.size()) return bad;  // a 4th part (the original's bug #10)
    parts[count++] = value.substr(pos, bar == std::string_view::npos ? std::string_view::npos : bar - pos);
    if (bar == std::string_view::npos) break;
    pos = bar + 1;
  }
  if (count == 2 && parts[0] == "uds") {
    Address a = Address::uds(parts[1]);
    if (!is_valid(a, role)) return bad;
    return {Status::success, std::move(a)};
  }
  if (count == 3 && parts[0] == "tcp") {
    std::uint16_t port = 0;
    if (!parse_port(parts[2], port)) return bad;
    Address a = Address::tcp(bare_host(parts[1]), port);
    if (!is_valid(Address::tcp(parts[1], port), role)) return bad;
    return {Status::success, std::move(a)};
  }
  return bad;
}

AddressResult address_of(const Message& m) {
  AddressRole role{};
  std::string_view name;
  switch (m.header.opcode) {
    case OpCode::hello_request:
      role = AddressRole::connect;
      name = kConnectToHeader;
      break;
    case OpCode::welcome_request:
      role = AddressRole::listen;
      name = kListenOnHeader;
      break;
    default: return {Status::invalid_address, {}};
  }
  const auto value = m.text_headers.find(name);
  if (!value) return {Status::invalid_address, {}};
  return parse_address(*value, role);
}

Status prepare_hello(Message& m, const Address& a) { return prepare(m, a, AddressRole::connect); }
Status prepare_welcome(Message& m, const Address& a) { return prepare(m, a, AddressRole::listen); }

}  // namespace tofu
