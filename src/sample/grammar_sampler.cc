#include "sample/grammar_sampler.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "util/utf8.h"

namespace hearth::sample {

namespace {

// Code points of a piece that a JSON string body takes as it is (no quote, backslash or control
// byte, complete and valid UTF-8), or -1.
int32_t plain_code_points(std::string_view p) {
  int32_t n = 0;
  for (size_t i = 0; i < p.size();) {
    const uint8_t b = static_cast<uint8_t>(p[i]);
    if (b < 0x80) {
      if (b < 0x20 || b == '"' || b == '\\') return -1;
      ++i;
      ++n;
      continue;
    }
    int more;
    uint8_t lo, hi;
    if (!utf8_lead(b, &more, &lo, &hi)) return -1;
    if (i + static_cast<size_t>(more) >= p.size()) return -1;  // ends inside the character
    for (size_t k = 1; k <= static_cast<size_t>(more); ++k) {
      const uint8_t c = static_cast<uint8_t>(p[i + k]);
      if (c < lo || c > hi) return -1;
      lo = 0x80;
      hi = 0xBF;
    }
    i += static_cast<size_t>(more) + 1;
    ++n;
  }
  return n;
}

}  // namespace

GrammarVocab::GrammarVocab(const std::vector<std::string>& pieces,
                           const std::vector<int32_t>& end_of_generation, size_t n_vocab)
    : n_vocab_(std::max(n_vocab, pieces.size())) {
  offsets_.reserve(pieces.size() + 1);
  offsets_.push_back(0);
  for (const std::string& p : pieces) {
    bytes_ += p;
    offsets_.push_back(static_cast<uint32_t>(bytes_.size()));
  }
  eog_.assign(n_vocab_, 0);
  for (int32_t id : end_of_generation) {
    if (id >= 0 && static_cast<size_t>(id) < n_vocab_ && !eog_[static_cast<size_t>(id)]) {
      eog_[static_cast<size_t>(id)] = 1;
      eog_ids_.push_back(id);
    }
  }
  plain_cps_.assign(pieces.size(), -1);
  for (size_t id = 0; id < pieces.size(); ++id) {
    if (pieces[id].empty() || eog_[id]) continue;
    order_.push_back(static_cast<int32_t>(id));
    plain_cps_[id] = plain_code_points(pieces[id]);
    max_len_ = std::max(max_len_, pieces[id].size());
  }
  std::sort(order_.begin(), order_.end(),
            [&](int32_t a, int32_t b) { return piece(a) < piece(b) || (piece(a) == piece(b) && a < b); });
  lcp_.assign(order_.size(), 0);
  for (size_t i = 1; i < order_.size(); ++i) {
    const std::string_view a = piece(order_[i - 1]), b = piece(order_[i]);
    size_t n = 0;
    while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
    lcp_[i] = static_cast<uint16_t>(std::min<size_t>(n, std::numeric_limits<uint16_t>::max()));
  }
}

bool GrammarVocab::allows(const GrammarMatcher& m, int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= n_vocab_) return false;
  if (eog_[static_cast<size_t>(id)]) return m.is_complete();
  const std::string_view p = piece(id);
  return !p.empty() && m.accepts(p);
}

