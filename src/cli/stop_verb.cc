// `hearth stop MODEL`: asks the server to unload a model now (an empty generate with
// keep_alive 0, as Ollama does).
#include "cli/api_client.h"
#include "cli/verbs.h"
#include "util/error.h"

namespace hearth::cli {

void add_stop_verb(CLI::App& app) {
  auto* cmd = app.add_subcommand("stop", "Stop a running model");
  auto model = std::make_shared<std::string>();
  cmd->add_option("model", *model, "Model name")->required();
  cmd->callback([model] {
    auto client = client_from_env();
    try {
      client->post("/api/generate", {{"model", *model}, {"keep_alive", 0}});
    } catch (const Error& e) {
      if (std::string(e.what()).find("not found") != std::string::npos) {
        throw Error(ErrorCode::not_found, "couldn't find model \"" + *model + "\" to stop");
      }
      throw;
    }
  });
}

}  // namespace hearth::cli
