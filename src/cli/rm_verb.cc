// `hearth rm MODEL...`: removes models and the blobs only they used.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/connect.h"
#include "util/error.h"
#include "cli/verbs.h"
#include "store/store.h"

namespace hearth::cli {

void add_rm_verb(CLI::App& app) {
  auto* cmd = app.add_subcommand("rm", "Remove a model");
  auto models = std::make_shared<std::vector<std::string>>();
  cmd->add_option("MODEL", *models, "Model names")->required();
  cmd->callback([models] {
    if (auto client = running_server()) {
      for (const auto& m : *models) {
        try {  // unload first, as Ollama does; a model that is not loaded is fine
          client->post("/api/generate", {{"model", m}, {"keep_alive", 0}});
        } catch (const Error&) {
        }
        client->del("/api/delete", {{"model", m}});
        std::printf("deleted '%s'\n", m.c_str());
      }
      return;
    }
    store::Store st = store::Store::open_default();
    for (const auto& m : *models) {
      st.remove(m);
      std::printf("deleted '%s'\n", m.c_str());
    }
  });
}

}  // namespace hearth::cli
