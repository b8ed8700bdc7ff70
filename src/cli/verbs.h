#pragma once
// Each verb adds its subcommand to the app; cli_main.cc lists them all in one place.

#include <CLI/CLI.hpp>

namespace hearth::cli {

// Registered in cli_main.cc. A verb's callback may throw hearth::Error.
void add_version_flag(CLI::App& app);

}  // namespace hearth::cli
