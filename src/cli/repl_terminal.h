#pragma once
// The line editor around Repl: libedit with `>>> ` / `... ` prompts, history in
// ~/.hearth/history (unless HEARTH_NOHISTORY or /set nohistory), Ctrl+C and Ctrl+D.

#include "cli/repl.h"

namespace hearth::cli {

// Reads lines from the terminal on stdin until /bye or Ctrl+D. Needs an InterruptScope alive.
void run_repl_on_terminal(Repl& repl);

// Columns of the terminal on stdout (80 when unknown).
int terminal_width();

// ~/.hearth/history (the directory is created when missing); empty when HOME is unset.
std::string history_path();

}  // namespace hearth::cli
