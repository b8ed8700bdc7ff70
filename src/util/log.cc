#include "util/log.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <atomic>
#include <ctime>
#include <mutex>

namespace hearth {

bool log_debug_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("HEARTH_DEBUG");
    if (v == nullptr) v = std::getenv("OLLAMA_DEBUG");
    return v != nullptr && *v != '\0' && std::string(v) != "0" && std::string(v) != "false";
  }();
  return enabled;
}

namespace {
std::atomic<int> g_min_level{static_cast<int>(LogLevel::debug)};
}  // namespace

void set_log_level(LogLevel level) { g_min_level = static_cast<int>(level); }

void log_message(LogLevel level, const std::string& message) {
  if (static_cast<int>(level) < g_min_level) return;
  static std::mutex m;
  static const char* names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::lock_guard<std::mutex> lock(m);
  std::fprintf(stderr, "time=%s level=%s msg=\"%s\"\n", ts, names[static_cast<int>(level)],
               message.c_str());
}

}  // namespace hearth
