#pragma once
// GPT-2's byte-level alphabet: every byte is written as one printable code point so that BPE
// vocabularies can store arbitrary bytes as text ("Ġ" is the space byte 0x20).

#include <cstdint>
#include <string>
#include <string_view>

namespace hearth::tokenizer {

// The UTF-8 text of the code point that stands for byte b.
const std::string& byte_to_symbol(uint8_t b);

// Decodes a byte-level token text back to its bytes; code points outside the alphabet are kept
// as their UTF-8 (a malformed vocabulary entry then reads as itself rather than vanishing).
std::string byte_level_decode(std::string_view text);

}  // namespace hearth::tokenizer
