#pragma once
// Token masking for constrained decoding: which tokens of a vocabulary can continue a
// GrammarMatcher, and sampling restricted to them.
//
// sample_with_grammar() samples normally first and checks only the chosen token (a copy of the
// matcher fed the token's bytes: microseconds). Only when that token is rejected does it compute
// the full mask and resample from the allowed tokens. The mask walks the vocabulary sorted by
// bytes, so tokens sharing a prefix share the work of feeding it and a rejected prefix rejects
// all its extensions at once; inside a string, tokens of plain characters are accepted by
// counting alone, and inside a string with a pattern by walking the pattern's DFA alone.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sample/grammar.h"
#include "sample/sampler.h"

namespace hearth::sample {

// Buffers reused between calls (one per sequence).
struct GrammarScratch {
  std::vector<uint8_t> allowed;
  std::vector<float> logits;
  std::vector<GrammarMatcher> levels;  // matcher after each prefix length of the current token
  // Inside a patterned string: the pattern's DFA after each prefix length of the current token.
  struct PatternLevel {
    uint32_t state, acc, count;
    int more;  // continuation bytes still to come in the current character
  };
  std::vector<PatternLevel> pattern_levels;
};

// The bytes of every token of one vocabulary, precomputed once and shared (immutable).
class GrammarVocab {
 public:
  // pieces[id]: the bytes token id adds to the output (empty for control tokens, which a grammar
  // never allows). end_of_generation: ids allowed exactly when the document is complete.
  // n_vocab >= pieces.size(): the logits row length (extra ids are never allowed).
  GrammarVocab(const std::vector<std::string>& pieces, const std::vector<int32_t>& end_of_generation,
               size_t n_vocab);

  size_t n_vocab() const { return n_vocab_; }
  std::string_view piece(int32_t id) const {
    const size_t i = static_cast<size_t>(id);
    return i + 1 < offsets_.size() ? std::string_view(bytes_).substr(offsets_[i], offsets_[i + 1] - offsets_[i])
                                   : std::string_view();
  }
  bool is_end_of_generation(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) < eog_.size() && eog_[static_cast<size_t>(id)];
  }

  // Whether token id can come next.
  bool allows(const GrammarMatcher& m, int32_t id) const;

  // allowed[id] = 1 for every token that can come next (n_vocab entries). Returns their count.
  size_t mask(const GrammarMatcher& m, std::vector<uint8_t>& allowed, GrammarScratch& scratch) const;

 private:
  size_t n_vocab_;
  std::string bytes_;               // all pieces back to back
  std::vector<uint32_t> offsets_;   // piece id is bytes_[offsets_[id], offsets_[id + 1])
  std::vector<uint8_t> eog_;
  std::vector<int32_t> eog_ids_;
  std::vector<int32_t> order_;      // ids with non-empty pieces, sorted by bytes
  std::vector<uint16_t> lcp_;       // bytes shared with the previous id in order_
  std::vector<int32_t> plain_cps_;  // code points of a piece that is plain string text, else -1
  size_t max_len_ = 0;
};

// Samples from `logits` allowing only tokens the grammar accepts. Returns -1 when the grammar
// allows no token of this vocabulary at all.
int32_t sample_with_grammar(Sampler& sampler, const GrammarMatcher& matcher, const GrammarVocab& vocab,
                            std::span<const float> logits, GrammarScratch& scratch);

}  // namespace hearth::sample
