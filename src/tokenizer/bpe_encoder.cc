#include "tokenizer/bpe_encoder.h"

#include <queue>
#include <string>

#include "tokenizer/byte_level.h"

namespace hearth::tokenizer {

BpeEncoder::BpeEncoder(const Vocab& vocab, const TokenIndex& index)
    : index_(index), ignore_merges_(vocab.ignore_merges) {
  for (int b = 0; b < 256; ++b) byte_token_[b] = find_token(index, byte_to_symbol(static_cast<uint8_t>(b)));
  merges_.reserve(vocab.merges.size());
  std::string joined;
  for (size_t rank = 0; rank < vocab.merges.size(); ++rank) {
    const std::string& m = vocab.merges[rank];
    // The separator is the first space after the first character: a part may itself be " "
    // only in vocabularies that are not byte-level, so searching from 1 is enough.
    const size_t sp = m.find(' ', 1);
    if (sp == std::string::npos) continue;
    const std::string_view left(m.data(), sp);
    const std::string_view right(m.data() + sp + 1, m.size() - sp - 1);
    const TokenId a = find_token(index, left);
    const TokenId b = find_token(index, right);
    joined.assign(left);
    joined.append(right);
    const TokenId r = find_token(index, joined);
    if (a == kNoToken || b == kNoToken || r == kNoToken) continue;
    merges_.try_emplace(key(a, b), Merge{static_cast<int32_t>(rank), r});  // first rank wins
  }
}

namespace {

struct Symbol {
  TokenId id;
  int prev;
  int next;
};

struct Candidate {
  int32_t rank;
  int left;
  int right;
  TokenId left_id;
  TokenId right_id;
  TokenId result;
  // priority_queue pops the largest: make the lowest rank, then the leftmost, the largest.
  bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
};

}  // namespace

void BpeEncoder::encode(std::string_view piece, std::vector<TokenId>& out) const {
  if (piece.empty()) return;
  if (piece.size() == 1) {
    const TokenId t = byte_token_[static_cast<uint8_t>(piece[0])];
    if (t != kNoToken) out.push_back(t);
    return;
  }
  if (ignore_merges_) {
    std::string encoded;
    encoded.reserve(piece.size() * 2);
    for (const char ch : piece) encoded += byte_to_symbol(static_cast<uint8_t>(ch));
    const TokenId whole = find_token(index_, encoded);
    if (whole != kNoToken) {
      out.push_back(whole);
      return;
    }
  }
  const int n = static_cast<int>(piece.size());
  std::vector<Symbol> sym(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    sym[i] = {byte_token_[static_cast<uint8_t>(piece[i])], i - 1, i + 1 < n ? i + 1 : -1};
  }
  std::vector<Candidate> storage;
  storage.reserve(static_cast<size_t>(n));
  std::priority_queue<Candidate> queue(std::less<Candidate>(), std::move(storage));
  auto consider = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const TokenId a = sym[left].id, b = sym[right].id;
    if (a == kNoToken || b == kNoToken) return;
    const auto it = merges_.find(key(a, b));
    if (it == merges_.end()) return;
    queue.push({it->second.rank, left, right, a, b, it->second.result});
  };
  for (int i = 0; i + 1 < n; ++i) consider(i, i + 1);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = sym[c.left];
    // Stale if either side has merged since: the pair is no longer adjacent or changed id.
    if (l.next != c.right || l.id != c.left_id || sym[c.right].id != c.right_id) continue;
    Symbol& r = sym[c.right];
    l.id = c.result;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = c.left;
    r.id = kNoToken;
    r.next = r.prev = -1;
    consider(l.prev, c.left);
    consider(c.left, l.next);
  }
  for (int i = 0; i >= 0; i = sym[i].next) {
    if (sym[i].id != kNoToken) out.push_back(sym[i].id);
  }
}

}  // namespace hearth::tokenizer
