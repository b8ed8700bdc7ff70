// The harmony output parser on realistic gpt-oss answers (what follows the prompt's
// "<|start|>assistant", in the shape openai/harmony docs/format.md shows and Ollama's
// harmony/harmonyparser_test.go feeds), cut into pieces at every pair of positions: the
// thinking, content and tool calls must not depend on where the pieces end.

#include <gtest/gtest.h>

#include <chrono>

#include "chat/harmony.h"
#include "util/error.h"

namespace hearth::chat {
namespace {

using Json = nlohmann::ordered_json;

struct Parsed {
  std::string thinking, content;
  std::vector<ToolCall> calls;
};

void take(Parsed& p, HarmonyParser::Output o) {
  p.thinking += o.thinking;
  p.content += o.content;
  for (auto& c : o.calls) p.calls.push_back(std::move(c));
}

Parsed parse_pieces(const std::vector<std::string>& pieces, HarmonyParser::Prefill prefill = HarmonyParser::Prefill::none,
                    const HarmonyFunctionNames& names = {}) {
  HarmonyParser parser(prefill, names);
  Parsed p;
  for (const auto& piece : pieces) take(p, parser.add(piece));
  take(p, parser.finish());
  return p;
}

// Parses `text` whole, byte by byte, and cut at every pair of positions; all must agree.
Parsed parse_every_split(const std::string& text, HarmonyParser::Prefill prefill = HarmonyParser::Prefill::none,
                         const HarmonyFunctionNames& names = {}) {
  Parsed whole = parse_pieces({text}, prefill, names);
  auto same = [&](const Parsed& p, const std::string& how) {
    EXPECT_EQ(p.thinking, whole.thinking) << how;
    EXPECT_EQ(p.content, whole.content) << how;
    ASSERT_EQ(p.calls.size(), whole.calls.size()) << how;
    for (size_t i = 0; i < p.calls.size(); ++i) {
      EXPECT_EQ(p.calls[i].name, whole.calls[i].name) << how;
      EXPECT_EQ(p.calls[i].arguments, whole.calls[i].arguments) << how;
    }
  };
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  same(parse_pieces(bytes, prefill, names), "byte by byte");
  for (size_t i = 0; i <= text.size(); ++i) {
    for (size_t j = i; j <= text.size(); ++j) {
      same(parse_pieces({text.substr(0, i), text.substr(i, j - i), text.substr(j)}, prefill, names),
           "cut at " + std::to_string(i) + " and " + std::to_string(j));
      if (::testing::Test::HasFailure()) return whole;
    }
  }
  return whole;
}

TEST(HarmonyParser, ThinkingThenAnswer) {
  Parsed p = parse_every_split(
      "<|channel|>analysis<|message|>User asks 2+2. Simple: 4.<|end|>"
      "<|start|>assistant<|channel|>final<|message|>2 + 2 = **4**. Ça va ✓");
  EXPECT_EQ(p.thinking, "User asks 2+2. Simple: 4.");
  EXPECT_EQ(p.content, "2 + 2 = **4**. Ça va ✓");
  EXPECT_TRUE(p.calls.empty());
}

TEST(HarmonyParser, AToolCallInTheCommentaryChannel) {
  // The runner stops at <|call|> (end of generation); the arguments are read at the end.
  Parsed p = parse_every_split(
      "<|channel|>analysis<|message|>Need the weather in Paris.<|end|>"
      "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
      "{\"location\":\"Paris, FR\",\"days\":2}");
  EXPECT_EQ(p.thinking, "Need the weather in Paris.");
  EXPECT_EQ(p.content, "");
  ASSERT_EQ(p.calls.size(), 1u);
  EXPECT_EQ(p.calls[0].name, "get_weather");
  EXPECT_EQ(p.calls[0].arguments, (Json{{"location", "Paris, FR"}, {"days", 2}}));
  EXPECT_EQ(p.calls[0].arguments.begin().key(), "location");  // the model's key order is kept
}

// Ollama's routes_harmony_streaming_test "tool call parsed and returned correctly": a call message
// closed by <|end|> and an answer after it give both, the call at the end.
TEST(HarmonyParser, ACallClosedByEndThenAnAnswer) {
  Parsed p = parse_every_split(
      "<|channel|>commentary to=functions.get_weather<|message|>{\"location\":\"San Francisco\"}<|end|>"
      "<|start|>assistant<|message|>The weather is sunny<|end|>");
  EXPECT_EQ(p.content, "The weather is sunny");
  ASSERT_EQ(p.calls.size(), 1u);
  EXPECT_EQ(p.calls[0].name, "get_weather");
  EXPECT_EQ(p.calls[0].arguments, (Json{{"location", "San Francisco"}}));
}

TEST(HarmonyParser, CallAndReturnMarkersEndTheResponse) {
  Parsed call = parse_every_split(
      "<|channel|>commentary to=functions.lookup<|constrain|>json<|message|>{\"q\":1}<|call|>"
      "<|start|>assistant<|channel|>final<|message|>not reached");
  ASSERT_EQ(call.calls.size(), 1u);
  EXPECT_EQ(call.calls[0].name, "lookup");  // <|constrain|> right after the recipient
  EXPECT_EQ(call.content, "");
  Parsed ret = parse_every_split("<|channel|>final<|message|>Done.<|return|><|start|>user<|message|>x");
  EXPECT_EQ(ret.content, "Done.");
}

TEST(HarmonyParser, TheRecipientMayComeBeforeTheChannel) {
  Parsed p = parse_every_split(" to=functions.search<|channel|>commentary json<|message|>{\"query\":\"gpt-oss\"}");
  ASSERT_EQ(p.calls.size(), 1u);
  EXPECT_EQ(p.calls[0].name, "search");
  // A built-in tool (no functions. prefix) in the analysis channel is a call too.
  Parsed b = parse_every_split("<|channel|>analysis to=browser.search <|constrain|>json<|message|>{\"query\":\"x\"}");
  ASSERT_EQ(b.calls.size(), 1u);
  EXPECT_EQ(b.calls[0].name, "browser.search");
  EXPECT_EQ(b.thinking, "");
}

TEST(HarmonyParser, CommentaryPreambleUnknownAndMissingChannelsAreContent) {
  Parsed p = parse_every_split(
      "<|channel|>commentary<|message|>Let me check.<|end|>"
      "<|start|>assistant<|channel|>mystery<|message|> odd <|end|>"
      "<|start|>assistant<|message|>plain<|end|>"
      "<|start|>assistant<|channel|>final<|message|>!");
  EXPECT_EQ(p.content, "Let me check. odd plain!");
  EXPECT_EQ(p.thinking, "");
}

TEST(HarmonyParser, TextBetweenMessagesIsDropped) {
  Parsed p = parse_every_split(
      "<|channel|>analysis<|message|>t<|end|>stray text\n<|start|>assistant<|channel|>final<|message|>c<|end|>tail");
  EXPECT_EQ(p.thinking, "t");
  EXPECT_EQ(p.content, "c");
}

// A model that rambles outside a message (or in an endless header) is read in linear time: what
// is kept back is at most a marker's length, so 300k one-byte pieces take milliseconds (a parser
// that rescanned its whole buffer per piece would take tens of seconds).
TEST(HarmonyParser, LongStrayTextIsReadInLinearTime) {
  const auto t0 = std::chrono::steady_clock::now();
  HarmonyParser parser;
  Parsed p;
  take(p, parser.add("<|channel|>final<|message|>a<|end|>"));
  for (int i = 0; i < 300000; ++i) take(p, parser.add(i % 7 ? "x" : "<"));
  take(p, parser.add("<|start|>assistant"));
  for (int i = 0; i < 300000; ++i) take(p, parser.add(i % 5 ? "y" : "|"));
  take(p, parser.add("<|channel|>final<|message|>b"));
  take(p, parser.finish());
  EXPECT_EQ(p.content, "ab");
  // Measured: 17 ms linear, 35 s with a whole-buffer rescan per piece; 5 s leaves room for a
  // loaded machine and still fails the quadratic parser.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(HarmonyParser, APartialMarkerAtTheEndIsText) {
  Parsed p = parse_every_split("<|channel|>final<|message|>a <|en");
  EXPECT_EQ(p.content, "a <|en");
  Parsed q = parse_every_split("<|channel|>final<|message|>x<|re");
  EXPECT_EQ(q.content, "x<|re");
}

TEST(HarmonyParser, ContinuingAPrefilledAssistantMessage) {
  Parsed c = parse_every_split(" and more.<|end|>", HarmonyParser::Prefill::content);
  EXPECT_EQ(c.content, " and more.");
  Parsed t = parse_every_split(" still thinking<|end|><|start|>assistant<|channel|>final<|message|>answer",
                               HarmonyParser::Prefill::thinking);
  EXPECT_EQ(t.thinking, " still thinking");
  EXPECT_EQ(t.content, "answer");
}

TEST(HarmonyParser, CallsComeBackWithTheClientsToolNames) {
  std::vector<ToolDefinition> tools = {
      Json{{"type", "function"}, {"function", {{"name", "get-weather.v2"}, {"parameters", Json::object()}}}}};
  Parsed p = parse_every_split("<|channel|>commentary to=functions.get_weather_v2 <|constrain|>json<|message|>{}",
                               HarmonyParser::Prefill::none, HarmonyFunctionNames(tools));
  ASSERT_EQ(p.calls.size(), 1u);
  EXPECT_EQ(p.calls[0].name, "get-weather.v2");
  EXPECT_EQ(p.calls[0].arguments, Json::object());
}

TEST(HarmonyParser, MalformedArgumentsAreAClearError) {
  for (const char* args : {"{\"location\": \"Par", "", "[1,2]", "\"text\"", "{} {}"}) {
    HarmonyParser parser;
    auto out = parser.add(std::string("<|channel|>commentary to=functions.f <|constrain|>json<|message|>") + args);
    EXPECT_TRUE(out.calls.empty());
    try {
      parser.finish();
      FAIL() << "no error for " << args;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::internal);  // Ollama: 500
      EXPECT_EQ(std::string(e.what()).rfind(std::string("error parsing tool call: raw='") + args + "'", 0), 0u)
          << e.what();
    }
  }
}

TEST(HarmonyParser, PlainTextWithoutHeadersIsNotShown) {
  // As Ollama: the response is expected to open with a header; text that never reaches
  // <|message|> is header text, not content.
  Parsed p = parse_every_split("Hello there");
  EXPECT_EQ(p.content, "");
  EXPECT_EQ(p.thinking, "");
}

}  // namespace
}  // namespace hearth::chat
