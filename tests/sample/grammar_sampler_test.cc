// Token masking over a fake vocabulary (single bytes, partial UTF-8, JSON fragments and random
// junk): the fast mask equals a token-by-token check in every state met, and sampling with
// random logits over many seeds always yields documents that parse and match the schema (checked
// by a small validator written here, independent of the matcher).

#include "sample/grammar_sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sample/json_schema.h"
#include "sample/rng.h"

namespace hearth::sample {
namespace {

using OJson = nlohmann::ordered_json;

constexpr int32_t kEos = 0;
constexpr int32_t kControl = 1;

std::vector<std::string> fake_pieces() {
  std::vector<std::string> p = {"", ""};  // EOS, a control token
  for (int c = 0x20; c < 0x7F; ++c) p.push_back(std::string(1, static_cast<char>(c)));
  for (const char* s : {"\n", "\t", "\xC3", "\xA9", "\xE2", "\x82", "\xAC", "\xC3\xA9", "\xE2\x82\xAC",
                        "\xF0\x9F\x98\x80", "\xF0\x9F", "\x98\x80", "{\"", "\":", "\",", "\"}", "\"]", "},", "],",
                        "{}", "[]", "true", "false", "null", " \"", "\n  ", "  ", "12", "0.5", "-3", "e+", "name",
                        "age", "tags", "\"name\"", "\"age\":", "\\u00", "\\u", "\\n", "\\\"", "ab", "abc",
                        "hello world", "\"a\":", "\"b\":", "\"extra\":", "\x01", "\xFF", "tr", "ue", "nu", "ll",
                        "\"red\"", "\"re", "d\"", "gre", "en", "\\ud83d", "\\ude00", "\\ud8"}) {
    p.push_back(s);
  }
  Rng rng(7);
  const std::string alphabet = "{}[]\":,\\ 0123456789abcdeflnrstu-+.\xC3\xA9";
  for (int i = 0; i < 400; ++i) {
    std::string t;
    const size_t len = 2 + rng.next_u64() % 5;
    for (size_t k = 0; k < len; ++k) t += alphabet[rng.next_u64() % alphabet.size()];
    p.push_back(t);
  }
  return p;
}

const GrammarVocab& fake_vocab() {
  static const GrammarVocab v(fake_pieces(), {kEos}, fake_pieces().size() + 3);  // 3 padding ids
  return v;
}

// ---- an independent validator for the schema subset the tests use ----

// UTF-8 -> code points in a wstring (32-bit on Linux), for std::wregex.
std::wstring wide(const std::string& s) {
  std::wstring out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    const int more = b < 0x80 ? 0 : b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3;
    uint32_t cp = more == 0 ? b : b & (0x3Fu >> more);
    for (int k = 1; k <= more; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0x3Fu);
    out.push_back(static_cast<wchar_t>(cp));
    i += static_cast<size_t>(more) + 1;
  }
  return out;
}

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool valid(const OJson& v, const OJson& s, const OJson& root);

bool valid_type(const OJson& v, const std::string& t) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "integer") return v.is_number_integer() || v.is_number_unsigned();
  if (t == "number") return v.is_number();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  return false;
}

