#pragma once
// Each verb adds its subcommand to the app; cli_main.cc lists them all in one place.

#include <CLI/CLI.hpp>

namespace hearth::cli {

// Registered in cli_main.cc. A verb's callback may throw hearth::Error.
void add_version_flag(CLI::App& app);
void add_pull_verb(CLI::App& app);
void add_push_verb(CLI::App& app);
void add_create_verb(CLI::App& app);
void add_list_verb(CLI::App& app);
void add_rm_verb(CLI::App& app);
void add_cp_verb(CLI::App& app);
void add_ps_verb(CLI::App& app);
void add_show_verb(CLI::App& app);
void add_stop_verb(CLI::App& app);
void add_bench_verb(CLI::App& app);
void add_tokenize_verb(CLI::App& app);
void add_run_verb(CLI::App& app);
void add_serve_verb(CLI::App& app);

}  // namespace hearth::cli
