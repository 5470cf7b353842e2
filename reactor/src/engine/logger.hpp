#pragma once
// The engine's logging front: a thin layer over the user's spdlog logger that keeps spdlog and
// fmt out of every engine translation unit (in the header-only Windows build each TU including
// them cost ~80 s of compile time and ~10 MB of object code). Messages are built only when the
// level is enabled.
#include <concepts>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "platform/common/sys_error.hpp"
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

  // An OS failure the engine did not expect (the caller still turns it into a status): logged at
  // `level` with its code and meaning the first time this engine sees its (source, code), at debug
  // level after that, so a failure that repeats every loop iteration (EMFILE on accept) cannot
  // flood the log. `context` comes first, then the error's message.
  template <class... Parts>
  void unexpected(LogLevel level, const platform::SysError& e, const Parts&... context) const {
    if (!enabled(level) && !enabled(LogLevel::debug)) return;
    log(first_time(e) ? level : LogLevel::debug, context..., e.message());
  }

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
  // True once per (source, code) for the life of this logger (any thread).
  bool first_time(const platform::SysError& e) const;

  std::shared_ptr<spdlog::logger> sink_;
  mutable std::mutex seen_mu_;
  mutable std::set<std::pair<platform::ErrorSource, std::int64_t>> seen_;
};

}  // namespace tofu::detail
