#include "report/json.hpp"

#include <cmath>
#include <cstdio>

namespace poc {

namespace {

Json rounded(const Json& j) {
  if (j.is_number_float()) {
    const double d = j.get<double>();
    if (!std::isfinite(d)) return nullptr;
    return std::round(d * 1000.0) / 1000.0;
  }
  if (j.is_array()) {
    Json out = Json::array();
    for (const auto& e : j) out.push_back(rounded(e));
    return out;
  }
  if (j.is_object()) {
    Json out = Json::object();
    for (const auto& [k, e] : j.items()) out[k] = rounded(e);
    return out;
  }
  return j;
}

}  // namespace

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

std::string dump_report(const Json& j) { return rounded(j).dump(2); }

std::string text(const Json& j) {
  if (j.is_null()) return "-";
  if (j.is_boolean()) return j.get<bool>() ? "yes" : "no";
  if (j.is_number_float()) return format_number(j.get<double>());
  if (j.is_number()) return j.dump();
  if (j.is_string()) return j.get<std::string>();
  if (j.empty()) return "(none)";
  std::string out;
  if (j.is_array()) {
    for (const auto& e : j) {
      if (!out.empty()) out += ", ";
      out += text(e);
    }
    return out;
  }
  for (const auto& [k, e] : j.items()) {
    if (!out.empty()) out += ", ";
    out += k + ": " + text(e);
  }
  return out;
}

}  // namespace poc
