#pragma once

namespace hearth::cli {

// Parses the command line, runs one verb, and turns hearth::Error into a message and exit code 1.
int main(int argc, char** argv);

}  // namespace hearth::cli
