// The byte-level JSON matcher under the generic "json" grammar: hand-written valid and invalid
// documents, the bounds (whitespace, digits, depth), UTF-8 and escape rules, copies, and an
// agreement check against nlohmann's strict parser on generated documents and their one-byte
// mutations.

#include "sample/grammar.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "grammar_test_util.h"
#include "sample/json_schema.h"
#include "sample/rng.h"

namespace hearth::sample {
namespace {

// Every byte accepted (the document may be unfinished).
bool prefix_ok(const std::shared_ptr<const Grammar>& g, std::string_view text) {
  GrammarMatcher m(g);
  return m.accept(text);
}

TEST(GrammarJson, AcceptsObjectsAndArraysOfEveryKindOfValue) {
  auto g = json_grammar();
  for (const char* doc : {
           "{}", "[]", "{\"a\":1}", "[1,-2.5e10,\"x\",true,false,null,{\"b\":[]}]",
           "{\"a\":{\"b\":{\"c\":[[],[{}]]}}}", "  {  \"k\" :  \"v\"  }  ", "{\n  \"a\": [\n    1,\n    2\n  ]\n}\n",
           "[0, -0, 0.5, 10E+3, 1e-2, 123456789]", "[\"\\n\\t\\\\\\\"\\/\\b\\f\\r\"]",
           "[\"\\u00e9\\uD83D\\uDE00\"]", "[\"caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x82\xAC\"]", "{\"\":\"\"}",
       }) {
    EXPECT_TRUE(matches(g, doc)) << doc;
  }
}

TEST(GrammarJson, RejectsInvalidDocuments) {
  auto g = json_grammar();
  for (const char* doc : {
           "1", "\"a\"", "true", "{a:1}", "{\"a\":}", "[1,]", "[01]", "{\"a\":1,}", "[\"\\x\"]",
           "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"\\ud800\\u0041\"]", "[\"a\x01\"]", "[\"\xFF\"]",
           "[\"\xC0\x80\"]", "[\"\xED\xA0\x80\"]", "[\"\xC3\"]", "{}x", "{} {}", "[1 2]", "[-]", "[1.]",
           "[1e]", "[.5]", "[+1]", "[tru]", "[nul]", "{\"a\" 1}", "[1}", "{]", "",
       }) {
    EXPECT_FALSE(matches(g, doc)) << doc;
  }
}

TEST(GrammarJson, PrefixesOfValidDocumentsAreAcceptedButIncomplete) {
  auto g = json_grammar();
  const std::string doc = "{\"a\": [1, 2.5, \"x\\u00e9y\", {\"b\": null}], \"c\": true}";
  GrammarMatcher m(g);
  for (size_t i = 0; i < doc.size(); ++i) {
    EXPECT_FALSE(m.is_complete()) << doc.substr(0, i);
    ASSERT_TRUE(m.accept(static_cast<uint8_t>(doc[i]))) << doc.substr(0, i + 1);
  }
  EXPECT_TRUE(m.is_complete());
  EXPECT_TRUE(m.is_closed());
}

TEST(GrammarJson, RejectedByteLeavesTheStateUnchanged) {
  GrammarMatcher m(json_grammar());
  ASSERT_TRUE(m.accept(std::string_view("{\"a\":")));
  EXPECT_FALSE(m.accept(static_cast<uint8_t>('}')));
  EXPECT_FALSE(m.accept(std::string_view("1}}")));  // all or nothing
  EXPECT_TRUE(m.accept(std::string_view("1}")));
  EXPECT_TRUE(m.is_complete());
}

TEST(GrammarJson, WhitespaceIsBounded) {
  auto g = json_grammar();
  const std::string ok(kMaxGrammarWhitespace, ' ');
  const std::string too_much(kMaxGrammarWhitespace + 1, ' ');
  EXPECT_TRUE(matches(g, "[" + ok + "1" + ok + "," + ok + "2]" + ok));
  EXPECT_FALSE(prefix_ok(g, "[" + too_much));
  EXPECT_FALSE(prefix_ok(g, "{\"a\":" + too_much));
  EXPECT_FALSE(prefix_ok(g, too_much));
  EXPECT_FALSE(prefix_ok(g, "{}" + too_much));
  EXPECT_TRUE(prefix_ok(g, "{}" + ok));
  // Whitespace inside strings is content, not a gap.
  EXPECT_TRUE(matches(g, "[\"" + too_much + too_much + "\"]"));
}

TEST(GrammarJson, NumbersAreBounded) {
  auto g = json_grammar();
  EXPECT_TRUE(matches(g, "[1234567890123456]"));
  EXPECT_FALSE(prefix_ok(g, "[12345678901234567"));
  EXPECT_TRUE(matches(g, "[0.1234567890123456]"));
  EXPECT_FALSE(prefix_ok(g, "[0.12345678901234567"));
  EXPECT_TRUE(matches(g, "[1e99]"));
  EXPECT_FALSE(prefix_ok(g, "[1e123"));
}

TEST(GrammarJson, NestingIsBounded) {
  auto g = json_grammar();
  const size_t ok_depth = kMaxGrammarDepth - 1;  // the bottom frame is the document itself
  EXPECT_TRUE(matches(g, std::string(ok_depth, '[') + std::string(ok_depth, ']')));
  EXPECT_FALSE(prefix_ok(g, std::string(ok_depth + 1, '[')));
}

TEST(GrammarJson, CopiesAreIndependent) {
  GrammarMatcher a(json_grammar());
  ASSERT_TRUE(a.accept(std::string_view("{\"k\":")));
  GrammarMatcher b = a;
  ASSERT_TRUE(a.accept(std::string_view("[1]}")));
  ASSERT_TRUE(b.accept(std::string_view("\"s\"")));
  EXPECT_TRUE(a.is_complete());
  EXPECT_FALSE(b.is_complete());
  EXPECT_FALSE(b.accepts("]"));
  EXPECT_TRUE(b.accepts("}"));
  EXPECT_FALSE(a.accepts(","));
  ASSERT_TRUE(b.accept(std::string_view(",\"t\":2}")));
  EXPECT_TRUE(b.is_complete());
}

TEST(GrammarJson, StringRoomTracksTheStringBody) {
  GrammarMatcher m(json_grammar());
  EXPECT_EQ(m.string_room(), -1);
  ASSERT_TRUE(m.accept(std::string_view("[\"ab")));
  EXPECT_GT(m.string_room(), 1000000);
  ASSERT_TRUE(m.accept(static_cast<uint8_t>(0xC3)));
  EXPECT_EQ(m.string_room(), -1);  // inside a character
  ASSERT_TRUE(m.accept(static_cast<uint8_t>(0xA9)));
  EXPECT_GT(m.string_room(), 0);
}

// ---- agreement with a strict parser ----

void random_value(Rng& rng, int depth, std::string& out, int indent) {
  const uint64_t kind = rng.next_u64() % (depth >= 4 ? 4 : 6);
  auto pad = [&](int level) {
    if (indent > 0) {
      out += '\n';
      out.append(static_cast<size_t>(level * indent), ' ');
    }
  };
  switch (kind) {
    case 0: out += std::to_string(static_cast<int64_t>(rng.next_u64() % 2001) - 1000); break;
    case 1: {
      static const char* kStrings[] = {"\"\"", "\"a\"", "\"caf\xC3\xA9\"", "\"\\n\\\"\"", "\"\\u00e9x\"",
                                       "\"\xF0\x9F\x98\x80\"", "\"a b c\""};
      out += kStrings[rng.next_u64() % 7];
      break;
    }
    case 2: {
      static const char* kLits[] = {"true", "false", "null", "0.25", "-1.5e3", "0"};
      out += kLits[rng.next_u64() % 6];
      break;
    }
    case 3:
    case 4: {
      const size_t n = rng.next_u64() % 4;
      out += '[';
      for (size_t i = 0; i < n; ++i) {
        if (i > 0) out += ',';
        pad(depth + 1);
        random_value(rng, depth + 1, out, indent);
      }
      if (n > 0) pad(depth);
      out += ']';
      break;
    }
    default: {
      const size_t n = rng.next_u64() % 4;
      out += '{';
      for (size_t i = 0; i < n; ++i) {
        if (i > 0) out += ',';
        pad(depth + 1);
        out += "\"k" + std::to_string(i) + "\":";
        if (indent > 0) out += ' ';
        random_value(rng, depth + 1, out, indent);
      }
      if (n > 0) pad(depth);
      out += '}';
      break;
    }
  }
}

bool strict_parse_container(const std::string& text) {
  nlohmann::json v = nlohmann::json::parse(text, nullptr, false);
  return !v.is_discarded() && (v.is_object() || v.is_array());
}

TEST(GrammarJson, AgreesWithAStrictParserOnGeneratedDocumentsAndMutations) {
  auto g = json_grammar();
  Rng rng(1234);
  const std::string mutation_bytes = "{}[]\":,\\ 0123456789aeE-+.tnu\x01\xC3\xA9\xFF";
  int mutants = 0, valid_mutants = 0;
  for (int doc_i = 0; doc_i < 300; ++doc_i) {
    std::string doc;
    std::string body;
    random_value(rng, 0, body, static_cast<int>(rng.next_u64() % 3));
    doc = (rng.next_u64() % 2 ? "{\"root\": " + body + "}" : "[" + body + "]");
    ASSERT_TRUE(strict_parse_container(doc)) << doc;
    ASSERT_TRUE(matches(g, doc)) << doc;
    for (int k = 0; k < 20; ++k) {
      std::string m = doc;
      const size_t pos = rng.next_u64() % (m.size() + 1);
      const uint64_t op = rng.next_u64() % 3;
      const char c = mutation_bytes[rng.next_u64() % mutation_bytes.size()];
      if (op == 0 && pos < m.size()) m.erase(pos, 1);
      else if (op == 1) m.insert(pos, 1, c);
      else if (pos < m.size()) m[pos] = c;
      const bool strict = strict_parse_container(m);
      EXPECT_EQ(matches(g, m), strict) << m;
      ++mutants;
      valid_mutants += strict ? 1 : 0;
    }
  }
  // The mutations produce both outcomes, so the comparison means something.
  EXPECT_GT(valid_mutants, 100);
  EXPECT_GT(mutants - valid_mutants, 1000);
}

}  // namespace
}  // namespace hearth::sample
