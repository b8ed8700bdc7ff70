#include "sample/grammar.h"

#include <algorithm>
#include <cstring>

#include "sample/grammar_steps.h"
#include "util/check.h"
#include "util/utf8.h"

namespace hearth::sample {

using namespace grammar_internal;

namespace {

Frame make_frame(uint32_t node, const GrammarNode* n) {
  Frame f{};
  f.node = node;
  if (n != nullptr && n->kind == GrammarNodeKind::literals) {
    f.a = 0;
    f.b = static_cast<uint32_t>(n->literals.size());
  }
  return f;
}

// Whitespace in a gap: consumed while under the bound.
Step gap(Frame& f) {
  if (f.ws >= kMaxGrammarWhitespace) return Step::reject;
  ++f.ws;
  return Step::consume;
}

void set_phase(Frame& f, uint8_t phase) {
  f.phase = phase;
  f.ws = 0;
}

bool optional_from(const GrammarNode& n, uint32_t next) {
  for (size_t j = next; j < n.properties.size(); ++j) {
    if (n.properties[j].required) return false;
  }
  return true;
}

// The last property a key read at cursor `next` can be: optional ones may be skipped, a required
// one may not.
size_t last_candidate(const GrammarNode& n, uint32_t next) {
  for (size_t j = next; j < n.properties.size(); ++j) {
    if (n.properties[j].required) return j;
  }
  return n.properties.size() - 1;
}

bool key_possible(const GrammarNode& n, uint32_t next) {
  return next < n.properties.size() || n.extra >= 0;
}

Step step_object(const GrammarNode& n, Frame& f, uint8_t b, uint32_t& child) {
  switch (f.phase) {
    case kObjOpen:
      if (b != '{') return Step::reject;
      set_phase(f, kObjFirst);
      f.a = 0;
      return Step::consume;
    case kObjFirst:
    case kObjAfterValue:
      if (is_ws(b)) return gap(f);
      if (b == '}') return optional_from(n, f.a) ? Step::consume_pop : Step::reject;
      if (f.phase == kObjFirst && b == '"') return key_possible(n, f.a) ? Step::key_fork : Step::reject;
      if (f.phase == kObjAfterValue && b == ',' && key_possible(n, f.a)) {
        set_phase(f, kObjBeforeKey);
        return Step::consume;
      }
      return Step::reject;
    case kObjBeforeKey:
      if (is_ws(b)) return gap(f);
      return b == '"' ? Step::key_fork : Step::reject;
    case kObjKey: {
      // b is the first property (from the cursor a up to the first required one) whose key
      // starts with the c bytes read; a byte it does not continue moves b to the next property
      // sharing those bytes that does. Keys are whole JSON strings, so a complete key is no
      // other key's prefix.
      const std::string& key = n.properties[f.b].key;
      if (static_cast<uint8_t>(key[f.c]) != b) {
        const size_t last = last_candidate(n, f.a);
        size_t j = f.b + 1;
        for (; j <= last; ++j) {
          const std::string& other = n.properties[j].key;
          if (other.size() > f.c && static_cast<uint8_t>(other[f.c]) == b &&
              other.compare(0, f.c, key, 0, f.c) == 0) {
            break;
          }
        }
        if (j > last) return Step::reject;
        f.b = static_cast<uint32_t>(j);
      }
      if (++f.c == n.properties[f.b].key.size()) set_phase(f, kObjAfterKey);
      return Step::consume;
    }
    case kObjAfterKey:
    case kObjAfterExtraKey:
      if (is_ws(b)) return gap(f);
      if (b != ':') return Step::reject;
      set_phase(f, f.phase == kObjAfterKey ? kObjBeforeValue : kObjBeforeExtraValue);
      return Step::consume;
    case kObjBeforeValue:
      if (is_ws(b)) return gap(f);
      child = static_cast<uint32_t>(n.properties[f.b].node);
      f.a = f.b + 1;
      set_phase(f, kObjAfterValue);
      return Step::push;
    case kObjBeforeExtraValue:
      if (is_ws(b)) return gap(f);
      child = static_cast<uint32_t>(n.extra);
      // Additional properties come after the declared ones (so a key is read one way only).
      f.a = static_cast<uint32_t>(n.properties.size());
      set_phase(f, kObjAfterValue);
      return Step::push;
  }
  return Step::reject;
}

// The node item `index` (0-based) must match: a tuple position, else `items` (-1: none).
int32_t item_node(const GrammarNode& n, uint32_t index) {
  return index < n.prefix.size() ? n.prefix[index] : n.items;
}

Step step_array(const GrammarNode& n, Frame& f, uint8_t b, uint32_t& child) {
  switch (f.phase) {
    case kArrOpen:
      if (b != '[') return Step::reject;
      set_phase(f, kArrFirst);
      f.a = 0;
      return Step::consume;
    case kArrFirst:
      if (is_ws(b)) return gap(f);
      if (b == ']') return n.min_items == 0 ? Step::consume_pop : Step::reject;
      if (n.max_items == 0 || item_node(n, 0) < 0) return Step::reject;
      f.a = 1;
      set_phase(f, kArrAfterItem);
      child = static_cast<uint32_t>(item_node(n, 0));
      return Step::push;
    case kArrAfterItem:
      if (is_ws(b)) return gap(f);
      if (b == ']') return f.a >= n.min_items ? Step::consume_pop : Step::reject;
      if (b == ',' && f.a < n.max_items) {
        set_phase(f, kArrBeforeItem);
        return Step::consume;
      }
      return Step::reject;
    case kArrBeforeItem:
      if (is_ws(b)) return gap(f);
      if (item_node(n, f.a) < 0) return Step::reject;
      child = static_cast<uint32_t>(item_node(n, f.a));
      ++f.a;
      set_phase(f, kArrAfterItem);
      return Step::push;
  }
  return Step::reject;
}

}  // namespace

namespace grammar_internal {

Step step_string(const GrammarNode& n, Frame& f, uint8_t b) {
  switch (f.phase) {
    case kStrOpen:
      if (b != '"') return Step::reject;
      f.phase = kStrBody;
      f.a = 0;
      return Step::consume;
    case kStrBody: {
      if (b == '"') return f.a >= n.min_length ? Step::consume_pop : Step::reject;
      if (f.a >= n.max_length || b < 0x20) return Step::reject;
      if (b == '\\') {
        f.phase = kStrEsc;
        return Step::consume;
      }
      if (b < 0x80) {
        ++f.a;
        return Step::consume;
      }
      // A UTF-8 lead byte: the continuation count and the range of the next byte (RFC 3629,
      // which also excludes overlong forms and surrogates).
      int more;
      uint8_t lo, hi;
      if (!utf8_lead(b, &more, &lo, &hi)) return Step::reject;
      ++f.a;
      f.phase = kStrUtf8;
      f.c = static_cast<decltype(f.c)>(more);
      f.b = static_cast<decltype(f.b)>(lo | (hi << 8));
      return Step::consume;
    }
    case kStrUtf8:
      if (b < (f.b & 0xFF) || b > (f.b >> 8)) return Step::reject;
      f.b = 0x80 | (0xBF << 8);
      if (--f.c == 0) f.phase = kStrBody;
      return Step::consume;
    case kStrEsc:
      switch (b) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
          ++f.a;
          f.phase = kStrBody;
          return Step::consume;
        case 'u':
          ++f.a;
          f.phase = kStrHex;
          f.c = 0;
          f.b = 0;
          return Step::consume;
        default:
          return Step::reject;
      }
    case kStrHex: {
      const int h = hex_value(b);
      if (h < 0) return Step::reject;
      if (f.c == 0) {
        if (h == 0xD) f.b |= kHexFirstD;
        else if (f.b & kHexLowRequired) return Step::reject;
      } else if (f.c == 1 && (f.b & kHexFirstD)) {
        const bool low = h >= 0xC;
        if (low != ((f.b & kHexLowRequired) != 0)) return Step::reject;  // lone or doubled half
        if (!low && h >= 8) f.b |= kHexHigh;
      }
      if (++f.c == 4) f.phase = (f.b & kHexHigh) ? kStrLowSlash : kStrBody;
      return Step::consume;
    }
    case kStrLowSlash:
      if (b != '\\') return Step::reject;
      f.phase = kStrLowU;
      return Step::consume;
    case kStrLowU:
      if (b != 'u') return Step::reject;
      f.phase = kStrHex;
      f.c = 0;
      f.b = kHexLowRequired;
      return Step::consume;
  }
  return Step::reject;
}

Step step_number(const GrammarNode& n, Frame& f, uint8_t b) {
  auto to = [&](uint8_t phase, uint16_t digits) {
    f.phase = phase;
    f.c = digits;
    return Step::consume;
  };
  switch (f.phase) {
    case kNumStart:
      if (b == '-') return to(kNumMinus, 0);
      [[fallthrough]];
    case kNumMinus:
      if (b == '0') return to(kNumZero, 1);
      if (b >= '1' && b <= '9') return to(kNumInt, 1);
      return Step::reject;
    case kNumInt:
      if (is_digit(b) && f.c < kIntDigits) return to(kNumInt, static_cast<uint16_t>(f.c + 1));
      [[fallthrough]];
    case kNumZero:
      if (!n.integer && b == '.') return to(kNumFrac0, 0);
      if (!n.integer && (b == 'e' || b == 'E')) return to(kNumExp0, 0);
      return Step::pop;
    case kNumFrac0:
      return is_digit(b) ? to(kNumFrac, 1) : Step::reject;
    case kNumFrac:
      if (is_digit(b) && f.c < kFracDigits) return to(kNumFrac, static_cast<uint16_t>(f.c + 1));
      if (b == 'e' || b == 'E') return to(kNumExp0, 0);
      return Step::pop;
    case kNumExp0:
      if (b == '+' || b == '-') return to(kNumExpSign, 0);
      [[fallthrough]];
    case kNumExpSign:
      return is_digit(b) ? to(kNumExp, 1) : Step::reject;
    case kNumExp:
      if (is_digit(b) && f.c < kExpDigits) return to(kNumExp, static_cast<uint16_t>(f.c + 1));
      return Step::pop;
  }
  return Step::reject;
}

}  // namespace grammar_internal