bool valid(const OJson& v, const OJson& s, const OJson& root) {
  if (s.is_boolean()) return s.get<bool>();
  if (s.contains("$ref")) {
    const std::string ref = s["$ref"];
    return valid(v, ref == "#" ? root : root.at(OJson::json_pointer(ref.substr(1))), root);
  }
  for (const char* k : {"anyOf", "oneOf"}) {
    if (!s.contains(k)) continue;
    for (const OJson& alt : s[k]) {
      if (valid(v, alt, root)) return true;
    }
    return false;
  }
  if (s.contains("const")) return v == s["const"];
  if (s.contains("enum")) {
    for (const OJson& e : s["enum"]) {
      if (v == e) return true;
    }
    return false;
  }
  if (s.contains("type")) {
    bool any = false;
    if (s["type"].is_string()) any = valid_type(v, s["type"]);
    for (const OJson& t : s["type"].is_array() ? s["type"] : OJson::array()) any = any || valid_type(v, t);
    if (!any) return false;
  }
  if (v.is_object()) {
    const OJson props = s.value("properties", OJson::object());
    for (const OJson& r : s.value("required", OJson::array())) {
      if (!v.contains(r.get<std::string>())) return false;
    }
    // Declared properties in schema order, additional ones after them.
    size_t cursor = 0;
    std::vector<std::string> order;
    for (auto it = props.begin(); it != props.end(); ++it) order.push_back(it.key());
    for (auto it = v.begin(); it != v.end(); ++it) {
      size_t pos = 0;
      while (pos < order.size() && order[pos] != it.key()) ++pos;
      if (pos < order.size()) {
        if (pos < cursor || !valid(it.value(), props[it.key()], root)) return false;
        cursor = pos + 1;
      } else {
        const OJson extra = s.contains("additionalProperties") ? s["additionalProperties"]
                                                               : OJson(props.empty());
        if (!valid(it.value(), extra, root)) return false;
        cursor = order.size();
      }
    }
  }
  if (v.is_array()) {
    if (v.size() < s.value("minItems", 0u) || v.size() > s.value("maxItems", 1u << 30)) return false;
    const OJson prefix = s.value("prefixItems", OJson::array());
    for (size_t i = 0; i < v.size(); ++i) {
      if (i < prefix.size()) {
        if (!valid(v[i], prefix[i], root)) return false;
      } else if (s.contains("items") && !valid(v[i], s["items"], root)) {
        return false;
      }
    }
  }
  if (v.is_string()) {
    const size_t n = code_points(v.get<std::string>());
    if (n < s.value("minLength", 0u) || n > s.value("maxLength", 1u << 30)) return false;
    if (s.contains("pattern") &&
        !std::regex_search(wide(v.get<std::string>()), std::wregex(wide(s["pattern"].get<std::string>())))) {
      return false;
    }
  }
  if (v.is_number_integer() || v.is_number_unsigned()) {
    const double x = v.get<double>();
    if (s.contains("minimum") && x < s["minimum"].get<double>()) return false;
    if (s.contains("maximum") && x > s["maximum"].get<double>()) return false;
    if (s.contains("exclusiveMinimum") && x <= s["exclusiveMinimum"].get<double>()) return false;
    if (s.contains("exclusiveMaximum") && x >= s["exclusiveMaximum"].get<double>()) return false;
  }
  return true;
}

TEST(GrammarValidator, ChecksWhatTheTestsRelyOn) {
  const OJson s = OJson::parse(R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string","maxLength":2}},"required":["a"]})");
  EXPECT_TRUE(valid(OJson::parse(R"({"a":1,"b":"xy"})"), s, s));
  EXPECT_FALSE(valid(OJson::parse(R"({"b":"xy","a":1})"), s, s));
  EXPECT_FALSE(valid(OJson::parse(R"({"a":1,"b":"xyz"})"), s, s));
  EXPECT_FALSE(valid(OJson::parse(R"({"a":1.5})"), s, s));
  EXPECT_FALSE(valid(OJson::parse(R"({"a":1,"c":1})"), s, s));
  const OJson k = OJson::parse(R"({"type":"object","properties":{"n":{"type":"integer","minimum":3,"exclusiveMaximum":9},
      "p":{"type":"string","pattern":"^[a-c]+$"},"t":{"prefixItems":[{"type":"integer"}],"items":{"type":"string"}}}})");
  EXPECT_TRUE(valid(OJson::parse(R"({"n":3,"p":"abc","t":[1,"x"]})"), k, k));
  EXPECT_FALSE(valid(OJson::parse(R"({"n":2})"), k, k));
  EXPECT_FALSE(valid(OJson::parse(R"({"n":9})"), k, k));
  EXPECT_FALSE(valid(OJson::parse(R"({"p":"abd"})"), k, k));
  EXPECT_FALSE(valid(OJson::parse(R"({"t":["x"]})"), k, k));
  EXPECT_FALSE(valid(OJson::parse(R"({"t":[1,2]})"), k, k));
}

// ---- masks ----

// Runs `text` through a matcher, comparing the fast mask with the token-by-token check at every
// byte boundary.
void compare_masks_along(const std::shared_ptr<const Grammar>& g, const std::string& text) {
  const GrammarVocab& v = fake_vocab();
  GrammarMatcher m(g);
  GrammarScratch scratch;
  std::vector<uint8_t> allowed;
  for (size_t i = 0; i <= text.size(); ++i) {
    const size_t n = v.mask(m, allowed, scratch);
    size_t count = 0;
    for (size_t id = 0; id < v.n_vocab(); ++id) {
      const bool slow = v.allows(m, static_cast<int32_t>(id));
      ASSERT_EQ(allowed[id] != 0, slow) << "after '" << text.substr(0, i) << "' token " << id << " '"
                                        << v.piece(static_cast<int32_t>(id)) << "'";
      count += slow;
    }
    EXPECT_EQ(n, count);
    if (i < text.size()) {
      ASSERT_TRUE(m.accept(static_cast<uint8_t>(text[i]))) << text.substr(0, i + 1);
    }
  }
}

