#include "cli/cli_main.h"

#include <cstdio>
#include <exception>

#include "cli/api_client.h"
#include "cli/verb_text.h"
#include "cli/verbs.h"
#include "cli/version.h"
#include "util/error.h"

namespace hearth::cli {

std::string version_text(const std::string& server_version, bool connected) {
  std::string out;
  if (!connected) out += "Warning: could not connect to a running Hearth instance\n";
  if (!server_version.empty()) out += "hearth version is " + server_version + "\n";
  if (server_version != kVersion) out += std::string("Warning: client version is ") + kVersion + "\n";
  return out;
}

void add_version_flag(CLI::App& app) {
  app.add_flag_callback(
      "-v,--version",
      [] {
        std::string server_version;
        bool connected = false;
        try {
          auto client = client_from_env();
          if (client->heartbeat()) {
            server_version = client->get("/api/version").value("version", "");
            connected = true;
          }
        } catch (const Error&) {
        }
        std::fputs(version_text(server_version, connected).c_str(), stdout);
        throw CLI::Success();
      },
      "Show version information");
}

int main(int argc, char** argv) {
  CLI::App app{"Large language model runner", "hearth"};
  app.require_subcommand(0, 1);
  add_version_flag(app);
  add_pull_verb(app);
  add_push_verb(app);
  add_create_verb(app);
  add_list_verb(app);
  add_rm_verb(app);
  add_cp_verb(app);
  add_ps_verb(app);
  add_show_verb(app);
  add_stop_verb(app);
  add_bench_verb(app);
  add_tokenize_verb(app);
  add_run_verb(app);
  add_serve_verb(app);
  try {
    app.parse(argc, argv);
    if (app.get_subcommands().empty()) {
      std::printf("%s", app.help().c_str());
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Error& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Error: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace hearth::cli