namespace {

// Literal sets: [a, b) is the range of sorted literals that share the c bytes read so far.
Step step_literals(const GrammarNode& n, Frame& f, uint8_t b) {
  const auto& lits = n.literals;
  const size_t pos = f.c;
  size_t lo = f.a;
  const bool terminal = lits[lo].size() == pos;
  if (terminal) ++lo;  // a complete literal sorts first among those sharing its prefix
  while (lo < f.b && static_cast<uint8_t>(lits[lo][pos]) < b) ++lo;
  size_t hi = lo;
  while (hi < f.b && static_cast<uint8_t>(lits[hi][pos]) == b) ++hi;
  if (lo == hi) return terminal ? Step::pop : Step::reject;
  f.a = static_cast<uint32_t>(lo);
  f.b = static_cast<uint32_t>(hi);
  f.c = static_cast<uint16_t>(pos + 1);
  if (hi - lo == 1 && lits[lo].size() == pos + 1) return Step::consume_pop;
  return Step::consume;
}

bool terminal_scalar(const Grammar& g, const Frame& f) {
  if (f.node == kDocument) return false;
  const GrammarNode& n = g.node(static_cast<int32_t>(f.node));
  if (n.kind == GrammarNodeKind::number) {
    if (n.bounded && !in_bounds(n, f)) return false;
    return f.phase == kNumZero || f.phase == kNumInt || f.phase == kNumFrac || f.phase == kNumExp;
  }
  if (n.kind == GrammarNodeKind::literals) return n.literals[f.a].size() == f.c;
  return false;
}

struct Scratch {
  std::vector<Frame> work;
  std::vector<Frame> out_frames;
  std::vector<uint32_t> out_ends;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

void emit(const std::vector<Frame>& w, Scratch& s) {
  if (s.out_ends.size() >= kMaxGrammarThreads) return;
  s.out_frames.insert(s.out_frames.end(), w.begin(), w.end());
  s.out_ends.push_back(static_cast<uint32_t>(s.out_frames.size()));
}

void advance(const Grammar& g, std::vector<Frame>& w, uint8_t b, Scratch& s);

// Pushes node `child` (a choice forks into each alternative that can start with b) and lets it
// read b. The frame below is left as it was.
void push_child(const Grammar& g, std::vector<Frame>& w, uint32_t child, uint8_t b, Scratch& s) {
  if (w.size() >= kMaxGrammarDepth) return;
  const GrammarNode& n = g.node(static_cast<int32_t>(child));
  const size_t keep = w.size();
  if (n.kind == GrammarNodeKind::choice) {
    for (int32_t alt : n.alternatives) {
      const GrammarNode& an = g.node(alt);
      if (!an.first[b]) continue;
      w.push_back(make_frame(static_cast<uint32_t>(alt), &an));
      advance(g, w, b, s);
      w.resize(keep);
    }
    return;
  }
  if (!n.first[b]) return;
  w.push_back(make_frame(child, &n));
  advance(g, w, b, s);
  w.resize(keep);
}

// Feeds b to the stack w (top last) and emits every resulting stack. w may be clobbered.
void advance(const Grammar& g, std::vector<Frame>& w, uint8_t b, Scratch& s) {
  while (!w.empty()) {
    Frame& f = w.back();
    uint32_t child = 0;
    Step r = Step::reject;
    if (f.node == kDocument) {
      if (is_ws(b)) {
        r = gap(f);
      } else if (f.phase == kDocBefore) {
        set_phase(f, kDocAfter);
        child = static_cast<uint32_t>(g.root());
        r = Step::push;
      }
    } else {
      const GrammarNode& n = g.node(static_cast<int32_t>(f.node));
      switch (n.kind) {
        case GrammarNodeKind::object: r = step_object(n, f, b, child); break;
        case GrammarNodeKind::array: r = step_array(n, f, b, child); break;
        case GrammarNodeKind::string:
          if (n.pattern) {
            r = step_pattern_string(n, f, b);
          } else if (n.excluded.empty()) {
            r = step_string(n, f, b);
          } else {
            // An additional key: track the hash of its bytes; it may not close as a declared key.
            const uint64_t h = f.h ^ kFnvBasis;
            const bool closing = f.phase == kStrBody && b == '"';
            if (closing && std::binary_search(n.excluded.begin(), n.excluded.end(), h)) {
              r = Step::reject;
            } else {
              const bool body = f.phase != kStrOpen && !closing;
              r = step_string(n, f, b);
              if (r == Step::consume && body) f.h = ((h ^ b) * kFnvPrime) ^ kFnvBasis;
            }
          }
          break;
        case GrammarNodeKind::number: r = n.bounded ? step_bounded_int(n, f, b) : step_number(n, f, b); break;
        case GrammarNodeKind::literals: r = step_literals(n, f, b); break;
        default: r = Step::reject; break;
      }
      if (r == Step::key_fork) {
        // Two readings: a declared property (which one is settled byte by byte in kObjKey)
        // and an additional property. The '"' is read here.
        const Frame base = f;
        if (base.a < n.properties.size()) {
          Frame& k = w.back();
          k = base;
          set_phase(k, kObjKey);
          k.b = base.a;
          k.c = 1;
          emit(w, s);
        }
        if (n.extra >= 0 && optional_from(n, base.a) && w.size() < kMaxGrammarDepth) {
          Frame& k = w.back();
          k = base;
          set_phase(k, kObjAfterExtraKey);
          Frame key = make_frame(static_cast<uint32_t>(n.extra_key), nullptr);
          key.phase = kStrBody;
          w.push_back(key);
          emit(w, s);
        }
        return;
      }
    }
    switch (r) {
      case Step::reject:
      case Step::key_fork:
        return;
      case Step::consume:
        emit(w, s);
        return;
      case Step::consume_pop:
        w.pop_back();
        emit(w, s);
        return;
      case Step::pop:
        w.pop_back();
        continue;
      case Step::push:
        push_child(g, w, child, b, s);
        return;
    }
  }
}

}  // namespace

// ---- GrammarMatcher ----

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar) : grammar_(std::move(grammar)) {
  HEARTH_CHECK(grammar_ != nullptr && grammar_->root() >= 0);
  Frame doc{};
  doc.node = kDocument;
  doc.phase = kDocBefore;
  frames_.push_back(doc);
  ends_.push_back(1);
}

