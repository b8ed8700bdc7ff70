// `hearth cp SOURCE DESTINATION`: a second name for a model (the manifest is copied, blobs shared).
#include <cstdio>
#include <memory>
#include <string>

#include "cli/connect.h"
#include "cli/verbs.h"
#include "store/store.h"

namespace hearth::cli {

void add_cp_verb(CLI::App& app) {
  auto* cmd = app.add_subcommand("cp", "Copy a model");
  auto src = std::make_shared<std::string>();
  auto dst = std::make_shared<std::string>();
  cmd->add_option("SOURCE", *src, "Source model")->required();
  cmd->add_option("DESTINATION", *dst, "Destination model")->required();
  cmd->callback([src, dst] {
    if (auto client = running_server()) {
      client->post("/api/copy", {{"source", *src}, {"destination", *dst}});
      return (void)std::printf("copied '%s' to '%s'\n", src->c_str(), dst->c_str());
    }
    store::Store st = store::Store::open_default();
    st.copy(*src, *dst);
    std::printf("copied '%s' to '%s'\n", src->c_str(), dst->c_str());
  });
}

}  // namespace hearth::cli
