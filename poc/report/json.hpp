#pragma once
// A JSON value as the stage binaries build their reports: null, bool, integer, number, string,
// array and object. Objects keep insertion order so a report reads in the order the stage wrote
// it. Written out by nlohmann-json (ordered_json); text() is the one-line form the Markdown uses.
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace poc {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;
  Json(std::nullptr_t) {}  // NOLINT(google-explicit-constructor)
  Json(bool b) : v_(b) {}  // NOLINT(google-explicit-constructor)
  // Any integer (a bool argument picks the non-template bool constructor above).
  template <std::integral T>
  Json(T i) : v_(static_cast<std::int64_t>(i)) {}  // NOLINT(google-explicit-constructor)
  Json(double d) : v_(d) {}                    // NOLINT(google-explicit-constructor)
  Json(const char* s) : v_(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  Json(std::string s) : v_(std::move(s)) {}    // NOLINT(google-explicit-constructor)
  Json(Array a) : v_(std::move(a)) {}          // NOLINT(google-explicit-constructor)
  Json(Object o) : v_(std::move(o)) {}         // NOLINT(google-explicit-constructor)

  static Json object() { return Json(Object{}); }
  static Json array() { return Json(Array{}); }

  // Object: replace the value of `key`, or append it. Turns a null into an object.
  Json& set(const std::string& key, Json value);
  // Array: append. Turns a null into an array.
  Json& push(Json value);

  [[nodiscard]] bool is_object() const noexcept { return std::holds_alternative<Object>(v_); }
  [[nodiscard]] bool is_array() const noexcept { return std::holds_alternative<Array>(v_); }
  [[nodiscard]] const Object& items() const { return std::get<Object>(v_); }
  [[nodiscard]] const Array& elements() const { return std::get<Array>(v_); }
  // Object member by key, or nullptr.
  [[nodiscard]] const Json* find(const std::string& key) const;

  // Pretty JSON (2-space indentation), numbers rounded to 3 decimals like format_number.
  [[nodiscard]] std::string dump() const;
  [[nodiscard]] nlohmann::ordered_json to_nlohmann() const;
  // A one-line human form for Markdown tables: "a: 1, b: 2", "x, y", plain scalars.
  [[nodiscard]] std::string text() const;

 private:
  std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Array, Object> v_{nullptr};
};

// A number as reports print it: up to 3 decimals, trailing zeros removed.
std::string format_number(double d);

}  // namespace poc
