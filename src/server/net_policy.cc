#include "server/net_policy.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace hearth::server {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Splits "host:port" / "[v6]:port" / "host"; port is "" when absent.
void split_host_port(const std::string& in, std::string* host, std::string* port) {
  if (!in.empty() && in[0] == '[') {
    auto close = in.find(']');
    if (close != std::string::npos) {
      *host = in.substr(1, close - 1);
      *port = (close + 1 < in.size() && in[close + 1] == ':') ? in.substr(close + 2) : "";
      return;
    }
  }
  auto colon = in.rfind(':');
  if (colon != std::string::npos && in.find(':') == colon) {
    *host = in.substr(0, colon);
    *port = in.substr(colon + 1);
  } else {
    *host = in;
    *port = "";
  }
}

bool parse_port(const std::string& s, int* port) {
  if (s.empty() || s.size() > 5) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  int p = std::stoi(s);
  if (p < 0 || p > 65535) return false;
  *port = p;
  return true;
}

bool is_private_or_local_ip(const std::string& host) {
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    uint32_t a = ntohl(v4.s_addr);
    return (a >> 24) == 127 || (a >> 24) == 10 || (a >> 20) == (172u << 4 | 1) ||
           (a >> 16) == (192u << 8 | 168) || a == 0 || (a >> 16) == (169u << 8 | 254);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    static const in6_addr any = IN6ADDR_ANY_INIT;
    if (IN6_IS_ADDR_LOOPBACK(&v6) || std::memcmp(&v6, &any, sizeof v6) == 0) return true;
    if ((v6.s6_addr[0] & 0xfe) == 0xfc) return true;  // unique local
    if (IN6_IS_ADDR_LINKLOCAL(&v6)) return true;
    return false;
  }
  return false;
}

}  // namespace

std::string BindAddress::display() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

BindAddress parse_host(const std::string& raw) {
  std::string value = raw;
  while (!value.empty() && (std::isspace(static_cast<unsigned char>(value.front())) ||
                            value.front() == '"' || value.front() == '\'')) {
    value.erase(value.begin());
  }
  while (!value.empty() && (std::isspace(static_cast<unsigned char>(value.back())) ||
                            value.back() == '"' || value.back() == '\'')) {
    value.pop_back();
  }
  BindAddress out;
  int default_port = 11434;
  if (auto p = value.find("://"); p != std::string::npos) {
    out.scheme = lower(value.substr(0, p));
    value = value.substr(p + 3);
    default_port = out.scheme == "https" ? 443 : 80;
  }
  if (auto slash = value.find('/'); slash != std::string::npos) value = value.substr(0, slash);
  std::string host, port;
  split_host_port(value, &host, &port);
  out.port = default_port;
  if (!port.empty() && !parse_port(port, &out.port)) out.port = default_port;
  if (host.empty()) host = value.empty() ? "127.0.0.1" : "0.0.0.0";  // ":port" binds everything
  out.host = host;
  return out;
}

bool is_loopback_host(const std::string& host) {
  std::string h = lower(host);
  if (h == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

std::vector<std::string> allowed_origins(const std::string& extra) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= extra.size()) {
    size_t comma = extra.find(',', start);
    std::string item = extra.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    if (auto last = item.find_last_not_of(" \t"); last != std::string::npos) item.erase(last + 1);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  for (const char* host : {"localhost", "127.0.0.1", "0.0.0.0"}) {
    for (const char* scheme : {"http", "https"}) {
      out.push_back(std::string(scheme) + "://" + host);
      out.push_back(std::string(scheme) + "://" + host + ":*");
    }
  }
  for (const char* p : {"app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*"}) {
    out.push_back(p);
  }
  return out;
}

bool origin_allowed(const std::vector<std::string>& patterns, const std::string& origin) {
  for (const auto& p : patterns) {
    auto star = p.find('*');
    if (star == std::string::npos) {
      if (p == origin) return true;
      continue;
    }
    std::string prefix = p.substr(0, star), suffix = p.substr(star + 1);
    if (origin.size() >= prefix.size() + suffix.size() && origin.compare(0, prefix.size(), prefix) == 0 &&
        ends_with(origin, suffix)) {
      return true;
    }
  }
  return false;
}

bool host_header_allowed(const std::string& header) {
  std::string host, port;
  split_host_port(lower(header), &host, &port);
  if (host.empty()) return true;  // HTTP/1.0 without Host
  if (host == "localhost") return true;
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) == 0 && lower(name) == host) return true;
  if (ends_with(host, ".localhost") || ends_with(host, ".local") || ends_with(host, ".internal")) {
    return true;
  }
  return is_private_or_local_ip(host);
}

bool bearer_matches(const std::string& authorization, const std::string& key) {
  const std::string want = "Bearer " + key;
  if (authorization.size() != want.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    diff |= static_cast<unsigned char>(authorization[i] ^ want[i]);
  }
  return diff == 0;
}

}  // namespace hearth::server
