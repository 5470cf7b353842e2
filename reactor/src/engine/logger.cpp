#include "engine/logger.hpp"

#include <spdlog/logger.h>

namespace tofu::detail {
namespace {
spdlog::level::level_enum to_spdlog(LogLevel l) {
  switch (l) {
    case LogLevel::debug: return spdlog::level::debug;
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::warn: return spdlog::level::warn;
    case LogLevel::error: return spdlog::level::err;
    case LogLevel::critical: return spdlog::level::critical;
  }
  return spdlog::level::info;
}
}  // namespace

Logger::Logger(std::shared_ptr<spdlog::logger> sink) : sink_(std::move(sink)) {}

bool Logger::enabled(LogLevel level) const noexcept { return sink_ && sink_->should_log(to_spdlog(level)); }

void Logger::write(LogLevel level, const std::string& text) const { sink_->log(to_spdlog(level), "{}", text); }

bool Logger::first_time(const platform::SysError& e) const {
  std::lock_guard lock(seen_mu_);
  return seen_.emplace(e.source, e.code).second;
}

}  // namespace tofu::detail
