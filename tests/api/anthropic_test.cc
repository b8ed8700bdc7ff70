#include <gtest/gtest.h>

#include "api/anthropic.h"
#include "api/wire.h"
#include "util/error.h"

namespace hearth::api {
namespace {

std::string error_of(const Json& body) {
  try {
    parse_anthropic_messages(body);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(AnthropicRequest, RequiredFieldsHaveOllamasTexts) {
  Json msgs = Json::array({{{"role", "user"}, {"content", "hi"}}});
  EXPECT_EQ(error_of({{"max_tokens", 10}, {"messages", msgs}}), "model is required");
  EXPECT_EQ(error_of({{"model", "m"}, {"messages", msgs}}), "max_tokens is required and must be positive");
  EXPECT_EQ(error_of({{"model", "m"}, {"max_tokens", 0}, {"messages", msgs}}),
            "max_tokens is required and must be positive");
  EXPECT_EQ(error_of({{"model", "m"}, {"max_tokens", 5}, {"messages", Json::array()}}), "messages is required");
  Json use = Json::array({{{"role", "assistant"}, {"content", Json::array({{{"type", "tool_use"}, {"name", "f"}}})}}});
  EXPECT_EQ(error_of({{"model", "m"}, {"max_tokens", 5}, {"messages", use}}), "tool_use block missing required 'id' field");
  Json url_image = Json::array({{{"role", "user"},
                                 {"content", Json::array({{{"type", "image"}, {"source", {{"type", "url"}, {"url", "http://x/y.png"}}}}})}}});
  EXPECT_EQ(error_of({{"model", "m"}, {"max_tokens", 5}, {"messages", url_image}}),
            "invalid image source type: url. Only base64 images are supported.");
  EXPECT_NE(error_of({{"model", "m"}, {"max_tokens", "5"}, {"messages", msgs}}), "");
}

TEST(AnthropicRequest, ConversationToolsThinkingAndOptions) {
  Json body = {
      {"model", "m"},
      {"max_tokens", 64},
      {"system", Json::array({{{"type", "text"}, {"text", "Be brief. "}}, {{"type", "text"}, {"text", "Be kind."}}})},
      {"messages",
       Json::array({
           {{"role", "user"}, {"content", "weather in Paris?"}},
           {{"role", "assistant"},
            {"content", Json::array({{{"type", "thinking"}, {"thinking", "use the tool"}, {"signature", "x"}},
                                     {{"type", "text"}, {"text", "Checking."}},
                                     {{"type", "tool_use"}, {"id", "toolu_1"}, {"name", "get_weather"}, {"input", {{"city", "Paris"}}}}})}},
           {{"role", "user"},
            {"content", Json::array({{{"type", "tool_result"}, {"tool_use_id", "toolu_1"},
                                      {"content", Json::array({{{"type", "text"}, {"text", "sunny"}}})}},
                                     {{"type", "text"}, {"text", "thanks"}}})}},
       })},
      {"tools", Json::array({{{"name", "get_weather"}, {"description", "Weather"},
                              {"input_schema", {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}}}}})},
      {"thinking", {{"type", "enabled"}, {"budget_tokens", 1024}}},
      {"temperature", 0.5},
      {"top_k", 7},
      {"stop_sequences", Json::array({"END"})},
      {"stream", true},
  };
  ChatRequest r = parse_anthropic_messages(body);
  ASSERT_EQ(r.messages.size(), 5u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[0].content, "Be brief. Be kind.");
  EXPECT_EQ(r.messages[2].role, "assistant");
  EXPECT_EQ(r.messages[2].thinking, "use the tool");
  EXPECT_EQ(r.messages[2].content, "Checking.");
  ASSERT_EQ(r.messages[2].tool_calls.size(), 1u);
  EXPECT_EQ(r.messages[2].tool_calls[0].id, "toolu_1");
  EXPECT_EQ(r.messages[2].tool_calls[0].arguments["city"], "Paris");
  // The tool result comes before the user's own text, named after the call it answers.
  EXPECT_EQ(r.messages[3].role, "tool");
  EXPECT_EQ(r.messages[3].content, "sunny");
  EXPECT_EQ(r.messages[3].tool_call_id, "toolu_1");
  EXPECT_EQ(r.messages[3].tool_name, "get_weather");
  EXPECT_EQ(r.messages[4].role, "user");
  EXPECT_EQ(r.messages[4].content, "thanks");
  ASSERT_TRUE(r.tools.is_array());
  EXPECT_EQ(r.tools[0]["type"], "function");
  EXPECT_EQ(r.tools[0]["function"]["name"], "get_weather");
  EXPECT_EQ(r.tools[0]["function"]["parameters"]["properties"]["city"]["type"], "string");
  EXPECT_EQ(r.think, "true");
  EXPECT_EQ(r.options.num_predict, 64);
  EXPECT_FLOAT_EQ(*r.options.temperature, 0.5f);
  EXPECT_EQ(r.options.top_k, 7);
  EXPECT_EQ(*r.options.stop, std::vector<std::string>{"END"});
  EXPECT_TRUE(r.stream);

  Json plain = {{"model", "m"}, {"max_tokens", 8}, {"messages", Json::array({{{"role", "user"}, {"content", "hi"}}})},
                {"output_config", {{"effort", "XHigh"}}}};
  r = parse_anthropic_messages(plain);
  EXPECT_EQ(r.think, "high");
  EXPECT_FALSE(r.stream);
  plain["thinking"] = {{"type", "disabled"}};
  EXPECT_EQ(parse_anthropic_messages(plain).think, "false");
}

TEST(AnthropicResponse, MessageAndStopReasons) {
  AnthropicAnswer a;
  a.thinking = "hmm";
  a.content = "Hi";
  a.done_reason = "stop";
  a.input_tokens = 3;
  a.output_tokens = 4;
  Json m = anthropic_message("msg_1", "m", a);
  EXPECT_EQ(m["type"], "message");
  EXPECT_EQ(m["role"], "assistant");
  ASSERT_EQ(m["content"].size(), 2u);
  EXPECT_EQ(m["content"][0], (Json{{"type", "thinking"}, {"thinking", "hmm"}}));
  EXPECT_EQ(m["content"][1], (Json{{"type", "text"}, {"text", "Hi"}}));
  EXPECT_EQ(m["stop_reason"], "end_turn");
  EXPECT_EQ(m["usage"], (Json{{"input_tokens", 3}, {"output_tokens", 4}}));
  EXPECT_EQ(anthropic_stop_reason("length", false), "max_tokens");
  EXPECT_EQ(anthropic_stop_reason("stop", true), "tool_use");
  EXPECT_EQ(anthropic_error(404, "model 'x' not found")["error"]["type"], "not_found_error");
  EXPECT_EQ(anthropic_error(503, "busy")["error"]["type"], "overloaded_error");
  EXPECT_EQ(anthropic_error(500, "boom")["type"], "error");
}

TEST(AnthropicStream, EventOrderAcrossThinkingTextAndToolUse) {
  AnthropicStream s("msg_1", "m");
  std::vector<AnthropicStream::Event> all = s.start(5);
  auto add = [&](const std::vector<AnthropicStream::Event>& e) { all.insert(all.end(), e.begin(), e.end()); };
  add(s.add("a", "", {}));
  add(s.add("b", "", {}));
  add(s.add("", "Hel", {}));
  add(s.add("", "lo", {}));
  ToolCall call;
  call.id = "call_1";
  call.name = "f";
  call.arguments = {{"x", 1}};
  add(s.add("", "", {call}));
  add(s.finish("stop", 5, 9));
  std::vector<std::string> names;
  for (const auto& [name, data] : all) {
    names.push_back(name);
    EXPECT_EQ(data["type"], name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "message_start", "content_block_start", "content_block_delta", "content_block_delta",
                       "content_block_stop", "content_block_start", "content_block_delta", "content_block_delta",
                       "content_block_stop", "content_block_start", "content_block_delta", "content_block_stop",
                       "message_delta", "message_stop"}));
  EXPECT_EQ(all[0].second["message"]["usage"]["input_tokens"], 5);
  EXPECT_EQ(all[1].second["content_block"], (Json{{"type", "thinking"}, {"thinking", ""}}));
  EXPECT_EQ(all[2].second["delta"], (Json{{"type", "thinking_delta"}, {"thinking", "a"}}));
  EXPECT_EQ(all[5].second["index"], 1);
  EXPECT_EQ(all[5].second["content_block"], (Json{{"type", "text"}, {"text", ""}}));
  EXPECT_EQ(all[9].second["index"], 2);
  EXPECT_EQ(all[9].second["content_block"]["type"], "tool_use");
  EXPECT_EQ(all[9].second["content_block"]["input"], Json::object());
  EXPECT_EQ(all[10].second["delta"], (Json{{"type", "input_json_delta"}, {"partial_json", "{\"x\":1}"}}));
  EXPECT_EQ(all[12].second["delta"]["stop_reason"], "tool_use");
  EXPECT_EQ(all[12].second["usage"], (Json{{"input_tokens", 5}, {"output_tokens", 9}}));
  EXPECT_EQ(sse_event("ping", Json{{"type", "ping"}}), "event: ping\ndata: {\"type\":\"ping\"}\n\n");
}

}  // namespace
}  // namespace hearth::api
