// `hearth show MODEL [--license|--modelfile|--parameters|--system|--template] [-v]`.
#include <cstdio>

#include "cli/connect.h"
#include "cli/repl.h"
#include "cli/verb_text.h"
#include "cli/verbs.h"
#include "util/error.h"

namespace hearth::cli {
namespace {

struct ShowFlags {
  std::string model;
  bool license = false, modelfile = false, parameters = false, system = false, tmpl = false;
  bool verbose = false;
};

}  // namespace

std::string show_text(const Json& resp, const std::string& only, bool verbose) {
  auto field = [&](const char* k) { return resp.value(k, std::string()); };
  if (only == "license") return field("license") + "\n";
  if (only == "modelfile") return field("modelfile") + "\n";
  if (only == "parameters") return field("parameters") + "\n";
  if (only == "system") return field("system");
  if (only == "template") return field("template");
  return format_show_info(resp, verbose);
}

void add_show_verb(CLI::App& app) {
  auto f = std::make_shared<ShowFlags>();
  auto* cmd = app.add_subcommand("show", "Show information for a model");
  cmd->add_option("model", f->model, "Model name")->required();
  cmd->add_flag("--license", f->license, "Show license of a model");
  cmd->add_flag("--modelfile", f->modelfile, "Show Modelfile of a model");
  cmd->add_flag("--parameters", f->parameters, "Show parameters of a model");
  cmd->add_flag("--system", f->system, "Show system message of a model");
  cmd->add_flag("--template", f->tmpl, "Show template of a model");
  cmd->add_flag("-v,--verbose", f->verbose, "Show detailed model information");
  cmd->callback([f] {
    int set = 0;
    std::string only;
    const std::pair<bool, const char*> flags[] = {{f->license, "license"},
                                                  {f->modelfile, "modelfile"},
                                                  {f->parameters, "parameters"},
                                                  {f->system, "system"},
                                                  {f->tmpl, "template"}};
    for (const auto& [on, name] : flags) {
      if (on) {
        ++set;
        only = name;
      }
    }
    if (set > 1) {
      throw Error(ErrorCode::invalid_argument,
                  "only one of '--license', '--modelfile', '--parameters', '--system', or "
                  "'--template' can be specified");
    }
    auto conn = connect(true);
    Json req = {{"model", f->model}};
    if (f->verbose) req["verbose"] = true;
    const Json resp = conn->client().post("/api/show", req);
    const std::string text = show_text(resp, only, f->verbose);
    std::fputs(text.c_str(), stdout);
  });
}

}  // namespace hearth::cli
