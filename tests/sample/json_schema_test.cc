// JSON schema -> grammar: each supported keyword on documents it must accept and reject, the
// keywords that are ignored, and malformed schemas (Error(invalid_argument), a 400 upstream).

#include "sample/json_schema.h"

#include <gtest/gtest.h>

#include <string>

#include "grammar_test_util.h"
#include "sample/rng.h"
#include "util/error.h"

namespace hearth::sample {
namespace {

struct Case {
  const char* schema;
  std::vector<const char*> good;
  std::vector<const char*> bad;
};

void check(const Case& c) {
  auto g = json_schema_grammar(c.schema);
  for (const char* d : c.good) EXPECT_TRUE(matches(g, d)) << c.schema << "\n  should accept: " << d;
  for (const char* d : c.bad) EXPECT_FALSE(matches(g, d)) << c.schema << "\n  should reject: " << d;
}

TEST(JsonSchema, PropertiesInSchemaOrderRequiredAndOptional) {
  check({R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["a"]})",
         {R"({"a":1,"b":"x"})", R"({"a":1})", R"({ "a" : -7 , "b" : "" })"},
         {R"({"b":"x","a":1})", R"({"b":"x"})", "{}", R"({"a":1,"c":2})", R"({"a":"1"})", R"({"a":1,"a":1})",
          R"({"a":1,})", "[]"}});
  check({R"({"properties":{"a":{},"b":{},"c":{}}})",
         {"{}", R"({"c":1})", R"({"a":1,"c":[]})", R"({"a":null,"b":{},"c":"x"})", R"({"b":true})"},
         {R"({"c":1,"a":1})", R"({"d":1})", R"({"a":1,"a":2})"}});
}

TEST(JsonSchema, ManyOptionalPropertiesSharingPrefixes) {
  // More optional properties than the matcher follows alternatives at once, with shared
  // prefixes: any one of them can be chosen, in order.
  std::string schema = R"({"type":"object","properties":{)";
  for (int i = 0; i < 200; ++i) {
    schema += (i ? ",\"p" : "\"p") + std::to_string(i) + "\":{\"type\":\"integer\"}";
  }
  schema += R"(,"p":{"type":"boolean"}},"required":["p"]})";
  auto g = json_schema_grammar(schema);
  EXPECT_TRUE(matches(g, R"({"p":true})"));
  EXPECT_TRUE(matches(g, R"({"p199":1,"p":false})"));
  EXPECT_TRUE(matches(g, R"({"p1":1,"p10":2,"p100":3,"p199":4,"p":true})"));
  EXPECT_FALSE(matches(g, R"({"p10":2,"p1":1,"p":true})"));
  EXPECT_FALSE(matches(g, R"({"p200":1,"p":true})"));
  EXPECT_FALSE(matches(g, R"({"p1":1})"));
  EXPECT_FALSE(matches(g, R"({"p":true,"p1":1})"));
}

TEST(JsonSchema, AdditionalProperties) {
  check({R"({"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":true})",
         {R"({"a":1,"zz":[1,{"q":null}]})", R"({"x":"y"})", "{}"},
         {R"({"x":1,"a":1})"}});  // declared properties come first
  check({R"({"type":"object","additionalProperties":false})", {"{}"}, {R"({"a":1})"}});
  // Additional properties come after the declared ones, so required ones cannot be skipped.
  check({R"({"properties":{"a":{"type":"integer"},"b":{}},"required":["a"],"additionalProperties":true})",
         {R"({"a":1,"x":2})", R"({"a":1,"b":2,"x":2})"},
         {R"({"x":2})", R"({"x":2,"a":1})"}});
  check({R"({"type":"object","additionalProperties":{"type":"integer"}})",
         {R"({"x":1,"y":2})", "{}"},
         {R"({"x":"s"})"}});
  check({R"({"type":"object"})", {"{}", R"({"any":{"thing":[1,"2",null]}})"}, {"[]", "1"}});
}

TEST(JsonSchema, ArraysWithItemsAndCounts) {
  check({R"({"type":"array","items":{"type":"boolean"},"minItems":1,"maxItems":3})",
         {"[true]", "[true,false,true]", "[ false ]"},
         {"[]", "[true,true,true,true]", "[1]", "[true,]"}});
  check({R"({"type":"array"})", {"[]", R"([1,"a",{},[]])"}, {"{}"}});
  check({R"({"type":"array","maxItems":0})", {"[]"}, {"[1]"}});
}

