// /v1/messages over HTTP against the fake model.

#include <gtest/gtest.h>

#include "test_server.h"

namespace hearth::testing {
namespace {

class AnthropicServerTest : public FakeModelServerTest {
 protected:
  Json request(bool stream) {
    return {{"model", "fake"},
            {"max_tokens", 100},
            {"stream", stream},
            {"system", "Be brief."},
            {"messages", Json::array({{{"role", "user"}, {"content", "weather?"}}})},
            {"tools", Json::array({{{"name", "get_weather"}, {"input_schema", {{"type", "object"}}}}})}};
  }
};

TEST_F(AnthropicServerTest, MessageWithThinkingTextAndToolUse) {
  ts->world->thinking = true;
  ts->world->reply = "<think>let me see</think>Sunny. <tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}</tool_call>";
  auto r = ts->post("/v1/messages", request(false));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("application/json", 0), 0u);
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["id"].get<std::string>().rfind("msg_", 0), 0u);
  EXPECT_EQ(j["type"], "message");
  EXPECT_EQ(j["model"], "fake");
  ASSERT_EQ(j["content"].size(), 3u) << j.dump();
  EXPECT_EQ(j["content"][0], (Json{{"type", "thinking"}, {"thinking", "let me see"}}));
  EXPECT_EQ(j["content"][1], (Json{{"type", "text"}, {"text", "Sunny. "}}));
  EXPECT_EQ(j["content"][2]["type"], "tool_use");
  EXPECT_EQ(j["content"][2]["name"], "get_weather");
  EXPECT_EQ(j["content"][2]["input"], (Json{{"city", "Paris"}}));
  EXPECT_EQ(j["stop_reason"], "tool_use");
  EXPECT_GT(j["usage"]["input_tokens"].get<int>(), 0);
  EXPECT_GT(j["usage"]["output_tokens"].get<int>(), 0);
}

TEST_F(AnthropicServerTest, StreamEventsInOrder) {
  ts->world->reply = "Hello there, friend.";
  auto r = ts->post("/v1/messages", request(true));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  auto events = parse_sse(r->body);
  ASSERT_GE(events.size(), 6u) << r->body;
  EXPECT_EQ(events[0].name, "message_start");
  EXPECT_EQ(events[1].name, "content_block_start");
  EXPECT_EQ(events[1].data["content_block"]["type"], "text");
  std::string text;
  for (size_t i = 2; i + 3 < events.size(); ++i) {
    EXPECT_EQ(events[i].name, "content_block_delta");
    text += events[i].data["delta"]["text"].get<std::string>();
  }
  EXPECT_EQ(text, "Hello there, friend.");
  EXPECT_EQ(events[events.size() - 3].name, "content_block_stop");
  EXPECT_EQ(events[events.size() - 2].name, "message_delta");
  EXPECT_EQ(events[events.size() - 2].data["delta"]["stop_reason"], "end_turn");
  EXPECT_EQ(events.back().name, "message_stop");

  // max_tokens reached: max_tokens.
  Json body = request(true);
  body["max_tokens"] = 2;
  r = ts->post("/v1/messages", body);
  ASSERT_TRUE(r);
  events = parse_sse(r->body);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[events.size() - 2].data["delta"]["stop_reason"], "max_tokens");
  EXPECT_EQ(events[events.size() - 2].data["usage"]["output_tokens"], 2);
}

TEST_F(AnthropicServerTest, ErrorsInAnthropicShape) {
  Json body = request(false);
  body.erase("max_tokens");
  auto r = ts->post("/v1/messages", body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["type"], "error");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["message"], "max_tokens is required and must be positive");
  EXPECT_EQ(j["request_id"].get<std::string>().rfind("req_", 0), 0u);

  body = request(false);
  body["model"] = "missing";
  r = ts->post("/v1/messages", body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Json::parse(r->body)["error"]["type"], "not_found_error");

  r = ts->client().Post("/v1/messages", "{not json", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["type"], "error");
}

TEST_F(AnthropicServerTest, ThinkingOnAModelWithoutItIsRelaxed) {
  ts->world->thinking = false;
  Json body = request(false);
  body["thinking"] = {{"type", "enabled"}, {"budget_tokens", 1000}};
  auto r = ts->post("/v1/messages", body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  // /api/chat keeps its 400.
  r = ts->post("/api/chat", {{"model", "fake"}, {"think", true}, {"messages", Json::array({{{"role", "user"}, {"content", "x"}}})}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
}

TEST_F(AnthropicServerTest, ApiKeyFromXApiKeyHeader) {
  server::ServerConfig config = TestServer::default_config();
  config.api_key = "s3cret";
  ts = std::make_unique<TestServer>(engine::SchedulerOptions{}, config);
  add_fake_model(*ts->store, "fake", "FAKE-GGUF-A");
  const std::string body = request(false).dump();
  auto r = ts->client().Post("/v1/messages", {{"x-api-key", "wrong"}}, body, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(Json::parse(r->body)["error"]["type"], "authentication_error");  // the SDK's AuthenticationError
  r = ts->client().Post("/v1/messages", {{"x-api-key", "s3cret"}, {"anthropic-version", "2023-06-01"}}, body,
                        "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
}

}  // namespace
}  // namespace hearth::testing
