#pragma once
// Internal to src/engine: the one process-wide lock every forward pass and thread-pool resize
// takes (runner.cc explains why), shared by completions and embeddings.

#include <mutex>

namespace hearth::engine {

std::mutex& compute_mutex();

}  // namespace hearth::engine
