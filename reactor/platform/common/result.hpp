#pragma once
// Result<T>: a value or a SysError. C++20 has no std::expected; this is the small subset we use.
#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "platform/common/sys_error.hpp"

namespace tofu::platform {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(SysError error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  T& operator*() & { return value(); }

  [[nodiscard]] const SysError& error() const& { assert(!ok()); return std::get<1>(v_); }
  SysError&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, SysError> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(SysError error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  [[nodiscard]] const SysError& error() const& { assert(!ok_); return error_; }
  SysError&& error() && { assert(!ok_); return std::move(error_); }

 private:
  SysError error_{};
  bool ok_ = true;
};

using SysStatus = Result<void>;

}  // namespace tofu::platform
