#include "sample/regex.h"

#include <algorithm>
#include <map>
#include <utility>

#include "util/utf8.h"

namespace hearth::sample {

namespace {

constexpr uint32_t kMaxCp = 0x10FFFF;
constexpr size_t kMaxNfaStates = 10000;
constexpr size_t kMaxSubsetEntries = size_t{1} << 20;  // NFA states over all DFA states' sets
constexpr size_t kMaxClosureSteps = size_t{1} << 22;   // work bound for one pattern (~30 ms)
constexpr uint32_t kMaxRepeat = 1000;
constexpr size_t kMaxGroupDepth = 100;
constexpr size_t kMaxTableEntries = size_t{1} << 20;  // DFA states x character classes

struct Unsupported {
  std::string why;
};

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;  // inclusive [lo, hi]

Ranges normalize(Ranges r) {
  std::sort(r.begin(), r.end());
  Ranges out;
  for (const auto& [lo, hi] : r) {
    if (!out.empty() && lo <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, hi);
    } else {
      out.emplace_back(lo, hi);
    }
  }
  return out;
}

Ranges complement(const Ranges& r) {
  Ranges n = normalize(r), out;
  uint32_t next = 0;
  for (const auto& [lo, hi] : n) {
    if (lo > next) out.emplace_back(next, lo - 1);
    next = hi + 1;
  }
  if (next <= kMaxCp) out.emplace_back(next, kMaxCp);
  return out;
}

Ranges one(uint32_t cp) { return {{cp, cp}}; }

Ranges digit_ranges() { return {{'0', '9'}}; }
Ranges word_ranges() { return {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}; }
Ranges space_ranges() { return {{'\t', '\r'}, {' ', ' '}}; }  // \t \n \v \f \r and space
Ranges dot_ranges() { return complement({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}); }

struct Node {
  enum Kind : uint8_t { kEmpty, kSet, kConcat, kAlt, kRepeat, kBol, kEol };
  Kind kind = kEmpty;
  int32_t set = -1;
  uint32_t min = 0, max = 0;  // repeat; max Regex::kUnbounded: no limit
  std::vector<Node> kids;
};

int hex_digit(uint32_t c) {
  if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<int>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<int>(c - 'A' + 10);
  return -1;
}

bool is_ascii_alnum(uint32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

class Parser {
 public:
  Parser(const std::u32string& p, std::vector<Ranges>& sets) : p_(p), sets_(sets) {}

  Node parse() {
    Node n = alternation();
    if (pos_ < p_.size()) fail("unbalanced ')'");
    return n;
  }

 private:
  [[noreturn]] static void fail(const std::string& why) { throw Unsupported{why}; }
  bool at_end() const { return pos_ >= p_.size(); }
  uint32_t peek() const { return p_[pos_]; }

  Node set_node(Ranges r) {
    sets_.push_back(normalize(std::move(r)));
    Node n;
    n.kind = Node::kSet;
    n.set = static_cast<int32_t>(sets_.size() - 1);
    return n;
  }

  Node alternation() {
    std::vector<Node> branches;
    branches.push_back(sequence());
    while (!at_end() && peek() == '|') {
      ++pos_;
      branches.push_back(sequence());
    }
    if (branches.size() == 1) return std::move(branches[0]);
    Node n;
    n.kind = Node::kAlt;
    n.kids = std::move(branches);
    return n;
  }

  Node sequence() {
    Node n;
    n.kind = Node::kConcat;
    while (!at_end() && peek() != '|' && peek() != ')') n.kids.push_back(quantified());
    if (n.kids.empty()) return Node{};
    if (n.kids.size() == 1) return std::move(n.kids[0]);
    return n;
  }

  // Reads a decimal number of a {m,n} quantifier; false when there is none.
  bool number(uint32_t& v) {
    size_t start = pos_;
    uint64_t x = 0;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      x = std::min<uint64_t>(x * 10 + (peek() - '0'), uint64_t{1} << 32);
      ++pos_;
    }
    if (pos_ == start) return false;
    if (x > kMaxRepeat) fail("a repetition count above " + std::to_string(kMaxRepeat));
    v = static_cast<uint32_t>(x);
    return true;
  }

  static bool is_quantifier(uint32_t c) { return c == '*' || c == '+' || c == '?' || c == '{'; }

  Node quantified() {
    Node a = atom();
    if (at_end() || !is_quantifier(peek())) return a;
    if (a.kind == Node::kBol || a.kind == Node::kEol) fail("a quantifier after an anchor");
    uint32_t lo = 0, hi = Regex::kUnbounded;
    const uint32_t q = p_[pos_++];
    if (q == '+') {
      lo = 1;
    } else if (q == '?') {
      hi = 1;
    } else if (q == '{') {
      if (!number(lo)) fail("'{' that does not start a quantifier");
      if (!at_end() && peek() == ',') {
        ++pos_;
        if (!at_end() && peek() != '}' && !number(hi)) fail("a malformed {m,n} quantifier");
      } else {
        hi = lo;
      }
      if (at_end() || peek() != '}') fail("a malformed {m,n} quantifier");
      ++pos_;
      if (lo > hi) fail("a {m,n} quantifier with m > n");
    }
    if (!at_end() && peek() == '?') ++pos_;  // lazy: the same language
    if (!at_end() && is_quantifier(peek())) fail("a quantifier with nothing to repeat");
    Node n;
    n.kind = Node::kRepeat;
    n.min = lo;
    n.max = hi;
    n.kids.push_back(std::move(a));
    return n;
  }

  Node atom() {
    const uint32_t c = p_[pos_++];
    switch (c) {
      case '(': {
        if (!at_end() && peek() == '?') {
          if (pos_ + 1 < p_.size() && p_[pos_ + 1] == ':') {
            pos_ += 2;
          } else {
            fail("lookaround or a named group");
          }
        }
        if (++depth_ > kMaxGroupDepth) fail("groups nested too deeply");
        Node inner = alternation();
        --depth_;
        if (at_end() || peek() != ')') fail("unbalanced '('");
        ++pos_;
        return inner;
      }
      case '[': return set_node(char_class());
      case '.': return set_node(dot_ranges());
      case '^': {
        Node n;
        n.kind = Node::kBol;
        return n;
      }
      case '$': {
        Node n;
        n.kind = Node::kEol;
        return n;
      }
      case '\\': return set_node(escape(false));
      case '*': case '+': case '?': fail("a quantifier with nothing to repeat");
      case '{': fail("'{' that does not follow an atom");
      default: return set_node(one(c));  // ']' and '}' alone are literals, as in std::regex
    }
  }

  // After '\'; in_class: inside [...], where \b is a backspace.
  Ranges escape(bool in_class) {
    if (at_end()) fail("a pattern that ends with '\\'");
    const uint32_t c = p_[pos_++];
    switch (c) {
      case 'd': return digit_ranges();
      case 'D': return complement(digit_ranges());
      case 'w': return word_ranges();
      case 'W': return complement(word_ranges());
      case 's': return space_ranges();
      case 'S': return complement(space_ranges());
      case 't': return one('\t');
      case 'n': return one('\n');
      case 'r': return one('\r');
      case 'f': return one('\f');
      case 'v': return one('\v');
      case '0':
        if (!at_end() && peek() >= '0' && peek() <= '9') fail("octal escapes");
        return one(0);
      case 'x':
      case 'u': {
        const int n = c == 'x' ? 2 : 4;
        uint32_t v = 0;
        for (int i = 0; i < n; ++i) {
          const int h = at_end() ? -1 : hex_digit(peek());
          if (h < 0) fail(std::string("a malformed \\") + static_cast<char>(c) + " escape");
          v = v * 16 + static_cast<uint32_t>(h);
          ++pos_;
        }
        if (v >= 0xD800 && v <= 0xDFFF) fail("surrogate escapes");
        return one(v);
      }
      case 'b':
        if (in_class) return one('\b');
        fail("word boundaries (\\b)");
      default:
        if (c >= '1' && c <= '9') fail("backreferences");
        if (is_ascii_alnum(c)) fail(std::string("the escape \\") + static_cast<char>(c));
        return one(c);  // \. \\ \/ \- and the like
    }
  }

  // After '['.
  Ranges char_class() {
    bool negate = false;
    if (!at_end() && peek() == '^') {
      negate = true;
      ++pos_;
    }
    Ranges r;
    for (;;) {
      if (at_end()) fail("unbalanced '['");
      if (peek() == ']') {
        ++pos_;
        break;
      }
      bool single = false;
      Ranges lo = class_atom(single);
      if (pos_ + 1 < p_.size() && peek() == '-' && p_[pos_ + 1] != ']') {
        ++pos_;
        bool single_hi = false;
        Ranges hi = class_atom(single_hi);
        if (!single || !single_hi) fail("a class range with a class escape at an end");
        if (lo[0].first > hi[0].first) fail("a class range out of order");
        r.emplace_back(lo[0].first, hi[0].first);
      } else {
        r.insert(r.end(), lo.begin(), lo.end());
      }
    }
    return negate ? complement(r) : normalize(std::move(r));
  }

  Ranges class_atom(bool& single) {
    if (at_end()) fail("unbalanced '['");
    const uint32_t c = p_[pos_++];
    if (c != '\\') {
      single = true;
      return one(c);
    }
    const uint32_t e = at_end() ? 0 : peek();  // the escape's letter
    Ranges r = escape(true);
    // \d and the like are not single characters even when they happen to be one range.
    single = r.size() == 1 && r[0].first == r[0].second &&
             !(e == 'd' || e == 'D' || e == 'w' || e == 'W' || e == 's' || e == 'S');
    return r;
  }

  const std::u32string& p_;
  std::vector<Ranges>& sets_;
  size_t pos_ = 0;
  size_t depth_ = 0;
};

struct NfaState {
  std::vector<uint32_t> eps;
  int32_t set = -1;       // a character edge to `to` for the code points of sets[set]
  uint8_t assertion = 0;  // 1: ^ edge to `to`, 2: $ edge to `to`
  uint32_t to = 0;
};

class NfaBuilder {
 public:
  std::vector<NfaState> st;

