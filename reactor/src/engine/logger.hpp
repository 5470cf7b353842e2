#pragma once
// The engine's logging front: a thin layer over the user's spdlog logger that keeps spdlog and
// fmt out of every engine translation unit (in the header-only Windows build each TU including
// them cost ~80 s of compile time and ~10 MB of object code). Messages are built only when the
// level is enabled.
#include <concepts>
#include <memory>
#include <string>
#include <string_view>

#include "tofu/status.hpp"

namespace spdlog {
class logger;
}

namespace tofu::detail {

enum class LogLevel { debug, info, warn, error, critical };

class Logger {
 public:
  // nullptr = quiet (nothing is formatted, nothing is written).
  explicit Logger(std::shared_ptr<spdlog::logger> sink);

  [[nodiscard]] bool enabled(LogLevel level) const noexcept;

  template <class... Parts>
  void debug(const Parts&... p) const { log(LogLevel::debug, p...); }
  template <class... Parts>
  void info(const Parts&... p) const { log(LogLevel::info, p...); }
  template <class... Parts>
  void warn(const Parts&... p) const { log(LogLevel::warn, p...); }
  template <class... Parts>
  void error(const Parts&... p) const { log(LogLevel::error, p...); }
  template <class... Parts>
  void critical(const Parts&... p) const { log(LogLevel::critical, p...); }

 private:
  template <class... Parts>
  void log(LogLevel level, const Parts&... p) const {
    if (!enabled(level)) return;
    std::string text = "tofu: ";
    (append(text, p), ...);
    write(level, text);
  }
  static void append(std::string& out, std::string_view s) { out += s; }
  static void append(std::string& out, const char* s) { out += s; }
  static void append(std::string& out, const std::string& s) { out += s; }
  static void append(std::string& out, Status s) { out += to_string(s); }
  template <std::integral I>
  static void append(std::string& out, I v) { out += std::to_string(v); }

  void write(LogLevel level, const std::string& text) const;

  std::shared_ptr<spdlog::logger> sink_;
};

}  // namespace tofu::detail
