// `hearth pull [--insecure] MODEL`: downloads a model from its registry into the store
// (in-process; store::pull_model does the work).
#include <memory>
#include <string>

#include "cli/store_progress.h"
#include "cli/connect.h"
#include "cli/transfer.h"
#include "cli/verbs.h"
#include "store/registry_ops.h"

namespace hearth::cli {

void add_pull_verb(CLI::App& app) {
  auto* cmd = app.add_subcommand("pull", "Pull a model from a registry");
  auto model = std::make_shared<std::string>();
  auto insecure = std::make_shared<bool>(false);
  cmd->add_option("MODEL", *model, "Model name")->required();
  cmd->add_flag("--insecure", *insecure, "Use an insecure registry");
  cmd->callback([model, insecure] {
    if (auto client = running_server()) return pull_with_progress(*client, *model, *insecure);
    store::Store st = store::Store::open_default();
    store::RegistryOptions opts = store::default_registry_options();
    opts.insecure = *insecure;
    StoreProgressPrinter printer;
    store::pull_model(st, *model, opts, printer.callback());
  });
}

}  // namespace hearth::cli
