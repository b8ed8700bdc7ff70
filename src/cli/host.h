#pragma once
// HEARTH_HOST (falling back to OLLAMA_HOST) parsed the way Ollama parses OLLAMA_HOST: `host`,
// `host:port`, `:port`, `[v6]:port`, `scheme://host[:port][/path]`. The same value is the server's
// bind address and the CLI's target; the CLI maps an unspecified host (0.0.0.0, ::, empty) to
// loopback, since it can connect only to a concrete address.

#include <string>
#include <string_view>

namespace hearth::cli {

struct HostAddress {
  std::string scheme = "http";
  std::string host = "127.0.0.1";  // may be empty (bind every interface)
  int port = 11434;
  std::string path;                // without the leading '/', usually empty

  // "http://127.0.0.1:11434" (IPv6 hosts bracketed), plus "/path" when set.
  std::string url() const;
  // url() with an unspecified host replaced by loopback: where a client should connect.
  std::string client_url() const;
};

// Never throws: a bad port falls back to the default with a warning on stderr, as Ollama does.
HostAddress parse_host(std::string_view text);
// parse_host(env_value("HEARTH_HOST")).
HostAddress host_from_env();

}  // namespace hearth::cli
