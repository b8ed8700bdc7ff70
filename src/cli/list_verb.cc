// `hearth list` / `hearth ls [PREFIX]`: the models in the store, newest first. Without a server the
// store is read directly; both paths print the same table (run_session.h's list_table).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/connect.h"
#include "cli/run_session.h"
#include "cli/verbs.h"
#include "store/store.h"

namespace hearth::cli {

void add_list_verb(CLI::App& app) {
  auto* cmd = app.add_subcommand("list", "List models");
  cmd->alias("ls");
  auto prefix = std::make_shared<std::string>();
  cmd->add_option("PREFIX", *prefix, "Only models whose name starts with this");
  cmd->callback([prefix] {
    if (auto client = running_server()) return (void)std::fputs(list_table(*client, *prefix).c_str(), stdout);
    std::vector<ListRow> models;
    for (const auto& e : store::Store::open_default().list()) {
      models.push_back({e.name.display(), e.digest, static_cast<int64_t>(e.size), e.modified});
    }
    std::fputs(list_table(models, *prefix).c_str(), stdout);
  });
}

}  // namespace hearth::cli
