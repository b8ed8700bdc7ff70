#include "tokenizer/spm_encoder.h"

#include <cstdio>
#include <queue>

#include "tokenizer/utf8.h"

namespace hearth::tokenizer {

SpmEncoder::SpmEncoder(const Vocab& vocab, const TokenIndex& index) : vocab_(vocab), index_(index) {
  char name[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    byte_token_[b] = find_token(index, name);
  }
}

TokenId SpmEncoder::mergeable(std::string_view text) const {
  const TokenId id = find_token(index_, text);
  if (id == kNoToken) return kNoToken;
  // Control, unknown, byte and unused entries are never spelled out by merging characters.
  switch (vocab_.type(id)) {
    case TokenType::normal:
    case TokenType::user_defined:
    case TokenType::undefined:
      return id;
    default:
      return kNoToken;
  }
}

namespace {

struct Symbol {
  uint32_t offset;
  uint32_t len;  // 0 once merged into its left neighbour
  int prev;
  int next;
};

struct Candidate {
  float score;
  int left;
  int right;
  uint32_t len;
  // The highest score first, then the leftmost.
  bool operator<(const Candidate& o) const { return score != o.score ? score < o.score : left > o.left; }
};

}  // namespace

void SpmEncoder::encode(std::string_view text, std::vector<TokenId>& out) const {
  if (text.empty()) return;
  std::vector<Symbol> sym;
  sym.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const uint32_t len = utf8_decode(text.data() + i, text.size() - i).len;
    const int idx = static_cast<int>(sym.size());
    sym.push_back({static_cast<uint32_t>(i), len, idx - 1, -1});
    if (idx > 0) sym[idx - 1].next = idx;
    i += len;
  }
  std::priority_queue<Candidate> queue;
  auto consider = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const uint32_t len = sym[left].len + sym[right].len;
    const TokenId id = mergeable(text.substr(sym[left].offset, len));
    if (id == kNoToken) return;
    const float score = vocab_.scores.empty() ? 0.0f : vocab_.scores[static_cast<size_t>(id)];
    queue.push({score, left, right, len});
  };
  for (int i = 0; i + 1 < static_cast<int>(sym.size()); ++i) consider(i, i + 1);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = sym[c.left];
    Symbol& r = sym[c.right];
    if (l.len == 0 || r.len == 0 || l.next != c.right || l.len + r.len != c.len) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = c.left;
    consider(l.prev, c.left);
    consider(c.left, l.next);
  }
  for (int i = 0; i >= 0; i = sym[i].next) {
    const std::string_view s = text.substr(sym[i].offset, sym[i].len);
    const TokenId id = mergeable(s);
    if (id != kNoToken) {
      out.push_back(id);
      continue;
    }
    for (const char ch : s) {
      const TokenId b = byte_token_[static_cast<uint8_t>(ch)];
      if (b != kNoToken) {
        out.push_back(b);
      } else if (vocab_.unk != kNoToken) {
        out.push_back(vocab_.unk);
        break;  // one <unk> per unknown character
      }
    }
  }
}

}  // namespace hearth::tokenizer
