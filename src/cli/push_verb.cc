// `hearth push [--insecure] MODEL`: uploads a model's blobs and manifest to its registry.
#include <memory>
#include <string>

#include "cli/store_progress.h"
#include "cli/connect.h"
#include "cli/transfer.h"
#include "cli/verbs.h"
#include "store/registry_ops.h"

namespace hearth::cli {

void add_push_verb(CLI::App& app) {
  auto* cmd = app.add_subcommand("push", "Push a model to a registry");
  auto model = std::make_shared<std::string>();
  auto insecure = std::make_shared<bool>(false);
  cmd->add_option("MODEL", *model, "Model name")->required();
  cmd->add_flag("--insecure", *insecure, "Use an insecure registry");
  cmd->callback([model, insecure] {
    if (auto client = running_server()) return push_with_progress(*client, *model, *insecure);
    store::Store st = store::Store::open_default();
    store::RegistryOptions opts = store::default_registry_options();
    opts.insecure = *insecure;
    StoreProgressPrinter printer;
    store::push_model(st, *model, opts, printer.callback());
  });
}

}  // namespace hearth::cli
