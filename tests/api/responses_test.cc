#include <gtest/gtest.h>

#include "api/responses.h"
#include "util/error.h"

namespace hearth::api {
namespace {

std::string error_of(const Json& body) {
  try {
    parse_responses_request(body);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ResponsesRequest, InputItemsBecomeAConversation) {
  Json body = {
      {"model", "m"},
      {"instructions", "Be brief."},
      {"input",
       Json::array({
           {{"role", "user"}, {"content", "weather in Paris?"}},
           {{"type", "reasoning"}, {"encrypted_content", "use the tool"}},
           {{"type", "function_call"}, {"call_id", "call_1"}, {"name", "get_weather"}, {"arguments", "{\"city\":\"Paris\"}"}},
           {{"type", "function_call_output"}, {"call_id", "call_1"}, {"output", "sunny"}},
           {{"type", "message"}, {"role", "user"},
            {"content", Json::array({{{"type", "input_text"}, {"text", "and "}}, {{"type", "input_text"}, {"text", "Rome?"}}})}},
       })},
      {"tools", Json::array({{{"type", "function"}, {"name", "get_weather"}, {"description", "Weather"},
                              {"parameters", {{"type", "object"}}}, {"strict", true}}})},
      {"reasoning", {{"effort", "minimal"}}},
      {"max_output_tokens", 50},
      {"text", {{"format", {{"type", "json_schema"}, {"name", "w"}, {"schema", {{"type", "object"}}}}}}},
      {"stream", true},
  };
  ResponsesRequest r = parse_responses_request(body);
  const auto& m = r.chat.messages;
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0].role, "system");
  EXPECT_EQ(m[0].content, "Be brief.");
  EXPECT_EQ(m[1].content, "weather in Paris?");
  EXPECT_EQ(m[2].role, "assistant");
  EXPECT_EQ(m[2].thinking, "use the tool");
  ASSERT_EQ(m[2].tool_calls.size(), 1u);
  EXPECT_EQ(m[2].tool_calls[0].id, "call_1");
  EXPECT_EQ(m[2].tool_calls[0].arguments["city"], "Paris");
  EXPECT_EQ(m[3].role, "tool");
  EXPECT_EQ(m[3].content, "sunny");
  EXPECT_EQ(m[3].tool_name, "get_weather");
  EXPECT_EQ(m[4].content, "and Rome?");
  EXPECT_EQ(r.chat.tools[0]["function"]["name"], "get_weather");
  EXPECT_EQ(r.chat.think, "low");
  EXPECT_EQ(r.chat.options.num_predict, 50);
  EXPECT_FLOAT_EQ(*r.chat.options.temperature, 1.0f);  // OpenAI's default
  EXPECT_EQ(r.chat.format, (Json{{"type", "object"}}));
  EXPECT_TRUE(r.chat.stream);

  EXPECT_EQ(error_of({{"model", "m"}, {"input", Json::array({{{"type", "bogus"}}})}}),
            "input[0]: unknown input item type: \"bogus\"");
  EXPECT_EQ(error_of({{"model", "m"}, {"input", 5}}), "input must be a string or array");
  EXPECT_EQ(error_of({{"model", "m"}, {"input", "x"}, {"reasoning", {{"effort", "huge"}}}}).rfind("invalid reasoning value", 0), 0u);
  EXPECT_EQ(error_of({{"model", "m"}, {"input", Json::array({{{"role", "user"}, {"content", Json::array({{{"type", "input_file"}}})}}})}}),
            "file inputs are not currently supported");
}

TEST(ResponsesResponse, TextOrFunctionCalls) {
  ResponsesRequest r = parse_responses_request({{"model", "m"}, {"input", "hi"}});
  ResponsesAnswer a;
  a.thinking = "hmm";
  a.content = "Hello";
  a.input_tokens = 2;
  a.output_tokens = 3;
  Json j = responses_response(r, "resp_1", "msg_1", a);
  EXPECT_EQ(j["object"], "response");
  EXPECT_EQ(j["status"], "completed");
  EXPECT_EQ(j["model"], "m");
  ASSERT_EQ(j["output"].size(), 2u);
  EXPECT_EQ(j["output"][0]["type"], "reasoning");
  EXPECT_EQ(j["output"][0]["summary"][0]["text"], "hmm");
  EXPECT_EQ(j["output"][1]["id"], "msg_1");
  EXPECT_EQ(j["output"][1]["content"][0]["text"], "Hello");
  EXPECT_EQ(j["usage"]["total_tokens"], 5);
  EXPECT_TRUE(j["completed_at"].is_number());

  ToolCall call;
  call.id = "call_9";
  call.name = "f";
  call.arguments = {{"a", 1}};
  a.thinking.clear();
  a.tool_calls = {call};
  j = responses_response(r, "resp_1", "msg_1", a);
  ASSERT_EQ(j["output"].size(), 1u);  // the text goes when there are calls, as in Ollama
  EXPECT_EQ(j["output"][0]["type"], "function_call");
  EXPECT_EQ(j["output"][0]["call_id"], "call_9");
  EXPECT_EQ(j["output"][0]["arguments"], "{\"a\":1}");
}

TEST(ResponsesStream, EventSequence) {
  ResponsesRequest r = parse_responses_request({{"model", "m"}, {"input", "hi"}});
  ResponsesStream s(r, "resp_1", "msg_1");
  std::vector<ResponsesStream::Event> all = s.start();
  auto add = [&](const std::vector<ResponsesStream::Event>& e) { all.insert(all.end(), e.begin(), e.end()); };
  add(s.add("th", "", {}));
  add(s.add("", "Hel", {}));
  add(s.add("", "lo", {}));
  add(s.finish(4, 5));
  std::vector<std::string> names;
  for (size_t i = 0; i < all.size(); ++i) {
    names.push_back(all[i].first);
    EXPECT_EQ(all[i].second["type"], all[i].first);
    EXPECT_EQ(all[i].second["sequence_number"], static_cast<int>(i));
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "response.created", "response.in_progress", "response.output_item.added",
                       "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done",
                       "response.output_item.done", "response.output_item.added", "response.content_part.added",
                       "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
                       "response.content_part.done", "response.output_item.done", "response.completed"}));
  EXPECT_EQ(all[0].second["response"]["status"], "in_progress");
  EXPECT_EQ(all[6].second["output_index"], 1);
  EXPECT_EQ(all[10].second["text"], "Hello");
  const Json& done = all.back().second["response"];
  EXPECT_EQ(done["status"], "completed");
  ASSERT_EQ(done["output"].size(), 2u);
  EXPECT_EQ(done["output"][1]["content"][0]["text"], "Hello");
  EXPECT_EQ(done["usage"]["input_tokens"], 4);
}

}  // namespace
}  // namespace hearth::api
