#pragma once
// Byte-level constrained decoding for JSON: a compiled Grammar (an immutable graph of JSON value
// nodes, built by json_schema.h for "any JSON" or from a JSON schema) and a GrammarMatcher, the
// incremental parser state of one sequence, fed one byte at a time.
//
// The matcher is a pushdown automaton with alternatives: a small set of parse stacks ("threads",
// one per still-possible reading of the bytes so far: anyOf branches, an object key that could
// be a declared or an additional property; which declared property a key is, is settled byte by
// byte within one frame). Each stack frame is 24 bytes, so copying a matcher is a couple
// of memcpys, which is what token masking does for every candidate token.
//
// Bounds, so that untrusted schemas and endless models cannot exhaust memory or loop:
//  - at most kMaxGrammarWhitespace whitespace bytes between two JSON tokens (and before/after
//    the document): a model cannot pad forever;
//  - numbers have at most 16 integer digits, 16 fraction digits (like llama.cpp's schema
//    grammars) and 2 exponent digits (so that every number is finite as a double);
//  - nesting deeper than kMaxGrammarDepth values is rejected;
//  - at most kMaxGrammarThreads alternatives are followed at once (the rest are dropped).
// Strings with a pattern are checked character by character against its DFA (regex.h) and may
// not stop where the pattern cannot match; bounded integers may not take a digit after which no
// in-range integer can be finished (maximum 25: "3" may end, but not go on to "30").
// Additional property keys may not spell a declared key (compared as written: an escaped
// spelling of a declared name is not caught). Strings must be valid UTF-8 with valid escapes (surrogate escapes must pair), so every complete
// document parses with any strict JSON parser.

#include <bitset>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sample/regex.h"

namespace hearth::sample {

inline constexpr int kMaxGrammarWhitespace = 20;
inline constexpr size_t kMaxGrammarDepth = 100;
inline constexpr size_t kMaxGrammarThreads = 64;

enum class GrammarNodeKind : uint8_t {
  never,     // matches nothing (the `false` schema, an empty anyOf)
  object,    // { declared properties in order, then optional extra properties }
  array,     // [ items ] with a count range
  string,    // "..." with a code point count range
  number,    // JSON number (or integer only)
  literals,  // one of a set of exact byte strings (true/false/null, enum, const)
  choice,    // one of several nodes (anyOf/oneOf, type lists); flattened by finalize()
  alias,     // stands for another node ($ref); resolved away by finalize()
};

struct GrammarProperty {
  std::string key;  // the key as JSON text, quotes included: "\"name\""
  int32_t node = -1;
  bool required = false;
};

struct GrammarNode {
  GrammarNodeKind kind = GrammarNodeKind::never;
  // object
  std::vector<GrammarProperty> properties;  // emitted in this order; optional ones may be skipped
  int32_t extra = -1;                       // value node of additional properties; -1: none allowed
  int32_t extra_key = -1;                   // string node for their keys (set by finalize)
  // array: item i < prefix.size() matches prefix[i] (a tuple), later ones `items` (-1: none)
  int32_t items = -1;
  std::vector<int32_t> prefix;
  uint32_t min_items = 0, max_items = UINT32_MAX;
  // string (code points; an escape counts as one)
  uint32_t min_length = 0, max_length = UINT32_MAX;
  // string: the decoded characters (an escape stands for its character) must match this;
  // nullptr: any. The compiler makes sure the start state can reach a match within the lengths.
  std::shared_ptr<const Regex> pattern;
  // Hashes of strings this one must not be (the declared keys, for additional keys), sorted.
  std::vector<uint64_t> excluded;
  // number
  bool integer = false;
  // integer only: the value must lie in [min_value, max_value] (both within 16 digits)
  bool bounded = false;
  int64_t min_value = 0, max_value = 0;
  // literals: sorted and unique after finalize()
  std::vector<std::string> literals;
  // choice: the alternatives; alias: alternatives[0] is the target
  std::vector<int32_t> alternatives;
  // Bytes a match can start with (computed by finalize()).
  std::bitset<256> first;
};

// An immutable compiled grammar; share it between matchers with shared_ptr.
class Grammar {
 public:
  // Appends a node and returns its id.
  int32_t add(GrammarNode node);
  GrammarNode& node(int32_t id) { return nodes_[static_cast<size_t>(id)]; }
  const GrammarNode& node(int32_t id) const { return nodes_[static_cast<size_t>(id)]; }
  size_t size() const { return nodes_.size(); }
  int32_t root() const { return root_; }

  // Resolves aliases (a cycle of aliases is Error(invalid_argument)), flattens choices into
  // alternatives that are neither choices nor aliases, sorts literal sets and computes the
  // first-byte sets. Call once, after all nodes are added.
  void finalize(int32_t root);

  // A node accepting any JSON string, for the keys of additional properties (set by finalize).
  int32_t any_string() const { return any_string_; }

 private:
  int32_t resolve(int32_t id) const;
  std::vector<GrammarNode> nodes_;
  int32_t root_ = -1;
  int32_t any_string_ = -1;
};

class GrammarMatcher {
 public:
  explicit GrammarMatcher(std::shared_ptr<const Grammar> grammar);

  // Advances by one byte. False: the byte cannot continue any reading; the state is unchanged.
  bool accept(uint8_t byte);
  // Advances by every byte of `bytes`, or (false) leaves the state unchanged.
  bool accept(std::string_view bytes);
  // Whether `bytes` could be accepted, without changing the state.
  bool accepts(std::string_view bytes) const;

  // The bytes so far form a complete document (possibly followed by whitespace).
  bool is_complete() const;
  // Complete, and nothing but whitespace can follow: generation can end here.
  bool is_closed() const;

  // The largest number of further code points some reading can put in the string it is in the
  // middle of (at a character boundary); -1 when no reading is inside a string body (strings
  // with a pattern do not count: their characters must be fed one by one). Used by
  // token masking: a token of plain characters that fits is accepted without being fed.
  int64_t string_room() const;

  // Where the matcher is when its only reading sits in the body of a string with a pattern, at a
  // character boundary: there a token of plain characters can be checked by walking the
  // pattern's DFA alone (token masking does). False in every other state.
  struct PatternSpot {
    const Regex* regex;
    uint32_t state;  // DFA state
    uint32_t count;  // code points in the string so far
    uint32_t min_length, max_length;
  };
  bool pattern_spot(PatternSpot* out) const;

  const std::shared_ptr<const Grammar>& grammar() const { return grammar_; }
  size_t thread_count() const { return ends_.size(); }

  struct Frame {
    uint32_t node;  // GrammarNode id, or kDocument for the bottom frame
    uint32_t a;     // per kind: property cursor, item count, code points, literal range start
    uint32_t b;     // per kind: property being read, UTF-8 range, escape flags, range end
    uint16_t c;     // per kind: key bytes matched, digits, continuation bytes, literal position
    uint8_t phase;
    uint8_t ws;     // whitespace bytes in the current gap
    uint64_t h;     // strings with exclusions: hash of the bytes so far (FNV-1a, xor basis);
                    // with a pattern: DFA state (low half), character being decoded (high half);
                    // bounded integers: the magnitude so far (b = 1 after a minus sign)
  };

 private:
  std::shared_ptr<const Grammar> grammar_;
  std::vector<Frame> frames_;   // every thread's stack, bottom first, back to back
  std::vector<uint32_t> ends_;  // end offset in frames_ of each thread
};

}  // namespace hearth::sample
