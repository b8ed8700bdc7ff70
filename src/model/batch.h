#pragma once
// One forward pass's input: rows of (token, position, sequence id), plus which rows need logits.
// Rows of several sequences mix freely (continuous batching); a prompt is many rows of one
// sequence, a decode step one row per running sequence. A row at position p of sequence s sees
// the cache of s at positions [0, p], so positions of each sequence must be contiguous from 0
// across what the cache already holds and this batch.

#include <cstdint>
#include <vector>

namespace hearth::model {

struct Batch {
  std::vector<int32_t> token;
  std::vector<int32_t> pos;
  std::vector<int32_t> seq;
  std::vector<uint8_t> want_logits;

  void add(int32_t t, int32_t p, int32_t s, bool logits) {
    token.push_back(t);
    pos.push_back(p);
    seq.push_back(s);
    want_logits.push_back(logits ? 1 : 0);
  }
  void clear() {
    token.clear();
    pos.clear();
    seq.clear();
    want_logits.clear();
  }
  int64_t size() const { return static_cast<int64_t>(token.size()); }
  int64_t n_logits() const {
    int64_t n = 0;
    for (uint8_t w : want_logits) n += w;
    return n;
  }
};

}  // namespace hearth::model
