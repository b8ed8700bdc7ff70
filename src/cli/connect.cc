#include "cli/connect.h"

#include <cstdio>

#include "cli/host.h"
#include "util/env.h"

namespace hearth::cli {

std::unique_ptr<ApiClient> running_server() {
  auto client = client_from_env();
  if (!client->heartbeat()) return nullptr;
  return client;
}

std::unique_ptr<Connection> connect(bool allow_in_process) {
  auto client = client_from_env();
  if (client->heartbeat() || !allow_in_process) {
    return std::make_unique<Connection>(std::move(client), nullptr);
  }
  auto local = start_local_server();
  std::fprintf(stderr, "no hearth server at %s; running in-process on %s\n",
               host_from_env().client_url().c_str(), local->url().c_str());
  auto local_client = std::make_unique<ApiClient>(local->url(), env_value("HEARTH_API_KEY"));
  return std::make_unique<Connection>(std::move(local_client), std::move(local));
}

}  // namespace hearth::cli
