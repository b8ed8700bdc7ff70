#pragma once
// `hearth serve`: the Ollama-compatible HTTP server (native /api/* and OpenAI /v1/*).
// One route table (routes.cc), one error-to-status map (http_util.cc), handlers that turn
// requests into plain structs for the scheduler and the store.

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/scheduler.h"
#include "server/net_policy.h"

namespace hearth::store {
class Store;
}

namespace hearth::server {

// Reported by /api/version (and `hearth -v`): the Ollama release whose API Hearth follows
// (ollama-compat.md, tag v0.33.0), not the project's own number (CMakeLists.txt). Clients gate on
// this answer: Open WebUI flags a server below 0.1.16 as outdated ("Ollama Version: ..." error),
// so the 0.1.0 answered before looked like an ancient Ollama. README.md "API version" says more.
inline constexpr const char* kHearthVersion = "0.33.0";

struct ServerConfig {
  BindAddress bind;
  std::vector<std::string> origins;  // allow-list patterns (built-ins included)
  std::string api_key;               // empty: no authentication
  size_t max_body_bytes = 32u << 20; // JSON bodies; blob uploads are streamed to disk
  int num_parallel = 1;
  int default_num_ctx = 4096;
  int num_thread = 0;
  std::string kv_cache_type = "f16";
  size_t http_threads = 64;          // connections served at once (streams hold one each)
  // Prune unreferenced blobs at bind() (HEARTH_NOPRUNE still wins). The CLI's stand-in server,
  // which lives for one command, turns it off: pruning is `hearth serve`'s start-up work, as it
  // is only `ollama serve`'s.
  bool prune_on_start = true;
  // HEARTH_GO_TEMPLATE (default true): a model's Go TEMPLATE renders rather than its GGUF Jinja
  // chat template, unless the Jinja one has capabilities (tools, thinking) the Go one lacks.
  bool prefer_go_template = true;

  // From HEARTH_* (OLLAMA_*) variables.
  static ServerConfig from_env();
};

class Server {
 public:
  Server(ServerConfig config, std::shared_ptr<engine::Scheduler> scheduler,
         std::shared_ptr<store::Store> store);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the configured address (port 0: any free port) and returns the port. Then, as Ollama
  // does at start-up, prunes the store's unreferenced blobs and dead temp files unless
  // HEARTH_NOPRUNE is set or config.prune_on_start is off.
  // Throws Error(io) when the address cannot be bound.
  int bind();
  // Serves until stop(). bind() first.
  void listen();
  // bind() + listen() on a background thread (tests).
  int start_background();
  void stop();
  int port() const { return port_; }

  struct State;

 private:
  std::unique_ptr<State> state_;
  int port_ = 0;
  std::thread thread_;
};

// The scheduler options from HEARTH_* variables.
engine::SchedulerOptions scheduler_options_from_env();

}  // namespace hearth::server
