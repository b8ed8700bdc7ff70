#pragma once
// Pre-tokenizers: split text into the pieces that byte-level BPE merges within, exactly as the
// vocabularies' split regexes (tokenizer.json "Split" steps, llama.cpp's regex lists) do. They
// are hand-written matchers over Unicode classes, one function per regex alternative list, so
// no regex engine runs and the cost is linear in the text.

#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace hearth::tokenizer {

// Appends the pieces of `text` (well-formed UTF-8; see utf8_sanitize) to `out`, in order; their
// concatenation is `text`. Each piece views into `text`.
void pre_tokenize(PreTokenizer pre, std::string_view text, std::vector<std::string_view>& out);

}  // namespace hearth::tokenizer
