#include "api/wire.h"

#include <cstdio>
#include <ctime>
#include <mutex>
#include <random>

namespace hearth::api {

std::string time_utc_nano(std::chrono::system_clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  long frac = static_cast<long>(ns % 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%09ldZ", frac);
  return buf;
}

std::string time_local(std::chrono::system_clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  long frac = static_cast<long>(ns % 1000000000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[80];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  n += std::snprintf(buf + n, sizeof buf - n, ".%09ld", frac);
  long off = tm.tm_gmtoff;
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  std::snprintf(buf + n, sizeof buf - n, "%c%02ld:%02ld", sign, off / 3600, (off % 3600) / 60);
  return buf;
}

std::string format_duration(std::chrono::nanoseconds d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  char buf[64];
  if (u < 1000000000ULL) {  // under a second: the largest unit that keeps it >= 1
    if (u < 1000) std::snprintf(buf, sizeof buf, "%lluns", static_cast<unsigned long long>(u));
    else if (u < 1000000) std::snprintf(buf, sizeof buf, "%gµs", static_cast<double>(u) / 1e3);
    else std::snprintf(buf, sizeof buf, "%gms", static_cast<double>(u) / 1e6);
    return sign + buf;
  }
  uint64_t h = u / 3600000000000ULL;
  uint64_t rem = u % 3600000000000ULL;
  uint64_t m = rem / 60000000000ULL;
  rem %= 60000000000ULL;
  uint64_t s = rem / 1000000000ULL;
  uint64_t frac = rem % 1000000000ULL;
  std::string sec = std::to_string(s);
  if (frac != 0) {
    char f[16];
    std::snprintf(f, sizeof f, "%09llu", static_cast<unsigned long long>(frac));
    std::string fs = f;
    while (!fs.empty() && fs.back() == '0') fs.pop_back();
    sec += "." + fs;
  }
  std::string out = sign;
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  out += sec + "s";
  return out;
}

std::string sse_event(const std::string& name, const Json& data) {
  return "event: " + name + "\ndata: " + data.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n";
}

Json logprobs_json(const std::vector<engine::GeneratedLogprob>& logprobs) {
  auto token = [](const engine::TokenLogprob& t) {
    Json j = Json::object();
    j["token"] = t.token;
    j["logprob"] = t.logprob;
    if (!t.token.empty()) {
      Json bytes = Json::array();
      for (unsigned char c : t.token) bytes.push_back(static_cast<int>(c));
      j["bytes"] = std::move(bytes);
    }
    return j;
  };
  Json out = Json::array();
  for (const auto& lp : logprobs) {
    Json j = token(lp.chosen);
    if (!lp.top.empty()) {
      Json top = Json::array();
      for (const auto& t : lp.top) top.push_back(token(t));
      j["top_logprobs"] = std::move(top);
    }
    out.push_back(std::move(j));
  }
  return out;
}

std::string random_call_id() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::lock_guard<std::mutex> lk(mu);
  std::string id = "call_";
  for (int i = 0; i < 8; ++i) id += kAlphabet[rng() % 36];
  return id;
}

Json tool_calls_json(const std::vector<ToolCall>& calls) {
  Json out = Json::array();
  for (const auto& c : calls) {
    Json fn = Json::object();
    fn["index"] = c.index;
    fn["name"] = c.name;
    fn["arguments"] = c.arguments;
    Json call = Json::object();
    call["id"] = c.id.empty() ? random_call_id() : c.id;
    call["function"] = std::move(fn);
    out.push_back(std::move(call));
  }
  return out;
}

}  // namespace hearth::api
