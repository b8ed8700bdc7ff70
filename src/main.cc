// The hearth executable: everything lives in the library; the CLI's main is the error edge.
#include "cli/cli_main.h"

int main(int argc, char** argv) { return hearth::cli::main(argc, argv); }
