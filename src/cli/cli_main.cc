#include "cli/cli_main.h"

#include <cstdio>
#include <exception>

#include "cli/verbs.h"
#include "cli/version.h"
#include "util/error.h"

namespace hearth::cli {

void add_version_flag(CLI::App& app) {
  app.add_flag_callback(
      "-v,--version",
      [] {
        std::printf("hearth version is %s\n", kVersion);
        throw CLI::Success();
      },
      "Show version information");
}

int main(int argc, char** argv) {
  CLI::App app{"Large language model runner", "hearth"};
  app.require_subcommand(0, 1);
  add_version_flag(app);
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
