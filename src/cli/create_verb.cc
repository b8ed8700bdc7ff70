// `hearth create [-f Modelfile] [-q TYPE] MODEL`: builds a model from a Modelfile (in-process).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/store_progress.h"
#include "cli/connect.h"
#include "cli/transfer.h"
#include "cli/verbs.h"
#include "store/atomic_file.h"
#include "store/create.h"
#include "store/registry_ops.h"
#include "util/error.h"

namespace hearth::cli {

void add_create_verb(CLI::App& app) {
  auto* cmd = app.add_subcommand("create", "Create a model from a Modelfile");
  auto model = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>("Modelfile");
  auto quantize = std::make_shared<std::string>();
  cmd->add_option("MODEL", *model, "Model name")->required();
  cmd->add_option("-f,--file", *file, "Name of the Modelfile (default \"Modelfile\")");
  cmd->add_option("-q,--quantize", *quantize, "Quantize model to this level (e.g. q4_K_M)");
  cmd->callback([model, file, quantize] {
    std::string text;
    try {
      text = store::read_file(*file, 16u << 20);
    } catch (const Error& e) {
      throw Error(e.code(), "reading Modelfile: " + std::string(e.what()));
    }
    store::Modelfile mf = store::Modelfile::parse(text);
    std::string dir = std::filesystem::absolute(*file).parent_path().string();
    std::vector<std::string> warnings;
    store::CreateSpec spec = store::build_create_spec(mf, dir, &warnings);
    for (const auto& w : warnings) std::printf("warning: %s\n", w.c_str());
    spec.quantize = *quantize;
    if (auto client = running_server()) {
      return create_with_progress(*client, create_request(*client, *model, spec));
    }
    store::Store st = store::Store::open_default();
    StoreProgressPrinter printer;
    printer(store::Progress{"gathering model components", "", 0, 0});
    store::create_model(st, *model, spec, store::default_registry_options(), printer.callback());
  });
}

}  // namespace hearth::cli
