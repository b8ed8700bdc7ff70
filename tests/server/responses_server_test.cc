// /v1/responses over HTTP against the fake model.

#include <gtest/gtest.h>

#include "test_server.h"

namespace hearth::testing {
namespace {

using ResponsesServerTest = FakeModelServerTest;

TEST_F(ResponsesServerTest, NonStreamedTextAndFunctionCall) {
  ts->world->reply = "Hello there.";
  auto r = ts->post("/v1/responses", {{"model", "fake"}, {"input", "hi"}, {"instructions", "Be brief."}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["id"].get<std::string>().rfind("resp_", 0), 0u);
  EXPECT_EQ(j["instructions"], "Be brief.");
  ASSERT_EQ(j["output"].size(), 1u);
  EXPECT_EQ(j["output"][0]["type"], "message");
  EXPECT_EQ(j["output"][0]["content"][0]["text"], "Hello there.");
  EXPECT_GT(j["usage"]["input_tokens"].get<int>(), 0);

  ts->world->reply = "<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}</tool_call>";
  Json tools = Json::array({{{"type", "function"}, {"name", "get_weather"}, {"parameters", {{"type", "object"}}}}});
  r = ts->post("/v1/responses", {{"model", "fake"}, {"input", "weather?"}, {"tools", tools}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  j = Json::parse(r->body);
  ASSERT_EQ(j["output"].size(), 1u);
  EXPECT_EQ(j["output"][0]["type"], "function_call");
  EXPECT_EQ(j["output"][0]["name"], "get_weather");
  EXPECT_EQ(Json::parse(j["output"][0]["arguments"].get<std::string>()), (Json{{"city", "Paris"}}));
  EXPECT_EQ(j["tools"][0]["name"], "get_weather");
}

TEST_F(ResponsesServerTest, StreamedEvents) {
  ts->world->reply = "Hello there.";
  auto r = ts->post("/v1/responses", {{"model", "fake"}, {"input", "hi"}, {"stream", true}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  auto events = parse_sse(r->body);
  ASSERT_GE(events.size(), 8u);
  EXPECT_EQ(events[0].name, "response.created");
  EXPECT_EQ(events[1].name, "response.in_progress");
  EXPECT_EQ(events[2].name, "response.output_item.added");
  EXPECT_EQ(events[3].name, "response.content_part.added");
  std::string text;
  for (const auto& e : events) {
    if (e.name == "response.output_text.delta") text += e.data["delta"].get<std::string>();
  }
  EXPECT_EQ(text, "Hello there.");
  EXPECT_EQ(events.back().name, "response.completed");
  EXPECT_EQ(events.back().data["response"]["output"][0]["content"][0]["text"], "Hello there.");
}

TEST_F(ResponsesServerTest, ErrorsInOpenAIShape) {
  auto r = ts->post("/v1/responses", {{"model", "missing"}, {"input", "hi"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Json::parse(r->body)["error"]["type"], "not_found_error");
  r = ts->post("/v1/responses", {{"model", "fake"}, {"input", Json::array({{{"type", "bogus"}}})}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"]["message"], "input[0]: unknown input item type: \"bogus\"");
}

}  // namespace
}  // namespace hearth::testing
