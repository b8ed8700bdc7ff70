#pragma once
// Whether decode steps read each row's best logits (model::Model::forward_best) instead of whole
// rows when the sampling settings allow it: HEARTH_DEVICE_SAMPLING (or a LoadOptions value)
// 1 always (the CPU too: tests, comparisons), 0 never, unset where the model says it saves a
// device transfer (its output head on a GPU).

#include "model/model.h"

namespace hearth::engine {

// option: -1 reads HEARTH_DEVICE_SAMPLING; 0 never; 1 always; 2 where it pays.
// Error(invalid_argument) for a variable that is not 0 or 1.
bool best_logits_on(const model::Model& model, int option = -1);

// What `hearth bench` decode steps read when best logits are on: the 40 best, what Ollama's
// default sampling (top_k 40) needs.
constexpr int kBenchBestLogits = 40;

}  // namespace hearth::engine