TEST(GrammarMask, EqualsTheTokenByTokenCheck) {
  compare_masks_along(json_grammar(), "{\"a\": [1, -2.5e3, \"x\xC3\xA9\\u00e9\\ud83d\\ude00\", true, {}], \"b\" :null}");
  compare_masks_along(json_schema_grammar(R"({"type":"object","properties":{
      "name":{"type":"string","maxLength":3},"tags":{"type":"array","items":{"enum":["red","green"]},"maxItems":2}},
      "additionalProperties":{"type":"integer"}})"),
                      "{\"name\":\"ab\",\"tags\":[\"red\"],\"extra\":12}");
}

TEST(GrammarMask, EqualsTheTokenByTokenCheckWithPatternsAndBounds) {
  compare_masks_along(json_schema_grammar(R"({"type":"object","properties":{
      "id":{"type":"string","pattern":"^[a-c]{2}-\\d+$","maxLength":6},"n":{"type":"integer","minimum":-3,"maximum":250},
      "t":{"prefixItems":[{"type":"boolean"},{"type":"string","pattern":"e"}],"items":false}}})"),
                      "{\"id\":\"ab-12\",\"n\":-3,\"t\":[true,\"\\u00e9e\"]}");
}

TEST(GrammarMask, EndOfGenerationOnlyWhenComplete) {
  const GrammarVocab& v = fake_vocab();
  GrammarMatcher m(json_grammar());
  EXPECT_FALSE(v.allows(m, kEos));
  EXPECT_FALSE(v.allows(m, kControl));
  EXPECT_FALSE(v.allows(m, static_cast<int32_t>(v.n_vocab() - 1)));  // padding id
  ASSERT_TRUE(m.accept(std::string_view("[1]")));
  EXPECT_TRUE(v.allows(m, kEos));
  EXPECT_FALSE(v.allows(m, kControl));

  // EOS carrying all the probability is still refused while the document is open.
  Sampler sampler(SamplerOptions{});
  std::vector<float> logits(v.n_vocab(), 0.0f);
  logits[kEos] = 100.0f;
  GrammarScratch scratch;
  GrammarMatcher open(json_grammar());
  ASSERT_TRUE(open.accept(std::string_view("{\"a\":")));
  for (int i = 0; i < 20; ++i) {
    const int32_t t = sample_with_grammar(sampler, open, v, logits, scratch);
    ASSERT_GE(t, 0);
    EXPECT_NE(t, kEos);
    EXPECT_TRUE(open.accepts(v.piece(t)));
  }
  EXPECT_EQ(sample_with_grammar(sampler, m, v, logits, scratch), kEos);
}

TEST(GrammarMask, NoAllowedTokenGivesMinusOne) {
  GrammarVocab letters({"", "a", "bc"}, {0}, 3);
  Sampler sampler(SamplerOptions{});
  GrammarMatcher m(json_grammar());
  GrammarScratch scratch;
  std::vector<float> logits = {0.0f, 1.0f, 2.0f};
  EXPECT_EQ(sample_with_grammar(sampler, m, letters, logits, scratch), -1);
}

// ---- sampling ----

struct RunResult {
  std::string text;
  bool finished = false;  // EOS or a closed document
};

RunResult sample_document(const std::shared_ptr<const Grammar>& g, uint64_t seed, int max_tokens) {
  const GrammarVocab& v = fake_vocab();
  SamplerOptions o;
  o.seed = static_cast<int64_t>(seed);
  o.top_k = seed % 2 ? 0 : 40;
  o.temperature = 1.0f;
  o.top_p = 1.0f;
  Sampler sampler(o);
  Rng noise(seed * 7919 + 1);
  GrammarMatcher m(g);
  GrammarScratch scratch;
  std::vector<float> logits(v.n_vocab());
  RunResult r;
  for (int step = 0; step < max_tokens; ++step) {
    for (float& l : logits) l = static_cast<float>(noise.next_double() * 6.0 - 3.0);
    const int32_t t = sample_with_grammar(sampler, m, v, logits, scratch);
    EXPECT_GE(t, 0) << "grammar dead end after '" << r.text << "'";
    if (t < 0) break;
    if (v.is_end_of_generation(t)) {
      r.finished = true;
      break;
    }
    EXPECT_TRUE(m.accept(v.piece(t))) << r.text << " + " << v.piece(t);
    r.text += v.piece(t);
    if (m.is_closed()) {
      r.finished = true;
      break;
    }
  }
  return r;
}