TEST(JsonSchema, EnumAndConst) {
  check({R"({"enum":["red","green",1,12,null,{"a":[1]}]})",
         {R"("red")", R"("green")", "1", "12", "null", R"({"a":[1]})"},
         {R"("blue")", R"("re")", "2", "123", R"({"a": [1]})", "true"}});
  check({R"({"const":"fixed"})", {R"("fixed")"}, {R"("fixe")", R"("fixed2")"}});
  check({R"({"type":"object","properties":{"v":{"const":3}},"required":["v"]})", {R"({"v":3})"}, {R"({"v":4})"}});
  // A string enum value is matched as JSON text, escapes included.
  check({R"({"enum":["a\"b","é"]})", {R"("a\"b")", "\"\xC3\xA9\""}, {R"("a"b")"}});
}

TEST(JsonSchema, AnyOfOneOfAndTypeLists) {
  const char* alts = R"({"anyOf":[{"type":"string"},
      {"type":"object","properties":{"x":{"type":"integer"}},"required":["x"]},
      {"type":"object","properties":{"y":{"type":"boolean"}},"required":["y"]}]})";
  check({alts, {R"("s")", R"({"x":1})", R"({"y":true})"}, {R"({"x":true})", R"({"y":1})", "{}", "1"}});
  check({R"({"oneOf":[{"type":"integer"},{"type":"null"}]})", {"5", "null"}, {"1.5", R"("5")"}});
  check({R"({"type":["string","null"]})", {R"("a")", "null"}, {"1", "[]"}});
  check({R"({"type":"object","properties":{"v":{"type":["number","boolean"]}},"required":["v"]})",
         {R"({"v":1.5})", R"({"v":false})"},
         {R"({"v":"1"})"}});
}

TEST(JsonSchema, ScalarTypes) {
  check({R"({"type":"integer"})", {"0", "-12", "1234567890123456"}, {"1.5", "1e3", "01", "-", "12345678901234567"}});
  check({R"({"type":"number"})", {"0", "-1.25", "3e-7", "6.02E+23"}, {"NaN", ".5", "1."}});
  check({R"({"type":"boolean"})", {"true", "false"}, {"null", "1"}});
  check({R"({"type":"null"})", {"null"}, {"false"}});
}

TEST(JsonSchema, StringLengthsCountCodePoints) {
  check({R"({"type":"string","minLength":2,"maxLength":3})",
         {R"("ab")", R"("abc")", "\"\xC3\xA9\xC3\xA9\"", R"("\n\t")", R"("\u00e9x")", R"("\ud83d\ude00a")"},
         {R"("a")", R"("abcd")", "\"\xC3\xA9\"", R"("\n\t\r\b")"}});
  // An unknown format is not enforced (patterns and known formats: json_schema_keywords_test.cc).
  check({R"({"type":"string","format":"email"})", {R"("not an email")"}, {"1"}});
}

TEST(JsonSchema, RefsDefsAndRecursion) {
  const char* tree = R"({"$defs":{"node":{"type":"object","properties":{
      "value":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#/$defs/node"}}},
      "required":["value","children"]}},"$ref":"#/$defs/node"})";
  check({tree,
         {R"({"value":1,"children":[]})", R"({"value":1,"children":[{"value":2,"children":[{"value":3,"children":[]}]}]})"},
         {R"({"value":1})", R"({"value":1,"children":[{"value":2}]})"}});
  check({R"({"definitions":{"n":{"type":"integer"}},"type":"array","items":{"$ref":"#/definitions/n"}})",
         {"[1,2]"}, {R"(["a"])"}});
  check({R"({"type":"object","properties":{"next":{"$ref":"#"},"v":{"type":"integer"}},"required":["v"]})",
         {R"({"v":1})", R"({"next":{"next":{"v":3},"v":2},"v":1})"}, {R"({"next":{},"v":1})"}});
  // A chain of refs to a ref.
  check({R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"type":"boolean"}},"$ref":"#/$defs/a"})", {"true"}, {"1"}});
}

TEST(JsonSchema, AllOfMergesObjectParts) {
  check({R"({"$defs":{"base":{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]}},
            "allOf":[{"$ref":"#/$defs/base"},{"properties":{"name":{"type":"string"}},"required":["name"]}]})",
         {R"({"id":1,"name":"n"})"},
         {R"({"id":1})", R"({"name":"n"})", R"({"name":"n","id":1})"}});
}

TEST(JsonSchema, NoTypeInfersFromKeywordsElseAnything) {
  check({R"({"items":{"type":"integer"}})", {"[1]"}, {"{}"}});
  check({R"({"maxLength":1})", {R"("a")"}, {R"("ab")"}});
  check({"{}", {"1", R"("s")", "[]", "{}", "null"}, {"", "{"}});
  check({"true", {"1", "{}"}, {}});
  check({R"({"description":"x","title":"y","minimum":3})", {"1"}, {}});
}

