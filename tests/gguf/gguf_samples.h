#pragma once
// Small GGUF files built with the Writer, shared by the round-trip and corrupt-file tests and the
// fuzz seed corpus generator.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gguf/gguf_writer.h"

namespace hearth::gguf::testing {

// Every metadata value type (nested arrays and an empty array included) and four tensors
// (f32, f16, q8_0, q4_K) with patterned data.
Writer all_types_writer();
// Two keys and one small f32 tensor: small enough to truncate at every length and to patch.
Writer tiny_writer();
// A vocabulary-like file: token strings, scores, types, ids; no tensors.
Writer vocab_writer();

// Patterned bytes for a tensor of n bytes (seeded so tensors differ).
std::vector<uint8_t> pattern_bytes(size_t n, uint32_t seed);

// The named seed files for tests/fuzz/corpus/fuzz_gguf/.
std::vector<std::pair<std::string, std::vector<uint8_t>>> fuzz_seed_files();

}  // namespace hearth::gguf::testing
