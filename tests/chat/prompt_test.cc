// chat::Message values through jinja_chat_context into real templates: the shapes each
// template needs (object vs string arguments, null content on tool-call turns, enable_thinking).
#include "chat/prompt.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace hearth::chat {
namespace {

using Json = nlohmann::ordered_json;

std::string read_template(const std::string& name) {
  std::ifstream f(std::string(HEARTH_TESTDATA_DIR) + "/templates/" + name + ".jinja");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string render(const std::string& name, const PromptInputs& in) {
  std::string src = read_template(name);
  return render_jinja_chat(JinjaTemplate::parse(src), src, in);
}

Message msg(std::string role, std::string content) {
  Message m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}

Message tool_call_turn() {
  Message a = msg("assistant", "");
  ToolCall c;
  c.id = "call_1";
  c.name = "get_weather";
  c.arguments = Json::parse(R"({"location":"Paris"})");
  a.tool_calls.push_back(c);
  return a;
}

Message tool_result() {
  Message t = msg("tool", "22C");
  t.tool_name = "get_weather";
  t.tool_call_id = "call_1";
  return t;
}

TEST(RenderJinjaChat, Qwen3ThinkOffPrefillsAnEmptyThinkBlock) {
  PromptInputs in;
  in.messages = {msg("user", "hi")};
  in.think = resolve_think(false, true, "qwen3");
  EXPECT_EQ(render("Qwen-Qwen3", in), "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
  in.think = resolve_think(nullptr, true, "qwen3");
  EXPECT_EQ(render("Qwen-Qwen3", in), "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(RenderJinjaChat, Qwen3ToolRoundTripWithObjectArguments) {
  PromptInputs in;
  in.messages = {msg("user", "Weather?"), tool_call_turn(), tool_result()};
  std::string out = render("Qwen-Qwen3", in);
  EXPECT_NE(out.find("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris\"}}\n</tool_call>"),
            std::string::npos) << out;
  EXPECT_NE(out.find("<tool_response>\n22C\n</tool_response>"), std::string::npos) << out;
}

TEST(RenderJinjaChat, DeepSeekR1GetsStringArgumentsAndNullContent) {
  PromptInputs in;
  in.bos_token = "<｜begin▁of▁sentence｜>";
  in.messages = {msg("user", "Weather?"), tool_call_turn(), tool_result()};
  std::string out = render("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B", in);
  EXPECT_EQ(out,
            "<｜begin▁of▁sentence｜><｜User｜>Weather?<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function"
            "<｜tool▁sep｜>get_weather\n```json\n{\"location\":\"Paris\"}\n```<｜tool▁call▁end｜>"
            "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>22C<｜tool▁output▁end｜><｜tool▁outputs▁end｜>");
  in.messages = {msg("user", "2+2?")};
  out = render("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B", in);
  EXPECT_EQ(out, "<｜begin▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜><think>\n");
  EXPECT_TRUE(prompt_opens_thinking(out));
}

// DeepSeek-V3's own template (deepseek2 models; R1's adds the opening <think>): a tool round
// trip, the answer after the tool output, and a next user turn with the generation prompt. As
// the template is written, a single call's block is not closed with tool▁calls▁end.
TEST(RenderJinjaChat, DeepSeekV3ToolRoundTripAndAnswer) {
  PromptInputs in;
  in.bos_token = "<｜begin▁of▁sentence｜>";
  in.messages = {msg("system", "Be brief."), msg("user", "Weather?"), tool_call_turn(), tool_result(),
                 msg("assistant", "22C in Paris."), msg("user", "Thanks")};
  EXPECT_EQ(render("deepseek-ai-DeepSeek-V3", in),
            "<｜begin▁of▁sentence｜>Be brief.<｜User｜>Weather?<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>"
            "function<｜tool▁sep｜>get_weather\n```json\n{\"location\":\"Paris\"}\n```<｜tool▁call▁end｜>"
            "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>22C<｜tool▁output▁end｜><｜tool▁outputs▁end｜>22C in Paris."
            "<｜end▁of▁sentence｜><｜User｜>Thanks<｜Assistant｜>");
}

TEST(RenderJinjaChat, Llama31ToolsGoIntoTheFirstUserMessage) {
  PromptInputs in;
  in.tools = {Json::parse(R"({"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}})")};
  in.messages = {msg("user", "Weather?")};
  std::string out = render("meta-llama-Llama-3.1-8B-Instruct", in);
  EXPECT_NE(out.find("Given the following functions"), std::string::npos);
  EXPECT_NE(out.find("\"name\": \"get_weather\""), std::string::npos);
  // Two calls in one turn: the template's own raise_exception.
  Message two = tool_call_turn();
  two.tool_calls.push_back(two.tool_calls[0]);
  in.messages = {msg("user", "Weather?"), two};
  try {
    render("meta-llama-Llama-3.1-8B-Instruct", in);
    FAIL();
  } catch (const TemplateRaise& e) {
    EXPECT_STREQ(e.what(), "This model only supports single tool-calls at once!");
  }
}

}  // namespace
}  // namespace hearth::chat
