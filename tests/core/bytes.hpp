#pragma once
// Small helpers for writing wire bytes by hand in tests.
#include <cstddef>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

namespace tofu::test {

using Bytes = std::vector<std::byte>;

inline Bytes bytes(std::initializer_list<unsigned> values) {
  Bytes out;
  for (const unsigned v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

inline Bytes bytes(std::string_view text) {
  Bytes out;
  for (const char c : text) out.push_back(static_cast<std::byte>(c));
  return out;
}

inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace tofu::test
