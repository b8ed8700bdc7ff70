// `hearth cp SOURCE DESTINATION`: a second name for a model (the manifest is copied, blobs shared).
// Always through the API (the in-process server when none runs), so the errors are the server's:
// `model "x" not found`, `source "x" is invalid`, as Ollama prints them.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/connect.h"
#include "cli/verbs.h"

namespace hearth::cli {

void add_cp_verb(CLI::App& app) {
  auto* cmd = app.add_subcommand("cp", "Copy a model");
  auto src = std::make_shared<std::string>();
  auto dst = std::make_shared<std::string>();
  cmd->add_option("SOURCE", *src, "Source model")->required();
  cmd->add_option("DESTINATION", *dst, "Destination model")->required();
  cmd->callback([src, dst] {
    auto conn = connect(true);
    conn->client().post("/api/copy", {{"source", *src}, {"destination", *dst}});
    std::printf("copied '%s' to '%s'\n", src->c_str(), dst->c_str());
  });
}

}  // namespace hearth::cli