bool GrammarMatcher::accept(uint8_t byte) {
  Scratch& s = scratch();
  s.out_frames.clear();
  s.out_ends.clear();
  uint32_t begin = 0;
  for (uint32_t end : ends_) {
    s.work.assign(frames_.begin() + begin, frames_.begin() + end);
    advance(*grammar_, s.work, byte, s);
    begin = end;
  }
  if (s.out_ends.empty()) return false;
  if (s.out_ends.size() > 1) {
    // Drop readings identical to an earlier one (anyOf branches that converged).
    size_t kept = 0, write = 0;
    uint32_t rb = 0;
    for (size_t t = 0; t < s.out_ends.size(); ++t) {
      const uint32_t re = s.out_ends[t];
      const uint32_t len = re - rb;
      bool dup = false;
      uint32_t kb = 0;
      for (size_t k = 0; k < kept && !dup; ++k) {
        const uint32_t ke = s.out_ends[k];
        dup = ke - kb == len &&
              std::memcmp(&s.out_frames[kb], &s.out_frames[rb], len * sizeof(Frame)) == 0;
        kb = ke;
      }
      if (!dup) {
        if (write != rb) std::memmove(&s.out_frames[write], &s.out_frames[rb], len * sizeof(Frame));
        write += len;
        s.out_ends[kept++] = static_cast<uint32_t>(write);
      }
      rb = re;
    }
    s.out_frames.resize(write);
    s.out_ends.resize(kept);
  }
  frames_.swap(s.out_frames);
  ends_.swap(s.out_ends);
  return true;
}

