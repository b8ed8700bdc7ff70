#pragma once
// A vocabulary-only GGUF made at test time from a Hugging Face byte-level BPE tokenizer.json,
// laid out as llama.cpp's converter lays one out (and as make_bpe_llamacpp_goldens.py writes it
// for llama.cpp): ids in order, gaps as UNUSED "[PADn]", added special tokens CONTROL, other
// added tokens USER_DEFINED, merges as "left right".

#include <cstdint>
#include <string>
#include <vector>

namespace hearth::tokenizer::testing {

// The GGUF's bytes, with tokenizer.ggml.pre = `pre`. Throws on a file that is not BPE.
std::vector<uint8_t> bpe_vocab_gguf(const std::string& tokenizer_json_path, const std::string& pre);

}  // namespace hearth::tokenizer::testing
