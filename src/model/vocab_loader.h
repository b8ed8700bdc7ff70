#pragma once
// Builds a tokenizer::Vocab from a GGUF file's tokenizer.ggml.* keys. Reads metadata only, so it
// works on vocabulary-only files and never touches tensor data.

#include "gguf/gguf_file.h"
#include "tokenizer/vocab.h"

namespace hearth::model {

// Errors: Error(not_found / corrupt / unsupported) "loading vocabulary from <path>: ...".
tokenizer::Vocab load_vocab(const gguf::File& file);

}  // namespace hearth::model