  uint32_t add() {
    if (st.size() >= kMaxNfaStates) throw Unsupported{"the pattern expands too much"};
    st.emplace_back();
    return static_cast<uint32_t>(st.size() - 1);
  }

  // The fragment [start, end] for n (fresh states every time: repetitions copy).
  std::pair<uint32_t, uint32_t> build(const Node& n) {
    switch (n.kind) {
      case Node::kEmpty: {
        const uint32_t s = add();
        return {s, s};
      }
      case Node::kSet:
      case Node::kBol:
      case Node::kEol: {
        const uint32_t s = add(), e = add();
        st[s].to = e;
        if (n.kind == Node::kSet) st[s].set = n.set;
        else st[s].assertion = n.kind == Node::kBol ? 1 : 2;
        return {s, e};
      }
      case Node::kConcat: {
        auto [s, e] = build(n.kids[0]);
        for (size_t i = 1; i < n.kids.size(); ++i) {
          auto [s2, e2] = build(n.kids[i]);
          st[e].eps.push_back(s2);
          e = e2;
        }
        return {s, e};
      }
      case Node::kAlt: {
        const uint32_t s = add(), e = add();
        for (const Node& k : n.kids) {
          auto [ks, ke] = build(k);
          st[s].eps.push_back(ks);
          st[ke].eps.push_back(e);
        }
        return {s, e};
      }
      case Node::kRepeat: {
        const uint32_t s = add();
        uint32_t cur = s;
        for (uint32_t i = 0; i < n.min; ++i) {
          auto [ks, ke] = build(n.kids[0]);
          st[cur].eps.push_back(ks);
          cur = ke;
        }
        const uint32_t e = add();
        if (n.max == Regex::kUnbounded) {
          const uint32_t loop = add();
          st[cur].eps.push_back(loop);
          auto [ks, ke] = build(n.kids[0]);
          st[loop].eps.push_back(ks);
          st[loop].eps.push_back(e);
          st[ke].eps.push_back(loop);
        } else {
          for (uint32_t i = n.min; i < n.max; ++i) {
            auto [ks, ke] = build(n.kids[0]);
            st[cur].eps.push_back(ks);
            st[cur].eps.push_back(e);
            cur = ke;
          }
          st[cur].eps.push_back(e);
        }
        return {s, e};
      }
    }
    throw Unsupported{"internal: unknown node"};
  }
};

bool decode_utf8(std::string_view s, std::u32string& out) {
  out.clear();
  for (size_t i = 0; i < s.size();) {
    const uint8_t b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    int more;
    uint8_t lo, hi;
    if (!utf8_lead(b, &more, &lo, &hi) || i + static_cast<size_t>(more) >= s.size()) return false;
    uint32_t cp = b & (0x3Fu >> more);
    for (int k = 1; k <= more; ++k) {
      const uint8_t c = static_cast<uint8_t>(s[i + static_cast<size_t>(k)]);
      if (c < lo || c > hi) return false;
      lo = 0x80;
      hi = 0xBF;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    out.push_back(cp);
    i += static_cast<size_t>(more) + 1;
  }
  return true;
}

}  // namespace

class RegexBuilder {
 public:
  static std::shared_ptr<const Regex> build(std::string_view pattern) {
    std::u32string p;
    if (!decode_utf8(pattern, p)) throw Unsupported{"the pattern is not valid UTF-8"};
    std::vector<Ranges> sets;
    Node root = Parser(p, sets).parse();
    sets.push_back({{0, kMaxCp}});
    const int32_t any = static_cast<int32_t>(sets.size() - 1);

    // Search semantics: any* (pattern) any*; ^ and $ pin the pattern to the ends.
    NfaBuilder nfa;
    const uint32_t pre = nfa.add();
    auto [ps, pe] = nfa.build(root);
    const uint32_t post = nfa.add();
    nfa.st[pre].set = any;
    nfa.st[pre].to = pre;
    nfa.st[pre].eps.push_back(ps);
    nfa.st[pe].eps.push_back(post);
    nfa.st[post].set = any;
    nfa.st[post].to = post;
    const std::vector<NfaState>& st = nfa.st;

    // Character classes: the code point ranges no set boundary splits.
    std::vector<uint32_t> points = {0, kMaxCp + 1};
    for (const Ranges& r : sets) {
      for (const auto& [lo, hi] : r) {
        points.push_back(lo);
        points.push_back(hi + 1);
      }
    }
    std::sort(points.begin(), points.end());
    points.erase(std::unique(points.begin(), points.end()), points.end());
    const size_t n_classes = points.size() - 1;
    if (n_classes > UINT16_MAX) throw Unsupported{"the pattern has too many character classes"};
    std::vector<std::vector<uint8_t>> member(sets.size(), std::vector<uint8_t>(n_classes, 0));
    for (size_t s = 0; s < sets.size(); ++s) {
      for (const auto& [lo, hi] : sets[s]) {
        const size_t k0 = static_cast<size_t>(std::lower_bound(points.begin(), points.end(), lo) - points.begin());
        for (size_t k = k0; k < n_classes && points[k] <= hi; ++k) member[s][k] = 1;
      }
    }

    std::vector<uint32_t> mark(st.size(), 0);
    uint32_t stamp = 0;
    size_t steps = 0;
    auto closure = [&](std::vector<uint32_t> seeds, bool caret, bool dollar) {
      ++stamp;
      std::vector<uint32_t> out, stack = std::move(seeds);
      while (!stack.empty()) {
        if (++steps > kMaxClosureSteps) throw Unsupported{"the pattern is too complex to compile"};
        const uint32_t u = stack.back();
        stack.pop_back();
        if (mark[u] == stamp) continue;
        mark[u] = stamp;
        out.push_back(u);
        for (uint32_t v : st[u].eps) stack.push_back(v);
        if ((st[u].assertion == 1 && caret) || (st[u].assertion == 2 && dollar)) stack.push_back(st[u].to);
      }
      std::sort(out.begin(), out.end());
      return out;
    };

    // Subset construction. State 0 is the start (where ^ holds); it is never a target.
    std::vector<std::vector<uint32_t>> dstates = {closure({pre}, true, false)};
    std::map<std::vector<uint32_t>, uint32_t> ids;
    std::vector<uint32_t> trans;
    std::vector<uint32_t> targets;
    size_t subset_entries = dstates[0].size();
    for (size_t d = 0; d < dstates.size(); ++d) {
      for (size_t k = 0; k < n_classes; ++k) {
        targets.clear();
        steps += dstates[d].size();
        if (steps > kMaxClosureSteps) throw Unsupported{"the pattern is too complex to compile"};
        for (uint32_t u : dstates[d]) {
          if (st[u].set >= 0 && member[static_cast<size_t>(st[u].set)][k]) targets.push_back(st[u].to);
        }
        if (targets.empty()) {
          trans.push_back(Regex::kDead);
          continue;
        }
        std::vector<uint32_t> t = closure(targets, false, false);
        auto [it, fresh] = ids.emplace(std::move(t), static_cast<uint32_t>(dstates.size()));
        if (fresh) {
          subset_entries += it->first.size();
          if (dstates.size() >= kMaxRegexStates || (dstates.size() + 1) * n_classes > kMaxTableEntries ||
              subset_entries > kMaxSubsetEntries) {
            throw Unsupported{"the pattern needs more than " + std::to_string(kMaxRegexStates) + " states"};
          }
          dstates.push_back(it->first);
        }
        trans.push_back(it->second);
      }
    }
    const size_t n = dstates.size();
    std::vector<uint8_t> accept(n, 0);
    for (size_t d = 0; d < n; ++d) {
      for (uint32_t u : closure(dstates[d], d == 0, true)) accept[d] |= u == post;
    }

    // Keep only states from which a match is reachable.
    std::vector<std::vector<uint32_t>> rev(n);
    for (size_t d = 0; d < n; ++d) {
      for (size_t k = 0; k < n_classes; ++k) {
        const uint32_t t = trans[d * n_classes + k];
        if (t != Regex::kDead) rev[t].push_back(static_cast<uint32_t>(d));
      }
    }
    for (auto& r : rev) {
      std::sort(r.begin(), r.end());
      r.erase(std::unique(r.begin(), r.end()), r.end());
    }
    std::vector<uint32_t> min_rem(n, Regex::kUnbounded);
    std::vector<uint32_t> queue;
    for (size_t d = 0; d < n; ++d) {
      if (accept[d]) {
        min_rem[d] = 0;
        queue.push_back(static_cast<uint32_t>(d));
      }
    }
    for (size_t q = 0; q < queue.size(); ++q) {
      for (uint32_t p : rev[queue[q]]) {
        if (min_rem[p] == Regex::kUnbounded) {
          min_rem[p] = min_rem[queue[q]] + 1;
          queue.push_back(p);
        }
      }
    }
    auto live = [&](uint32_t d) { return min_rem[d] != Regex::kUnbounded; };

    auto re = std::make_shared<Regex>();
    if (!live(0)) {
      re->empty_ = true;
      re->n_classes_ = 1;
      re->bounds_ = {0, kMaxCp + 1};
      re->trans_ = {Regex::kDead};
      re->accept_ = {0};
      re->min_rem_ = {Regex::kUnbounded};
      re->max_rem_ = {0};
      return re;
    }
    std::vector<uint32_t> renum(n, Regex::kDead);
    uint32_t n_live = 0;
    for (size_t d = 0; d < n; ++d) {
      if (live(static_cast<uint32_t>(d))) renum[d] = n_live++;
    }
    re->n_classes_ = n_classes;
    re->bounds_ = points;
    re->trans_.assign(static_cast<size_t>(n_live) * n_classes, Regex::kDead);
    re->accept_.resize(n_live);
    re->min_rem_.resize(n_live);
    std::vector<std::vector<uint32_t>> succ(n_live);
    for (size_t d = 0; d < n; ++d) {
      if (renum[d] == Regex::kDead) continue;
      const uint32_t nd = renum[d];
      re->accept_[nd] = accept[d];
      re->min_rem_[nd] = min_rem[d];
      for (size_t k = 0; k < n_classes; ++k) {
        const uint32_t t = trans[d * n_classes + k];
        const uint32_t nt = t == Regex::kDead ? Regex::kDead : renum[t];
        re->trans_[nd * n_classes + k] = nt;
        if (nt != Regex::kDead) succ[nd].push_back(nt);
      }
      std::sort(succ[nd].begin(), succ[nd].end());
      succ[nd].erase(std::unique(succ[nd].begin(), succ[nd].end()), succ[nd].end());
    }
    // Longest completion: states are settled once all their successors are; those that never
    // are sit on or before a cycle, whose completions are unbounded.
    std::vector<std::vector<uint32_t>> pred(n_live);
    std::vector<size_t> pending(n_live);
    for (uint32_t d = 0; d < n_live; ++d) {
      pending[d] = succ[d].size();
      for (uint32_t t : succ[d]) pred[t].push_back(d);
    }
    re->max_rem_.assign(n_live, 0);
    queue.clear();
    for (uint32_t d = 0; d < n_live; ++d) {
      if (pending[d] == 0) queue.push_back(d);
    }
    std::vector<uint8_t> settled(n_live, 0);
    for (size_t q = 0; q < queue.size(); ++q) {
      const uint32_t d = queue[q];
      settled[d] = 1;
      for (uint32_t p : pred[d]) {
        re->max_rem_[p] = std::max(re->max_rem_[p], re->max_rem_[d] + 1);
        if (--pending[p] == 0) queue.push_back(p);
      }
    }
    for (uint32_t d = 0; d < n_live; ++d) {
      if (!settled[d]) re->max_rem_[d] = Regex::kUnbounded;
    }
    for (uint32_t c = 0; c < 128; ++c) {
      re->ascii_class_[c] = static_cast<uint16_t>(std::upper_bound(points.begin(), points.end(), c) - points.begin() - 1);
    }
    return re;
  }
};

std::shared_ptr<const Regex> Regex::compile(std::string_view pattern, std::string* why) {
  try {
    return RegexBuilder::build(pattern);
  } catch (const Unsupported& u) {
    if (why != nullptr) *why = u.why;
    return nullptr;
  }
}

uint32_t Regex::char_class(uint32_t cp) const {
  if (cp < 128) return ascii_class_[cp];
  cp = std::min(cp, kMaxCp);
  return static_cast<uint32_t>(std::upper_bound(bounds_.begin(), bounds_.end(), cp) - bounds_.begin() - 1);
}

bool Regex::step_possible(uint32_t state, uint32_t lo, uint32_t hi, uint64_t count, uint64_t min_len,
                          uint64_t max_len) const {
  if (lo > hi) return false;
  for (uint32_t k = char_class(lo), end = char_class(hi); k <= end; ++k) {
    const uint32_t t = trans_[static_cast<size_t>(state) * n_classes_ + k];
    if (t != kDead && fits(t, count, min_len, max_len)) return true;
  }
  return false;
}

bool Regex::matches(std::u32string_view text) const {
  uint32_t s = start();
  for (char32_t c : text) {
    s = next(s, static_cast<uint32_t>(c));
    if (s == kDead) return false;
  }
  return accepting(s);
}

bool Regex::matches(std::string_view utf8) const {
  std::u32string t;
  return decode_utf8(utf8, t) && matches(std::u32string_view(t));
}

}  // namespace hearth::sample
