#include <gtest/gtest.h>

#include "server/net_policy.h"
#include "server/tag_output_parser.h"

namespace hearth::server {
namespace {

TEST(NetPolicy, HostForms) {
  auto a = parse_host("");
  EXPECT_EQ(a.display(), "127.0.0.1:11434");
  EXPECT_EQ(parse_host("0.0.0.0").display(), "0.0.0.0:11434");
  EXPECT_EQ(parse_host(":8080").display(), "0.0.0.0:8080");
  EXPECT_EQ(parse_host("example.com:1234").display(), "example.com:1234");
  EXPECT_EQ(parse_host("http://example.com").display(), "example.com:80");
  EXPECT_EQ(parse_host("https://example.com/path").display(), "example.com:443");
  EXPECT_EQ(parse_host("[::1]:9000").display(), "[::1]:9000");
  EXPECT_EQ(parse_host("\"127.0.0.1:99999\"").display(), "127.0.0.1:11434");  // bad port
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
}

TEST(NetPolicy, Origins) {
  auto o = allowed_origins("https://mine.example, chrome-extension://*");
  EXPECT_TRUE(origin_allowed(o, "http://localhost"));
  EXPECT_TRUE(origin_allowed(o, "https://127.0.0.1:8080"));
  EXPECT_TRUE(origin_allowed(o, "vscode-webview://abc"));
  EXPECT_TRUE(origin_allowed(o, "https://mine.example"));
  EXPECT_TRUE(origin_allowed(o, "chrome-extension://xyz"));
  EXPECT_FALSE(origin_allowed(o, "https://evil.example"));
  EXPECT_FALSE(origin_allowed(o, "http://localhost.evil.example"));
  EXPECT_TRUE(origin_allowed(allowed_origins("*"), "https://anything"));
}

TEST(NetPolicy, BearerKey) {
  EXPECT_TRUE(bearer_matches("Bearer k", "k"));
  EXPECT_FALSE(bearer_matches("Bearer kk", "k"));
  EXPECT_FALSE(bearer_matches("", "k"));
}

std::pair<std::string, std::string> feed(TagOutputParser& p, const std::vector<std::string>& pieces,
                                         int* calls = nullptr) {
  std::string thinking, content;
  auto take = [&](const engine::OutputDelta& d) {
    thinking += d.thinking;
    content += d.content;
    if (calls) *calls += static_cast<int>(d.tool_calls.size());
  };
  for (const auto& s : pieces) take(p.add(s));
  take(p.finish());
  return {thinking, content};
}

TEST(TagOutputParser, ThinkingSplitAcrossPieces) {
  TagParserOptions o;
  o.thinking = true;
  TagOutputParser p(o);
  auto [t, c] = feed(p, {" \n<th", "ink>a", "b</thi", "nk>\n\n", "hello"});
  EXPECT_EQ(t, "ab");
  EXPECT_EQ(c, "hello");
}

TEST(TagOutputParser, TagNotFirstMeansContent) {
  TagParserOptions o;
  o.thinking = true;
  TagOutputParser p(o);
  auto [t, c] = feed(p, {"hi <think>x</think>"});
  EXPECT_EQ(t, "");
  EXPECT_EQ(c, "hi <think>x</think>");
}

TEST(TagOutputParser, PrefilledThinkingAndToolCalls) {
  TagParserOptions o;
  o.thinking = true;
  o.start_in_thinking = true;
  o.tools = true;
  TagOutputParser p(o);
  int calls = 0;
  auto [t, c] = feed(p, {"plan</think>ok <tool_", "call>{\"name\":\"f\",\"arguments\":{}}</tool_call>", " <tool_call>not json</tool_call>"}, &calls);
  EXPECT_EQ(t, "plan");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(c, "ok  <tool_call>not json</tool_call>");
}

TEST(TagOutputParser, PartialTagSuffix) {
  EXPECT_EQ(partial_tag_suffix("abc</th", "</think>"), 4u);
  EXPECT_EQ(partial_tag_suffix("abc", "</think>"), 0u);
  EXPECT_EQ(partial_tag_suffix("<", "<think>"), 1u);
}

}  // namespace
}  // namespace hearth::server
