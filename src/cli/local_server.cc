// The in-process fallback: the real server (routes, scheduler, store) on 127.0.0.1 and an
// ephemeral port inside the CLI's own process, so `run` and the model verbs behave exactly as
// they do against `hearth serve`.
#include <csignal>
#include <cstdio>

#include "cli/connect.h"
#include "engine/loaded_model.h"
#include "engine/scheduler.h"
#include "server/server.h"
#include "store/store.h"
#include "util/log.h"

namespace hearth::cli {
namespace {

class InProcessServer final : public LocalServer {
 public:
  InProcessServer() {
    // The terminal belongs to the answer: the server's info lines (config, listening) are noise
    // here. Warnings and errors still show.
    set_log_level(LogLevel::warn);
    // A Ctrl+C closes our own client's socket; the server side must see EPIPE, not die of it.
    std::signal(SIGPIPE, SIG_IGN);
    server::ServerConfig config = server::ServerConfig::from_env();
    config.bind.scheme = "http";
    config.bind.host = "127.0.0.1";
    config.bind.port = 0;
    config.prune_on_start = false;  // one command's server: no store-wide scan each time
    auto store = std::make_shared<store::Store>(store::Store::default_root());
    std::shared_ptr<engine::ModelLoader> loader = engine::make_runner_loader();
    auto scheduler =
        std::make_shared<engine::Scheduler>(server::scheduler_options_from_env(), loader);
    server_ = std::make_unique<server::Server>(config, scheduler, store);
    port_ = server_->start_background();
  }
  ~InProcessServer() override { server_->stop(); }
  std::string url() const override { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::unique_ptr<server::Server> server_;
  int port_ = 0;
};

}  // namespace

std::unique_ptr<LocalServer> start_local_server() { return std::make_unique<InProcessServer>(); }

}  // namespace hearth::cli
