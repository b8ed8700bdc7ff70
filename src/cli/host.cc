#include "cli/host.h"

#include <cstdio>
#include <cstdlib>

#include "util/env.h"

namespace hearth::cli {
namespace {

std::string_view trim_value(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  // envconfig.Var strips one pair of surrounding quotes.
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    s = s.substr(1, s.size() - 2);
  }
  return s;
}

bool parse_port(std::string_view s, int* out) {
  if (s.empty() || s.size() > 5) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > 65535) return false;
  *out = v;
  return true;
}

std::string bracket(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

HostAddress parse_host(std::string_view text) {
  HostAddress a;
  std::string_view s = trim_value(text);
  int default_port = 11434;
  size_t sep = s.find("://");
  if (sep != std::string_view::npos) {
    a.scheme = std::string(s.substr(0, sep));
    s = s.substr(sep + 3);
    if (a.scheme == "http") default_port = 80;
    if (a.scheme == "https") default_port = 443;
  }
  size_t slash = s.find('/');
  if (slash != std::string_view::npos) {
    a.path = std::string(s.substr(slash + 1));
    s = s.substr(0, slash);
  }
  a.port = default_port;
  // Split host and port: "[v6]:p", "h:p", ":p"; a bare IPv6 address has several colons.
  std::string_view host = s, port;
  bool has_port = false;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close != std::string_view::npos) {
      host = s.substr(1, close - 1);
      if (close + 1 < s.size() && s[close + 1] == ':') {
        port = s.substr(close + 2);
        has_port = true;
      }
    }
  } else if (s.find(':') != std::string_view::npos && s.find(':') == s.rfind(':')) {
    size_t c = s.find(':');
    host = s.substr(0, c);
    port = s.substr(c + 1);
    has_port = true;
  }
  if (!has_port) {
    // No port: Ollama keeps the default host only when nothing was given at all.
    a.host = s.empty() ? "127.0.0.1" : std::string(host);
    return a;
  }
  a.host = std::string(host);
  int p = 0;
  if (parse_port(port, &p)) {
    a.port = p;
  } else {
    std::fprintf(stderr, "invalid port, using default: port=%.*s default=%d\n",
                 static_cast<int>(port.size()), port.data(), default_port);
  }
  return a;
}

std::string HostAddress::url() const {
  std::string u = scheme + "://" + bracket(host) + ":" + std::to_string(port);
  if (!path.empty()) u += "/" + path;
  return u;
}

std::string HostAddress::client_url() const {
  HostAddress c = *this;
  if (c.host.empty() || c.host == "0.0.0.0") c.host = "127.0.0.1";
  if (c.host == "::") c.host = "::1";
  return c.url();
}

HostAddress host_from_env() { return parse_host(env_value("HEARTH_HOST")); }

}  // namespace hearth::cli
