// `hearth rm MODEL...`: removes models and the blobs only they used.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/verbs.h"
#include "store/store.h"

namespace hearth::cli {

void add_rm_verb(CLI::App& app) {
  auto* cmd = app.add_subcommand("rm", "Remove a model");
  auto models = std::make_shared<std::vector<std::string>>();
  cmd->add_option("MODEL", *models, "Model names")->required();
  cmd->callback([models] {
    store::Store st = store::Store::open_default();
    for (const auto& m : *models) {
      st.remove(m);
      std::printf("deleted '%s'\n", m.c_str());
    }
  });
}

}  // namespace hearth::cli
