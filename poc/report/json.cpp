#include "report/json.hpp"

#include <cmath>
#include <cstdio>
#include <type_traits>

namespace poc {

Json& Json::set(const std::string& key, Json value) {
  if (std::holds_alternative<std::nullptr_t>(v_)) v_ = Object{};
  auto& obj = std::get<Object>(v_);
  for (auto& [k, v] : obj) {
    if (k == key) {
      v = std::move(value);
      return *this;
    }
  }
  obj.emplace_back(key, std::move(value));
  return *this;
}

const Json* Json::find(const std::string& key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : items()) {
    if (k == key) return &v;
  }
  return nullptr;
}

Json& Json::push(Json value) {
  if (std::holds_alternative<std::nullptr_t>(v_)) v_ = Array{};
  std::get<Array>(v_).push_back(std::move(value));
  return *this;
}

std::string format_number(double d) {
  if (!std::isfinite(d)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", d);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

nlohmann::ordered_json Json::to_nlohmann() const {
  return std::visit(
      [](const auto& v) -> nlohmann::ordered_json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, double>) {
          // The precision the Markdown shows (format_number); NaN and infinities become null.
          if (!std::isfinite(v)) return nullptr;
          return std::round(v * 1000.0) / 1000.0;
        } else if constexpr (std::is_same_v<T, Array>) {
          auto out = nlohmann::ordered_json::array();
          for (const auto& e : v) out.push_back(e.to_nlohmann());
          return out;
        } else if constexpr (std::is_same_v<T, Object>) {
          auto out = nlohmann::ordered_json::object();
          for (const auto& [k, e] : v) out[k] = e.to_nlohmann();
          return out;
        } else {
          return v;  // null, bool, integer, string
        }
      },
      v_);
}

std::string Json::dump() const { return to_nlohmann().dump(2); }

std::string Json::text() const {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          return "-";
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "yes" : "no";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return std::to_string(v);
        } else if constexpr (std::is_same_v<T, double>) {
          return format_number(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<T, Array>) {
          if (v.empty()) return "(none)";
          std::string out;
          for (const auto& e : v) {
            if (!out.empty()) out += ", ";
            out += e.text();
          }
          return out;
        } else {
          if (v.empty()) return "(none)";
          std::string out;
          for (const auto& [k, e] : v) {
            if (!out.empty()) out += ", ";
            out += k + ": " + e.text();
          }
          return out;
        }
      },
      v_);
}

}  // namespace poc
