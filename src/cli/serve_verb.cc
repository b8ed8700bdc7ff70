// `hearth serve`: runs the HTTP server in the foreground until SIGINT/SIGTERM, then unloads
// every model.

#include <signal.h>

#include <memory>
#include <thread>

#include "cli/verbs.h"
#include "engine/loaded_model.h"
#include "engine/scheduler.h"
#include "server/server.h"
#include "store/store.h"
#include "util/env.h"
#include "util/log.h"

namespace hearth::cli {

namespace {

void run_serve() {
  server::ServerConfig config = server::ServerConfig::from_env();
  engine::SchedulerOptions sched = server::scheduler_options_from_env();
  std::string env_line = "server config env=map[";
  for (const auto& v : env_vars()) {
    std::string value = env_value(v.name);
    if (std::string(v.name) == "HEARTH_API_KEY" && !value.empty()) value = "<set>";
    env_line += std::string(v.name) + ":" + value + " ";
  }
  if (env_line.back() == ' ') env_line.pop_back();
  HEARTH_LOG_INFO(env_line + "]");

  // Block the stop signals in every thread; one thread waits for them and stops the server.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto store = std::make_shared<store::Store>(store::Store::default_root());
  auto scheduler = std::make_shared<engine::Scheduler>(
      sched, std::shared_ptr<engine::ModelLoader>(engine::make_runner_loader()));
  server::Server srv(config, scheduler, store);
  srv.bind();
  std::thread waiter([&srv, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    HEARTH_LOG_INFO("received signal " + std::to_string(sig) + ", shutting down");
    srv.stop();
  });
  srv.listen();
  // listen() returned: either the signal thread stopped us, or the listener failed.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
}

}  // namespace

void add_serve_verb(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("serve", "Start hearth");
  cmd->alias("start");
  cmd->footer(
      "Environment Variables:\n"
      "      HEARTH_HOST                IP address for the hearth server (default 127.0.0.1:11434)\n"
      "      HEARTH_KEEP_ALIVE          The duration that models stay loaded in memory (default \"5m\")\n"
      "      HEARTH_MAX_LOADED_MODELS   Maximum number of loaded models\n"
      "      HEARTH_MAX_QUEUE           Maximum number of queued requests\n"
      "      HEARTH_MODELS              The path to the models directory\n"
      "      HEARTH_NUM_PARALLEL        Maximum number of parallel requests\n"
      "      HEARTH_NOPRUNE             Do not prune model blobs on startup\n"
      "      HEARTH_ORIGINS             A comma separated list of allowed origins\n"
      "      HEARTH_CONTEXT_LENGTH      Context length to use unless otherwise specified (default: 4k/32k/256k based on VRAM)\n"
      "      HEARTH_API_KEY             Require Authorization: Bearer <key> on every request but GET /\n"
      "      HEARTH_DEBUG               Show additional debug information (e.g. HEARTH_DEBUG=1)\n"
      "      HEARTH_KV_CACHE_TYPE       Quantization type for the K/V cache (default: f16; q8_0, q4_0, f32)\n"
      "      HEARTH_FLASH_ATTENTION     Accepted and ignored: attention is always computed tiled (flash)\n"
      "      HEARTH_GPU                 0 runs every model on the CPU\n"
      "      HEARTH_VULKAN_DEVICE       Vulkan device index to use (default: the first GPU)\n"
      "      HEARTH_GPU_OVERHEAD        Reserve a portion of VRAM per GPU (bytes)\n"
      "      HEARTH_DEVICE_SAMPLING     0 reads whole logits rows back from the GPU (default: only each row's best when sampling allows)\n"
      "      (each OLLAMA_* name works when the HEARTH_* one is unset)");
  cmd->callback([] { run_serve(); });
}

}  // namespace hearth::cli
