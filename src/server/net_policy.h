#pragma once
// Who may talk to the server: the bind address (HEARTH_HOST in all of Ollama's forms), CORS
// origins (HEARTH_ORIGINS plus Ollama's built-in allow-list), the Host-header check that defends
// loopback binds against DNS rebinding, and the optional bearer key (HEARTH_API_KEY).

#include <string>
#include <vector>

namespace hearth::server {

struct BindAddress {
  std::string scheme = "http";
  std::string host = "127.0.0.1";  // "0.0.0.0" when the value was ":port"
  int port = 11434;
  std::string display() const;  // "127.0.0.1:11434"
};

// Parses "host", "host:port", ":port", "http(s)://host[:port][/path]", "[::1]:port". A bad port
// falls back to the default (11434, or 80/443 with a scheme), as Ollama does.
BindAddress parse_host(const std::string& value);

bool is_loopback_host(const std::string& host);

// The origins always allowed plus the extra comma-separated ones.
std::vector<std::string> allowed_origins(const std::string& extra);
// Exact match, or a pattern with one '*' wildcard ("chrome-extension://*", "*").
bool origin_allowed(const std::vector<std::string>& patterns, const std::string& origin);

// Host-header check for loopback binds: loopback, private and unspecified IPs, "localhost",
// the machine's hostname, and names under .localhost, .local, .internal.
bool host_header_allowed(const std::string& host_header);

// Constant-time comparison of an Authorization header against "Bearer <key>".
bool bearer_matches(const std::string& authorization, const std::string& key);

}  // namespace hearth::server
