// The schema keywords beyond structure: `pattern` on strings, integer bounds, tuples
// (prefixItems), on documents fed byte by byte; bounded integers are checked exhaustively
// against a brute-force list of the integers in range (what may end, and which prefixes may
// still become one).

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "grammar_test_util.h"
#include "sample/json_schema.h"
#include "util/error.h"

namespace hearth::sample {
namespace {

// How many bytes of `text` the matcher takes before refusing one.
size_t accepted_prefix(const std::shared_ptr<const Grammar>& g, std::string_view text) {
  GrammarMatcher m(g);
  size_t n = 0;
  while (n < text.size() && m.accept(static_cast<uint8_t>(text[n]))) ++n;
  return n;
}

void check(const char* schema, const std::vector<std::string>& good, const std::vector<std::string>& bad) {
  auto g = json_schema_grammar(schema);
  for (const std::string& d : good) EXPECT_TRUE(matches(g, d)) << schema << "\n  should accept: " << d;
  for (const std::string& d : bad) EXPECT_FALSE(matches(g, d)) << schema << "\n  should reject: " << d;
}

TEST(JsonSchemaPattern, StringsMustMatch) {
  check(R"({"type":"string","pattern":"^[0-9]{3}-[0-9]{4}$"})",
        {R"("555-1234")"}, {R"("555-123")", R"("5551234")", R"("555-12345")", R"("abc-defg")", "555"});
  // Without anchors the pattern may match anywhere, as JSON schema has it.
  check(R"({"type":"string","pattern":"cat"})", {R"("cat")", R"("concatenate")"}, {R"("dog")", R"("ca")"});
  check(R"({"type":"object","properties":{"code":{"type":"string","pattern":"^[A-Z]{2}$"}},"required":["code"]})",
        {R"({"code":"FR"})", R"({ "code" : "DE" })"}, {R"({"code":"F"})", R"({"code":"fr"})", R"({"code":"FRA"})"});
  // A type-less schema with a pattern is a string.
  check(R"({"pattern":"^a+$"})", {R"("aaa")"}, {R"("ab")", "1"});
}

TEST(JsonSchemaPattern, PrefixesThatCannotMatchAreRefusedAtOnce) {
  auto g = json_schema_grammar(R"({"type":"string","pattern":"^[0-9]{3}-[0-9]{4}$"})");
  EXPECT_EQ(accepted_prefix(g, R"("12a)"), 3u);       // 'a' cannot follow
  EXPECT_EQ(accepted_prefix(g, R"("123-4567")"), 10u);
  EXPECT_EQ(accepted_prefix(g, R"("123-45678")"), 9u);  // too long: the 8th digit is refused
  EXPECT_EQ(accepted_prefix(g, R"("123")"), 4u);        // cannot close before the match is whole
  // A character only partly read is refused as soon as it cannot become one the pattern takes:
  // \u00 may still be a digit (\u0031), \u004 may not; nor may a UTF-8 lead byte.
  EXPECT_EQ(accepted_prefix(g, R"("1\u0031)"), 8u);
  EXPECT_EQ(accepted_prefix(g, R"("1\u0041)"), 6u);
  EXPECT_EQ(accepted_prefix(g, "\"1\xC3\xA9"), 2u);
  EXPECT_EQ(accepted_prefix(g, R"("123\u002d)"), 10u);  // '-' spelled as an escape
  // Surrogate pairs: only a pair that spells an allowed character gets through.
  auto emoji = json_schema_grammar(R"({"type":"string","pattern":"^\\x41?\ud83d\ude00$"})");
  EXPECT_TRUE(matches(emoji, R"("\ud83d\ude00")"));
  EXPECT_TRUE(matches(emoji, "\"\xF0\x9F\x98\x80\""));
  EXPECT_EQ(accepted_prefix(emoji, R"("\ud83d\ude01)"), 12u);
  EXPECT_EQ(accepted_prefix(emoji, R"("\ud83e)"), 6u);
  EXPECT_EQ(accepted_prefix(emoji, "\"\xF0\x9F\x98\x81"), 4u);
  EXPECT_EQ(accepted_prefix(emoji, "\"\xE2"), 1u);
}

TEST(JsonSchemaPattern, EscapesCountAsTheCharactersTheyStandFor) {
  // \n is a newline, \u00e9 is e-acute, \" is a quote, \ud83d\ude00 is one emoji.
  check(R"({"type":"string","pattern":"^a\\nb$"})", {R"("a\nb")", R"("a\u000ab")"}, {R"("a\\nb")", R"("anb")"});
  check(R"({"type":"string","pattern":"^\\u00e9+$"})", {R"("\u00e9\u00E9")", "\"\xC3\xA9\""}, {R"("e")"});
  check(R"({"type":"string","pattern":"^say \"hi\"$"})", {R"("say \"hi\"")", R"("say \u0022hi\u0022")"}, {R"("say hi")"});
  check(R"({"type":"string","pattern":"^.$"})",
        {R"("\ud83d\ude00")", "\"\xF0\x9F\x98\x80\"", R"("\t")"}, {R"("\n")", R"("ab")", R"("")"});
  check(R"({"type":"string","pattern":"^[^\\\\]*$"})", {R"("a/b")", R"("a\/b")"}, {R"("a\\b")"});
}

TEST(JsonSchemaPattern, LengthBoundsAndPatternTogether) {
  check(R"({"type":"string","pattern":"^[a-z]+$","minLength":2,"maxLength":3})",
        {R"("ab")", R"("abc")"}, {R"("a")", R"("abcd")", R"("A1")"});
  auto g = json_schema_grammar(R"({"type":"string","pattern":"^[0-9]{2}x$","maxLength":3})");
  EXPECT_TRUE(matches(g, R"("12x")"));
  // A pattern no string within the lengths can match accepts nothing, not even the quote.
  auto none = json_schema_grammar(R"({"type":"string","pattern":"^[0-9]{5}$","maxLength":3})");
  EXPECT_EQ(accepted_prefix(none, R"("1)"), 0u);
  auto short_only = json_schema_grammar(R"({"type":"string","pattern":"^a{1,2}$","minLength":3})");
  EXPECT_EQ(accepted_prefix(short_only, R"("a)"), 0u);
  auto empty_class = json_schema_grammar(R"({"type":"string","pattern":"^x[]$"})");
  EXPECT_EQ(accepted_prefix(empty_class, R"("x)"), 0u);
}

TEST(JsonSchemaPattern, UnsupportedPatternsAreIgnored) {
  // A backreference, a lookahead: any string is accepted, as llama.cpp's converter degrades.
  check(R"({"type":"string","pattern":"^(a)\\1$"})", {R"("zz")", R"("aa")"}, {"1"});
  check(R"({"type":"string","pattern":"^(?=x)y$"})", {R"("anything")"}, {});
  // Formats the converter does not know are not enforced.
  check(R"({"type":"string","format":"email"})", {R"("not an email")"}, {"1"});
  EXPECT_THROW(json_schema_grammar(R"({"type":"string","pattern":5})"), Error);
}

TEST(JsonSchemaPattern, FormatsTheConverterEnforces) {
  check(R"({"type":"string","format":"date"})", {R"("2024-02-29")", R"("1999-12-31")"},
        {R"("2024-13-01")", R"("2024-1-01")", R"("not a date")", R"("2024-02-32")"});
  check(R"({"type":"string","format":"time"})", {R"("23:59:59Z")", R"("08:00:00.123+02:00")"},
        {R"("24:00:00Z")", R"("08:00:00")", R"("8:00:00Z")"});
  check(R"({"type":"string","format":"date-time"})", {R"("2024-02-29T12:30:00Z")"},
        {R"("2024-02-29 12:30:00Z")", R"("2024-02-29")"});
  check(R"({"type":"string","format":"uuid"})", {R"("123e4567-e89b-12d3-a456-426614174000")"},
        {R"("123e4567e89b12d3a456426614174000")", R"("123e4567-e89b-12d3-a456-42661417400g")"});
  check(R"({"format":"uuid4"})", {R"("123e4567-e89b-42d3-a456-426614174000")"}, {R"("x")"});
  // A pattern wins over the format.
  check(R"({"type":"string","format":"date","pattern":"^x$"})", {R"("x")"}, {R"("2024-02-29")"});
}

TEST(JsonSchemaBounds, IntegerBoundsAreExact) {
  check(R"({"type":"integer","minimum":0,"maximum":25})", {"0", "7", "25", "19"}, {"-1", "26", "30", "100", "-0"});
  check(R"({"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":25})", {"1", "24"}, {"0", "25"});
  check(R"({"type":"integer","minimum":-5,"maximum":-2})", {"-5", "-2", "-3"}, {"-1", "-6", "0", "2", "-0"});
  check(R"({"type":"integer","minimum":10})", {"10", "99", "1234567890123456"}, {"9", "0", "-10", "-1"});
  check(R"({"type":"integer","maximum":-10})", {"-10", "-1234"}, {"-9", "0", "10"});
  // Fractional bounds round inwards; draft 4's boolean exclusive forms.
  check(R"({"type":"integer","minimum":2.5,"maximum":4.9})", {"3", "4"}, {"2", "5"});
  check(R"({"type":"integer","minimum":3,"exclusiveMinimum":true,"maximum":6,"exclusiveMaximum":true})",
        {"4", "5"}, {"3", "6"});
  check(R"({"type":"integer","exclusiveMinimum":2.5,"exclusiveMaximum":3.5})", {"3"}, {"2", "4"});
  // -0 is 0: allowed where 0 is and negatives are.
  check(R"({"type":"integer","minimum":-1,"maximum":0})", {"-0", "0", "-1"}, {"1"});
  // Empty ranges accept nothing.
  check(R"({"type":"integer","minimum":5,"maximum":4})", {}, {"4", "5"});
  check(R"({"type":"integer","minimum":1e20})", {}, {"1"});
  // In a structure: the bound holds where the number ends (',' '}' ']' or whitespace).
  check(R"({"type":"object","properties":{"n":{"type":"integer","minimum":10,"maximum":20}},"required":["n"]})",
        {R"({"n":15})", R"({"n":20 })"}, {R"({"n":1})", R"({"n":21})"});
  check(R"({"type":"array","items":{"type":"integer","maximum":3}})", {"[1,2,3]", "[-7]"}, {"[1,4]", "[10]"});
}

TEST(JsonSchemaBounds, ABoundedIntegerPrefixIsRefusedAsSoonAsItCannotEndInRange) {
  auto g = json_schema_grammar(R"({"type":"integer","maximum":25})");
  GrammarMatcher m(g);
  ASSERT_TRUE(m.accept('3'));
  EXPECT_TRUE(m.is_complete());
  EXPECT_FALSE(m.accepts("0"));  // 30 > 25, and so is every longer number
  EXPECT_TRUE(m.accepts(" "));
}

// Every string of up to 5 bytes over "-0123456789" against brute force: a string is complete
// iff it is an in-range integer, and every byte is taken iff the string so far is a prefix of
// one.
TEST(JsonSchemaBounds, ExhaustiveAgainstBruteForce) {
  const std::vector<std::pair<int, int>> ranges = {{0, 25}, {-25, -3}, {10, 39}, {-7, 120}, {100, 100}, {5, 1999}, {-1, 0}};
  const std::string alphabet = "-0123456789";
  for (auto [lo, hi] : ranges) {
    const std::string schema = "{\"type\":\"integer\",\"minimum\":" + std::to_string(lo) +
                               ",\"maximum\":" + std::to_string(hi) + "}";
    auto g = json_schema_grammar(schema);
    std::set<std::string> whole, prefixes;
    for (int v = lo; v <= hi; ++v) whole.insert(std::to_string(v));
    if (lo < 0 && lo <= 0 && hi >= 0) whole.insert("-0");
    for (const std::string& w : whole) {
      for (size_t n = 1; n <= w.size(); ++n) prefixes.insert(w.substr(0, n));
    }
    size_t complete = 0;
    std::vector<std::string> layer = {""};
    for (int len = 1; len <= 5; ++len) {
      std::vector<std::string> next;
      for (const std::string& base : layer) {
        for (char c : alphabet) next.push_back(base + c);
      }
      for (const std::string& s : next) {
        GrammarMatcher m(g);
        size_t taken = 0;
        while (taken < s.size() && m.accept(static_cast<uint8_t>(s[taken]))) ++taken;
        const bool all = taken == s.size();
        ASSERT_EQ(all, prefixes.count(s) == 1) << schema << " prefix '" << s << "'";
        ASSERT_EQ(all && m.is_complete(), whole.count(s) == 1) << schema << " value '" << s << "'";
        complete += all && m.is_complete();
      }
      layer = std::move(next);
    }
    EXPECT_EQ(complete, whole.size()) << schema;
  }
}

TEST(JsonSchemaBounds, NumberBoundsAreIgnoredAsTheConverterDoes) {
  check(R"({"type":"number","minimum":0,"maximum":1})", {"0.5", "7.25", "-3"}, {"\"1\""});
  EXPECT_THROW(json_schema_grammar(R"({"type":"integer","minimum":"3"})"), Error);
  EXPECT_THROW(json_schema_grammar(R"({"type":"number","exclusiveMaximum":[]})"), Error);
}

TEST(JsonSchemaTuples, PrefixItemsThenItems) {
  // The whole tuple unless minItems says otherwise; items: false allows nothing after it.
  check(R"({"type":"array","prefixItems":[{"type":"integer"},{"type":"string"}],"items":false})",
        {R"([1,"a"])", R"([ 2 , "" ])"}, {"[]", "[1]", R"([1,"a",3])", R"(["a",1])", R"([1,2])"});
  check(R"({"prefixItems":[{"type":"integer"},{"type":"string"}],"items":{"type":"boolean"}})",
        {R"([1,"a"])", R"([1,"a",true,false])"}, {R"([1,"a",3])", "[1]"});
  check(R"({"type":"array","prefixItems":[{"type":"integer"},{"type":"string"}]})",
        {R"([1,"a"])", R"([1,"a",null,{}])"}, {"[1]", R"(["a"])"});
  check(R"({"type":"array","prefixItems":[{"type":"integer"},{"type":"string"}],"minItems":1,"items":false})",
        {"[1]", R"([1,"a"])"}, {"[]", R"([1,"a",2])"});
  check(R"({"type":"array","prefixItems":[{"const":1},{"const":2},{"const":3}],"maxItems":2})",
        {"[1,2]"}, {"[1,2,3]", "[1]"});
  // Draft 2019's tuple form: items as an array, additionalItems for the rest.
  check(R"({"type":"array","items":[{"type":"null"},{"type":"boolean"}],"additionalItems":false})",
        {"[null,true]"}, {"[null]", "[null,true,1]", "[true,null]"});
  check(R"({"type":"array","items":[{"type":"null"}],"additionalItems":{"type":"integer"}})",
        {"[null]", "[null,1,2]"}, {"[null,\"x\"]"});
  // More tuple positions required than allowed: nothing matches.
  check(R"({"type":"array","prefixItems":[{},{}],"minItems":3,"items":false})", {}, {"[1,2]", "[1,2,3]"});
  EXPECT_THROW(json_schema_grammar(R"({"type":"array","prefixItems":{}})"), Error);
}

TEST(JsonSchemaTuples, UniqueItemsIsIgnoredAsTheConverterDoes) {
  check(R"({"type":"array","items":{"type":"integer"},"uniqueItems":true})", {"[1,1]", "[1,2]"}, {});
}

}  // namespace
}  // namespace hearth::sample
