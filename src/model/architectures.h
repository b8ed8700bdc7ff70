#pragma once
// One factory per architecture (one file each); registry.cc maps general.architecture to them.

#include <memory>

#include "model/model.h"

namespace hearth::model {

std::unique_ptr<Model> make_llama(gguf::File file, const ops::Backend& backend);
std::unique_ptr<Model> make_qwen2(gguf::File file, const ops::Backend& backend);
std::unique_ptr<Model> make_qwen3(gguf::File file, const ops::Backend& backend);

}  // namespace hearth::model