size_t GrammarVocab::mask(const GrammarMatcher& m, std::vector<uint8_t>& allowed,
                          GrammarScratch& scratch) const {
  allowed.assign(n_vocab_, 0);
  size_t n_allowed = 0;
  const bool complete = m.is_complete();
  if (complete) {
    for (int32_t id : eog_ids_) {
      allowed[static_cast<size_t>(id)] = 1;
      ++n_allowed;
    }
  }

  std::vector<GrammarMatcher>& levels = scratch.levels;
  if (levels.size() < max_len_ + 1) levels.resize(max_len_ + 1, m);
  levels[0] = m;
  const int64_t room = m.string_room();
  GrammarMatcher::PatternSpot spot{};
  const bool walk = m.pattern_spot(&spot);
  std::vector<GrammarScratch::PatternLevel>& pl = scratch.pattern_levels;
  if (walk) {
    if (pl.size() < max_len_ + 1) pl.resize(max_len_ + 1);
    pl[0] = {spot.state, 0, spot.count, 0};
  }
  size_t valid = 0;                                 // levels[0..valid] hold the current prefix
  size_t pvalid = 0;                                // pl[0..pvalid] too
  size_t dead = std::numeric_limits<size_t>::max();  // the prefix of this length is rejected
  for (size_t i = 0; i < order_.size(); ++i) {
    const int32_t id = order_[i];
    const size_t shared = lcp_[i];
    // Skipped tokens share at least `dead` bytes, and valid/pvalid were cut to it when it was set,
    // so the levels still hold what every token since the last walked one shares.
    if (dead <= shared) continue;  // extends a rejected prefix
    dead = std::numeric_limits<size_t>::max();
    valid = std::min(valid, shared);
    pvalid = std::min(pvalid, shared);
    const int32_t cps = plain_cps_[static_cast<size_t>(id)];
    if (cps >= 0 && cps <= room) {
      allowed[static_cast<size_t>(id)] = 1;
      ++n_allowed;
      continue;
    }
    if (cps >= 0 && walk) {
      // Plain characters in a patterned string: only the DFA and the length bounds decide (a
      // character the DFA refuses rejects every token sharing the bytes up to it).
      const Regex& re = *spot.regex;
      const std::string_view p = piece(id);
      bool ok = true;
      for (size_t d = pvalid; d < p.size(); ++d) {
        GrammarScratch::PatternLevel l = pl[d];
        const uint8_t b = static_cast<uint8_t>(p[d]);
        int64_t cp = -1;
        if (l.more > 0) {
          l.acc = (l.acc << 6) | (b & 0x3Fu);
          if (--l.more == 0) cp = l.acc;
        } else if (b < 0x80) {
          cp = b;
          ++l.count;
        } else {
          uint8_t lo, hi;
          utf8_lead(b, &l.more, &lo, &hi);  // a valid lead: the piece is plain text
          l.acc = b & (0x3Fu >> l.more);
          ++l.count;
        }
        if (cp >= 0) {
          l.state = re.next(l.state, static_cast<uint32_t>(cp));
          if (l.state == Regex::kDead || !re.fits(l.state, l.count, spot.min_length, spot.max_length)) {
            dead = d + 1;
            valid = std::min(valid, dead);
            ok = false;
            break;
          }
        }
        pl[d + 1] = l;
        pvalid = d + 1;
      }
      if (ok) {
        allowed[static_cast<size_t>(id)] = 1;
        ++n_allowed;
      }
      continue;
    }
    const std::string_view p = piece(id);
    bool ok = true;
    for (size_t d = valid; d < p.size(); ++d) {
      levels[d + 1] = levels[d];
      if (!levels[d + 1].accept(static_cast<uint8_t>(p[d]))) {
        dead = d + 1;
        pvalid = std::min(pvalid, dead);
        ok = false;
        break;
      }
      valid = d + 1;
    }
    if (ok) {
      allowed[static_cast<size_t>(id)] = 1;
      ++n_allowed;
    }
  }
  return n_allowed;
}

int32_t sample_with_grammar(Sampler& sampler, const GrammarMatcher& matcher, const GrammarVocab& vocab,
                            std::span<const float> logits, GrammarScratch& scratch) {
  const int32_t first = sampler.sample(logits);
  if (vocab.allows(matcher, first)) return first;

  const size_t n = std::min(logits.size(), vocab.n_vocab());
  if (vocab.mask(matcher, scratch.allowed, scratch) == 0) return -1;
  scratch.logits.assign(logits.begin(), logits.end());
  bool any = false;
  for (size_t i = 0; i < scratch.logits.size(); ++i) {
    if (i >= n || !scratch.allowed[i]) scratch.logits[i] = -std::numeric_limits<float>::infinity();
    else any = any || scratch.logits[i] > -std::numeric_limits<float>::infinity();
  }
  if (!any) {
    // Every allowed token has a -inf logit: take the first allowed one.
    for (size_t i = 0; i < n; ++i) {
      if (scratch.allowed[i]) return static_cast<int32_t>(i);
    }
    return -1;
  }
  const int32_t t = sampler.sample(scratch.logits);
  if (t >= 0 && static_cast<size_t>(t) < n && scratch.allowed[static_cast<size_t>(t)]) return t;
  // The draw fell on a zero-probability tail (rounding): take the best allowed logit.
  size_t best = n;
  for (size_t i = 0; i < n; ++i) {
    if (scratch.allowed[i] && (best == n || scratch.logits[i] > scratch.logits[best])) best = i;
  }
  return best == n ? -1 : static_cast<int32_t>(best);
}

}  // namespace hearth::sample
