#pragma once
// Where a verb sends its API calls: the server at HEARTH_HOST when one answers HEAD /, otherwise
// (for run and the model verbs) the same server code started inside this process on a loopback
// port over the same store, announced once on stderr. Each verb then has one code path.

#include <memory>
#include <string>

#include "cli/api_client.h"

namespace hearth::cli {

// The API served inside the CLI's own process (local_server.cc).
class LocalServer {
 public:
  virtual ~LocalServer() = default;
  // "http://127.0.0.1:<port>".
  virtual std::string url() const = 0;
};

// Starts the in-process server on 127.0.0.1 and an ephemeral port. Throws hearth::Error.
std::unique_ptr<LocalServer> start_local_server();

class Connection {
 public:
  Connection(std::unique_ptr<ApiClient> client, std::unique_ptr<LocalServer> local)
      : local_(std::move(local)), client_(std::move(client)) {}
  ApiClient& client() { return *client_; }
  bool in_process() const { return local_ != nullptr; }

 private:
  std::unique_ptr<LocalServer> local_;  // outlives the client (declared first, destroyed last)
  std::unique_ptr<ApiClient> client_;
};

// A client for the server at HEARTH_HOST when one answers HEAD /, else nullptr (verbs that can
// also work on the store directly use this to prefer the server: its store may be another one,
// e.g. the service user's).
std::unique_ptr<ApiClient> running_server();

// The server at HEARTH_HOST, else (when `allow_in_process`) an in-process one, else
// Error(io, "could not connect to hearth server, run 'hearth serve' to start it").
std::unique_ptr<Connection> connect(bool allow_in_process);

}  // namespace hearth::cli
