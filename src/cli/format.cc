#include "cli/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace hearth::cli {

std::string human_bytes(int64_t b) {
  constexpr double kK = 1000, kM = kK * 1000, kG = kM * 1000, kT = kG * 1000;
  double value = 0;
  const char* unit = nullptr;
  const double d = static_cast<double>(b);
  if (d >= kT) {
    value = d / kT, unit = "TB";
  } else if (d >= kG) {
    value = d / kG, unit = "GB";
  } else if (d >= kM) {
    value = d / kM, unit = "MB";
  } else if (d >= kK) {
    value = d / kK, unit = "KB";
  } else {
    return std::to_string(b) + " B";
  }
  char buf[48];
  if (value >= 10 || value == std::trunc(value)) {
    std::snprintf(buf, sizeof buf, "%d %s", static_cast<int>(value), unit);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", value, unit);
  }
  return buf;
}

namespace {

std::string human_duration(double secs) {
  const int64_t seconds = static_cast<int64_t>(secs);
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return std::to_string(seconds) + " seconds";
  const int64_t minutes = static_cast<int64_t>(secs / 60);
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return std::to_string(minutes) + " minutes";
  const int64_t hours = static_cast<int64_t>(std::llround(secs / 3600));
  if (hours == 1) return "About an hour";
  if (hours < 48) return std::to_string(hours) + " hours";
  if (hours < 24 * 7 * 2) return std::to_string(hours / 24) + " days";
  if (hours < 24 * 30 * 2) return std::to_string(hours / 24 / 7) + " weeks";
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24 / 30) + " months";
  return std::to_string(hours / 24 / 365) + " years";
}

// Digits of `frac` (< unit, unit a power of ten) after the point, trailing zeros dropped.
std::string fraction(uint64_t frac, uint64_t unit) {
  std::string s;
  for (uint64_t u = unit / 10; u > 0; u /= 10) {
    s += static_cast<char>('0' + (frac / u) % 10);
  }
  while (!s.empty() && s.back() == '0') s.pop_back();
  return s.empty() ? s : "." + s;
}

}  // namespace

std::string human_time(std::chrono::system_clock::time_point t,
                       std::chrono::system_clock::time_point now, const std::string& zero_value) {
  if (t.time_since_epoch().count() == 0) return zero_value;
  // In seconds: a nanosecond difference overflows for "Forever" (a keep_alive of -1 sets
  // expires_at centuries ahead).
  using std::chrono::duration;
  const double delta = duration<double>(now.time_since_epoch()).count() -
                       duration<double>(t.time_since_epoch()).count();
  if (static_cast<int64_t>(delta / 3600) / 24 / 365 < -20) return "Forever";
  if (delta < 0) return human_duration(-delta) + " from now";
  return human_duration(delta) + " ago";
}

std::string go_duration(int64_t ns) {
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  const uint64_t u = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + std::to_string(u / 1000) + fraction(u % 1000, 1000) + "µs";
  if (u < 1000000000) {
    return sign + std::to_string(u / 1000000) + fraction(u % 1000000, 1000000) + "ms";
  }
  const uint64_t h = u / 3600000000000ULL;
  const uint64_t m = u / 60000000000ULL % 60;
  const uint64_t s = u / 1000000000ULL % 60;
  std::string out = sign;
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  return out + std::to_string(s) + fraction(u % 1000000000ULL, 1000000000ULL) + "s";
}

std::string metrics_summary(const nlohmann::json& r) {
  auto num = [&](const char* key) -> int64_t {
    auto it = r.find(key);
    return (it != r.end() && it->is_number()) ? it->get<int64_t>() : 0;
  };
  std::string out;
  char buf[128];
  auto line = [&](const char* label, const std::string& value) {
    out += label;
    out += value;
    out += '\n';
  };
  auto rate = [&](const char* label, int64_t count, int64_t ns) {
    std::snprintf(buf, sizeof buf, "%.2f tokens/s", static_cast<double>(count) / (ns / 1e9));
    line(label, buf);
  };
  if (int64_t v = num("total_duration"); v > 0) line("total duration:       ", go_duration(v));
  if (int64_t v = num("load_duration"); v > 0) line("load duration:        ", go_duration(v));
  const int64_t pc = num("prompt_eval_count"), pd = num("prompt_eval_duration");
  if (pc > 0) line("prompt eval count:    ", std::to_string(pc) + " token(s)");
  if (pd > 0) {
    line("prompt eval duration: ", go_duration(pd));
    rate("prompt eval rate:     ", pc, pd);
  }
  const int64_t ec = num("eval_count"), ed = num("eval_duration");
  if (ec > 0) line("eval count:           ", std::to_string(ec) + " token(s)");
  if (ed > 0) {
    line("eval duration:        ", go_duration(ed));
    rate("eval rate:            ", ec, ed);
  }
  return out;
}

std::chrono::system_clock::time_point parse_rfc3339(const std::string& s) {
  std::tm tm{};
  int year, mon, day, hh, mm, ss;
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &mon, &day, &hh, &mm, &ss,
                  &consumed) != 6) {
    return {};
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  // Clamped below the year 2262, where nanoseconds since 1970 overflow: later times (a keep_alive
  // of -1) all mean "Forever".
  const time_t base = std::min<time_t>(timegm(&tm), 9'000'000'000);
  size_t i = static_cast<size_t>(consumed);
  int64_t frac_ns = 0;
  if (i < s.size() && s[i] == '.') {
    int64_t scale = 100000000;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      frac_ns += (s[i] - '0') * scale;
      scale /= 10;
    }
  }
  int64_t offset = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) == 2) {
      offset = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
    }
  }
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(base - offset) + std::chrono::nanoseconds(frac_ns)));
}

namespace {
// Display width: code points (combining marks are rare in names and sizes).
size_t width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
}  // namespace

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
  size_t cols = header.size();
  for (const auto& r : rows) cols = std::max(cols, r.size());
  std::vector<size_t> w(cols, 0);
  auto measure = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], width(r[i]));
  };
  measure(header);
  for (const auto& r : rows) measure(r);
  std::string out;
  auto emit = [&](const std::vector<std::string>& r) {
    std::string line;
    for (size_t i = 0; i < w.size(); ++i) {
      const std::string cell = i < r.size() ? r[i] : "";
      line += cell;
      if (i + 1 < w.size()) line += std::string(w[i] - width(cell) + 4, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  if (!header.empty()) emit(header);
  for (const auto& r : rows) emit(r);
  return out;
}

}  // namespace hearth::cli
