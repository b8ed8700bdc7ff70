#pragma once
// Minimal leveled logging to stderr. HEARTH_DEBUG=1 enables debug lines.

#include <string>

namespace hearth {

enum class LogLevel { debug, info, warn, error };

void log_message(LogLevel level, const std::string& message);
bool log_debug_enabled();
// Lines below `level` are dropped (the CLI's in-process server keeps the terminal for answers and
// shows only warnings). Debug lines still need HEARTH_DEBUG.
void set_log_level(LogLevel level);

}  // namespace hearth

#define HEARTH_LOG_DEBUG(msg) \
  do { if (::hearth::log_debug_enabled()) ::hearth::log_message(::hearth::LogLevel::debug, (msg)); } while (0)
#define HEARTH_LOG_INFO(msg) ::hearth::log_message(::hearth::LogLevel::info, (msg))
#define HEARTH_LOG_WARN(msg) ::hearth::log_message(::hearth::LogLevel::warn, (msg))
#define HEARTH_LOG_ERROR(msg) ::hearth::log_message(::hearth::LogLevel::error, (msg))