bool GrammarMatcher::accept(std::string_view bytes) {
  GrammarMatcher copy(*this);
  for (char c : bytes) {
    if (!copy.accept(static_cast<uint8_t>(c))) return false;
  }
  frames_.swap(copy.frames_);
  ends_.swap(copy.ends_);
  return true;
}

bool GrammarMatcher::accepts(std::string_view bytes) const {
  GrammarMatcher copy(*this);
  for (char c : bytes) {
    if (!copy.accept(static_cast<uint8_t>(c))) return false;
  }
  return true;
}

bool GrammarMatcher::is_complete() const {
  uint32_t begin = 0;
  for (uint32_t end : ends_) {
    const Frame& bottom = frames_[begin];
    const uint32_t depth = end - begin;
    if (bottom.phase == kDocAfter &&
        (depth == 1 || (depth == 2 && terminal_scalar(*grammar_, frames_[begin + 1])))) {
      return true;
    }
    begin = end;
  }
  return false;
}

bool GrammarMatcher::is_closed() const {
  uint32_t begin = 0;
  for (uint32_t end : ends_) {
    if (end - begin != 1 || frames_[begin].phase != kDocAfter) return false;
    begin = end;
  }
  return true;
}

bool GrammarMatcher::pattern_spot(PatternSpot* out) const {
  if (ends_.size() != 1) return false;
  const Frame& top = frames_[ends_[0] - 1];
  if (top.node == kDocument || top.phase != kStrBody) return false;
  const GrammarNode& n = grammar_->node(static_cast<int32_t>(top.node));
  if (n.kind != GrammarNodeKind::string || !n.pattern) return false;
  *out = PatternSpot{n.pattern.get(), static_cast<uint32_t>(top.h), top.a, n.min_length, n.max_length};
  return true;
}

int64_t GrammarMatcher::string_room() const {
  int64_t room = -1;
  for (uint32_t end : ends_) {
    const Frame& top = frames_[end - 1];
    if (top.node == kDocument || top.phase != kStrBody) continue;
    const GrammarNode& n = grammar_->node(static_cast<int32_t>(top.node));
    if (n.kind != GrammarNodeKind::string || n.pattern) continue;  // a pattern needs every character
    room = std::max<int64_t>(room, static_cast<int64_t>(n.max_length) - top.a);
  }
  return room;
}

}  // namespace hearth::sample