// Samples a document per seed (1..seeds) under the schema; every finished one must parse and pass
// the independent validator. The fast mask is compared with the token-by-token check along the
// first `mask_checks` documents. Returns how many finished.
int sample_and_validate(const char* schema_text, uint64_t seeds, uint64_t mask_checks = 0) {
  auto g = json_schema_grammar(schema_text);
  const OJson schema = OJson::parse(schema_text);
  int finished = 0;
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    RunResult r = sample_document(g, seed, 3000);
    if (!r.finished) continue;
    ++finished;
    OJson doc = OJson::parse(r.text, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << "seed " << seed << ": " << r.text;
    if (doc.is_discarded()) continue;
    EXPECT_TRUE(valid(doc, schema, schema)) << "seed " << seed << ": " << r.text;
    if (seed <= mask_checks) compare_masks_along(g, r.text);
  }
  return finished;
}

TEST(GrammarSampling, SchemaOutputAlwaysParsesAndMatches) {
  const char* schema_text = R"({"type":"object","properties":{
      "name":{"type":"string","minLength":1,"maxLength":8},
      "age":{"type":"integer"},
      "ok":{"type":"boolean"},
      "tags":{"type":"array","items":{"enum":["red","green",3]},"minItems":1,"maxItems":3},
      "pos":{"type":"array","items":{"type":"number"},"maxItems":2},
      "kind":{"anyOf":[{"type":"null"},{"type":"string","maxLength":2},
                       {"type":"object","properties":{"x":{"type":"integer"}},"required":["x"]}]}},
      "required":["name","tags"],
      "additionalProperties":{"type":"string","maxLength":3}})";
  EXPECT_EQ(sample_and_validate(schema_text, 150), 150);  // every document finishes
}

// Patterns, integer bounds and tuples: every finished document satisfies them.
TEST(GrammarSampling, PatternsBoundsAndTuplesHold) {
  const char* schema_text = R"({"type":"object","properties":{
      "phone":{"type":"string","pattern":"^[0-9]{3}-[0-9]{4}$"},
      "word":{"type":"string","pattern":"^[a-z]+(-[a-z]+)?$","maxLength":7},
      "has_e":{"type":"string","pattern":"e","maxLength":4},
      "age":{"type":"integer","minimum":18,"maximum":99},
      "neg":{"type":"integer","exclusiveMinimum":-20,"exclusiveMaximum":-3},
      "big":{"type":"integer","minimum":1000},
      "uni":{"type":"string","pattern":"^[\u00e9\u20aca-c]{2,3}$"},
      "pair":{"type":"array","prefixItems":[{"type":"integer","maximum":5},{"enum":["red","green"]}],"items":false}},
      "required":["phone","word","has_e","age","neg","big","uni","pair"]})";
  // The fast mask (the DFA walk inside patterned strings) equals the token-by-token check at
  // every byte of the first 4 documents.
  EXPECT_GT(sample_and_validate(schema_text, 120, 4), 100);
}

TEST(GrammarSampling, RecursiveSchemaOutputMatches) {
  const char* schema_text = R"({"$defs":{"node":{"type":"object","properties":{
      "v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},
      "required":["v"]}},"$ref":"#/$defs/node"})";
  EXPECT_GT(sample_and_validate(schema_text, 60), 30);
}

TEST(GrammarSampling, JsonFormatOutputParses) {
  int finished = 0;
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    RunResult r = sample_document(json_grammar(), seed, 2000);
    if (!r.finished) continue;
    ++finished;
    OJson doc = OJson::parse(r.text, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << "seed " << seed << ": " << r.text;
    EXPECT_TRUE(doc.is_object() || doc.is_array()) << r.text;
  }
  // Strings are unbounded in plain JSON mode, so a run may go on; most end.
  EXPECT_GT(finished, 50);
}

}  // namespace
}  // namespace hearth::sample
