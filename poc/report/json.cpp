#include "report/json.hpp"

#include <cmath>
#include <cstdio>

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

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += ch;  // UTF-8 passes through unchanged
        }
    }
  }
  out += '"';
  return out;
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

namespace {
std::string pad(int level) { return std::string(static_cast<std::size_t>(level) * 2, ' '); }
}  // namespace

std::string Json::dump(int level) const {
  return std::visit(
      [level](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          return "null";
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return std::to_string(v);
        } else if constexpr (std::is_same_v<T, double>) {
          return format_number(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return json_quote(v);
        } else if constexpr (std::is_same_v<T, Array>) {
          if (v.empty()) return "[]";
          std::string out = "[\n";
          for (std::size_t i = 0; i < v.size(); ++i) {
            out += pad(level + 1) + v[i].dump(level + 1);
            out += i + 1 < v.size() ? ",\n" : "\n";
          }
          return out + pad(level) + "]";
        } else {
          if (v.empty()) return "{}";
          std::string out = "{\n";
          for (std::size_t i = 0; i < v.size(); ++i) {
            out += pad(level + 1) + json_quote(v[i].first) + ": " + v[i].second.dump(level + 1);
            out += i + 1 < v.size() ? ",\n" : "\n";
          }
          return out + pad(level) + "}";
        }
      },
      v_);
}

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
