#pragma once
// Unicode properties the pre-tokenizers need, from the generated tables (unicode_tables.cc).

#include <cstdint>

namespace hearth::tokenizer {

// Order matches gen_unicode_tables.mjs.
enum class GeneralCategory : uint8_t {
  Cn, Lu, Ll, Lt, Lm, Lo, Mn, Mc, Me, Nd, Nl, No, Pc, Pd, Ps, Pe, Pi, Pf, Po, Sm, Sc, Sk, So,
  Zs, Zl, Zp, Cc, Cf, Cs, Co,
};

// Bit flags: the regex classes \p{L}, \p{M}, \p{N}, \p{P}, \p{S} and \s (White_Space).
enum CpClass : uint8_t {
  kLetter = 1,
  kMark = 2,
  kNumber = 4,
  kPunct = 8,
  kSymbol = 16,
  kSpace = 32,
};

GeneralCategory general_category(uint32_t cp);
uint8_t cp_class(uint32_t cp);  // CpClass bits; 0 for code points beyond U+10FFFF

}  // namespace hearth::tokenizer