TEST(JsonSchema, FalseAcceptsNothing) {
  check({"false", {}, {"1", "{}", "null"}});
  check({R"({"type":"object","properties":{"a":false,"b":{"type":"integer"}}})", {R"({"b":1})", "{}"}, {R"({"a":1})"}});
}

TEST(JsonSchema, MalformedSchemasAreInvalidArgument) {
  for (const char* s : {
           "not json", "[]", "5", R"({"type":5})", R"({"type":"thing"})", R"({"type":["string",1]})",
           R"({"properties":[]})", R"({"type":"object","required":"a"})", R"({"$ref":"http://x/schema.json"})",
           R"({"$ref":"#/$defs/missing"})", R"({"$ref":"#"})", R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"})",
           R"({"type":"array","minItems":-1})", R"({"type":"string","minLength":3,"maxLength":2})",
           R"({"type":"array","maxItems":"3"})", R"({"anyOf":{}})", R"({"enum":"a"})", R"({"items":5})",
       }) {
    try {
      json_schema_grammar(s);
      ADD_FAILURE() << "accepted: " << s;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << s;
      EXPECT_NE(std::string(e.what()).find("invalid JSON schema"), std::string::npos) << e.what();
    }
  }
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += R"({"type":"array","items":)";
  deep += "{}";
  for (int i = 0; i < 100; ++i) deep += "}";
  EXPECT_THROW(json_schema_grammar(deep), Error);
}

TEST(JsonSchema, ScalarRootIsCompleteButNotClosed) {
  GrammarMatcher m(json_schema_grammar(R"({"type":"integer"})"));
  ASSERT_TRUE(m.accept(std::string_view("12")));
  EXPECT_TRUE(m.is_complete());
  EXPECT_FALSE(m.is_closed());  // more digits could follow
  GrammarMatcher o(json_schema_grammar(R"({"type":"object"})"));
  ASSERT_TRUE(o.accept(std::string_view("{}")));
  EXPECT_TRUE(o.is_closed());
}

TEST(JsonSchema, FormatSelectsTheGrammar) {
  EXPECT_EQ(grammar_for_format(""), nullptr);
  EXPECT_EQ(grammar_for_format("json"), json_grammar());
  auto g = grammar_for_format(R"({"type":"boolean"})");
  ASSERT_NE(g, nullptr);
  EXPECT_TRUE(matches(g, "true"));
  EXPECT_FALSE(matches(json_grammar(), "true"));
}

// Untrusted schemas and bytes: mutated schemas either compile or throw Error, and random bytes
// through whatever compiled never crash nor grow the alternatives past their cap.
TEST(JsonSchema, MutatedSchemasAndRandomBytesOnlyEverThrowError) {
  const std::vector<std::string> seeds = {
      R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"anyOf":[{"type":"string"},{"$ref":"#"}]}},"required":["a"]})",
      R"({"$defs":{"n":{"type":"array","items":{"$ref":"#/$defs/n"},"maxItems":2}},"$ref":"#/$defs/n"})",
      R"({"enum":["a","ab",1,[1,{"x":null}]],"const":"q"})",
      R"({"anyOf":[{"type":"object","properties":{"k":{}}},{"type":"object","properties":{"k":{},"l":{}}},{"type":"object","additionalProperties":true}]})",
      R"({"type":["string","number","null"],"minLength":1,"maxLength":3})"};
  const std::string alphabet = "{}[]\":,0123456789-aeutrsflnbk#/$ \xC3";
  Rng rng(99);
  int compiled = 0, rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string s = seeds[rng.next_u64() % seeds.size()];
    for (int k = 0, n = 1 + static_cast<int>(rng.next_u64() % 3); k < n; ++k) {
      const size_t pos = rng.next_u64() % (s.size() + 1);
      const char c = alphabet[rng.next_u64() % alphabet.size()];
      switch (rng.next_u64() % 3) {
        case 0: if (pos < s.size()) s.erase(pos, 1); break;
        case 1: s.insert(pos, 1, c); break;
        default: if (pos < s.size()) s[pos] = c; break;
      }
    }
    std::shared_ptr<const Grammar> g;
    try {
      g = json_schema_grammar(s);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
      ++rejected;
      continue;
    }
    ++compiled;
    GrammarMatcher m(g);
    for (int b = 0; b < 200; ++b) {
      m.accept(static_cast<uint8_t>(alphabet[rng.next_u64() % alphabet.size()]));
      ASSERT_LE(m.thread_count(), kMaxGrammarThreads);
    }
  }
  EXPECT_GT(compiled, 500);
  EXPECT_GT(rejected, 500);
}

}  // namespace
}  // namespace hearth::sample
