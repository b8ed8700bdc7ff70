#include <gtest/gtest.h>

#include "api/openai.h"
#include "api/requests.h"
#include "api/wire.h"
#include "engine/scheduler.h"
#include "util/error.h"

namespace hearth::api {
namespace {

using std::chrono::nanoseconds;

TEST(KeepAlive, DurationsNumbersAndErrors) {
  EXPECT_EQ(*parse_keep_alive_field(Json("5m")), std::chrono::minutes(5));
  EXPECT_EQ(*parse_keep_alive_field(Json("1h30m")), std::chrono::minutes(90));
  EXPECT_EQ(*parse_keep_alive_field(Json("300ms")), std::chrono::milliseconds(300));
  EXPECT_EQ(*parse_keep_alive_field(Json("0")), nanoseconds(0));
  EXPECT_LT(parse_keep_alive_field(Json("-1m"))->count(), 0);
  EXPECT_EQ(*parse_keep_alive_field(Json(30)), std::chrono::seconds(30));
  EXPECT_EQ(*parse_keep_alive_field(Json(1.5)), std::chrono::milliseconds(1500));
  EXPECT_LT(parse_keep_alive_field(Json(-1))->count(), 0);
  EXPECT_FALSE(parse_keep_alive_field(Json(nullptr)));
  EXPECT_THROW(parse_keep_alive_field(Json("-1")), Error);  // a string needs a unit
  EXPECT_THROW(parse_keep_alive_field(Json("5 parsecs")), Error);
  EXPECT_THROW(parse_keep_alive_field(Json(true)), Error);
  // The environment form takes bare seconds.
  EXPECT_EQ(engine::parse_keep_alive("600", true), std::chrono::minutes(10));
  EXPECT_EQ(engine::parse_keep_alive(" 24h ", true), std::chrono::hours(24));
}

TEST(Wire, GoDurationText) {
  EXPECT_EQ(format_duration(std::chrono::minutes(5)), "5m0s");
  EXPECT_EQ(format_duration(std::chrono::hours(1)), "1h0m0s");
  EXPECT_EQ(format_duration(std::chrono::milliseconds(1500)), "1.5s");
  EXPECT_EQ(format_duration(std::chrono::milliseconds(300)), "300ms");
  EXPECT_EQ(format_duration(nanoseconds(0)), "0s");
}

TEST(Wire, Timestamps) {
  auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)) + nanoseconds(5);
  EXPECT_EQ(time_utc_nano(t), "2023-11-14T22:13:20.000000005Z");
  std::string local = time_local(t);
  EXPECT_EQ(local.size(), std::string("2023-11-14T22:13:20.000000005+00:00").size());
  EXPECT_EQ(random_call_id().size(), 13u);
}

TEST(Options, TypesDefaultsAndUnknownKeys) {
  std::vector<std::string> ignored;
  Options o = Options::parse(Json::parse(R"({"temperature":0,"top_k":5.7,"stop":["a","b"],
      "mirostat":2,"num_ctx":8192,"seed":42,"use_mmap":false})"), &ignored);
  EXPECT_EQ(*o.temperature, 0.0f);
  EXPECT_EQ(*o.top_k, 5);  // numbers truncate to integers
  EXPECT_EQ(o.stop->size(), 2u);
  EXPECT_EQ(*o.num_ctx, 8192);
  EXPECT_EQ(ignored, std::vector<std::string>{"mirostat"});
  auto s = o.sampling();
  EXPECT_EQ(s.seed, 42);
  EXPECT_FLOAT_EQ(s.top_p, 0.9f);  // default kept
  EXPECT_THROW(Options::parse(Json::parse(R"({"top_k":"x"})")), Error);
  EXPECT_THROW(Options::parse(Json::parse(R"({"temperature":[1]})")), Error);
  EXPECT_THROW(Options::parse(Json::parse(R"([1])")), Error);

  Options base = Options::parse(Json::parse(R"({"temperature":0.2,"top_k":7})"));
  base.overlay(Options::parse(Json::parse(R"({"temperature":0.9})")));
  EXPECT_FLOAT_EQ(*base.temperature, 0.9f);
  EXPECT_EQ(*base.top_k, 7);
}

TEST(Requests, GenerateAndChat) {
  auto g = parse_generate_request(Json::parse(R"({"name":"m","prompt":"p","stream":false,"think":"high",
      "context":[1,2,3],"keep_alive":"10m","format":{"type":"object"}})"));
  EXPECT_EQ(g.model, "m");  // legacy "name"
  EXPECT_FALSE(g.stream);
  EXPECT_EQ(*g.think, "high");
  EXPECT_EQ(g.context->size(), 3u);
  EXPECT_TRUE(g.format.is_object());
  EXPECT_THROW(parse_generate_request(Json::parse(R"({"model":"m","context":["x"]})")), Error);
  EXPECT_THROW(parse_generate_request(Json::parse(R"({"model":"m","stream":"yes"})")), Error);

  auto c = parse_chat_request(Json::parse(R"({"model":"m","messages":[
      {"role":"USER","content":"hi"},
      {"role":"assistant","content":"","thinking":"t","tool_calls":[{"function":{"name":"f","arguments":{"b":1,"a":2}}}]},
      {"role":"tool","content":"r","tool_call_id":"f"}]})"));
  ASSERT_EQ(c.messages.size(), 3u);
  EXPECT_EQ(c.messages[0].role, "user");
  EXPECT_EQ(c.messages[1].tool_calls[0].arguments.dump(), R"({"b":1,"a":2})");  // order kept
  EXPECT_EQ(c.messages[2].tool_name, "f");
  EXPECT_TRUE(c.stream);
  EXPECT_THROW(parse_chat_request(Json::parse(R"({"model":"m","messages":{}})")), Error);
  EXPECT_THROW(parse_body(""), Error);
  EXPECT_THROW(parse_body("[1]"), Error);
}

TEST(OpenAI, ChatTranslation) {
  auto r = parse_openai_chat(Json::parse(R"({"model":"m","stream":true,"stream_options":{"include_usage":true},
      "max_tokens":12,"stop":"x","reasoning_effort":"minimal","response_format":{"type":"json_object"},
      "messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"},
        {"type":"image_url","image_url":{"url":"data:image/png;base64,QUJD"}}]},
      {"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}}]},
      {"role":"tool","tool_call_id":"call_1","content":"ok"}]})"));
  EXPECT_TRUE(r.include_usage);
  EXPECT_TRUE(r.chat.stream);
  EXPECT_EQ(*r.chat.options.num_predict, 12);
  EXPECT_FLOAT_EQ(*r.chat.options.temperature, 1.0f);  // OpenAI default
  EXPECT_FLOAT_EQ(*r.chat.options.top_p, 1.0f);
  EXPECT_EQ(*r.chat.think, "low");
  EXPECT_EQ(r.chat.format, "json");
  EXPECT_EQ(r.chat.messages[0].content, "ab");
  EXPECT_EQ(r.chat.messages[0].images[0], "QUJD");
  EXPECT_EQ(r.chat.messages[1].tool_calls[0].arguments["x"], 1);
  EXPECT_EQ(r.chat.messages[2].tool_name, "f");
  EXPECT_THROW(parse_openai_chat(Json::parse(R"({"model":"m","messages":[{"role":"user","content":[
      {"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]})")), Error);
  EXPECT_EQ(openai_error(404, "x")["error"]["type"], "not_found_error");
  EXPECT_EQ(openai_finish_reason("stop", true), "tool_calls");
  EXPECT_EQ(openai_finish_reason("length", false), "length");
}

}  // namespace
}  // namespace hearth::api
