// logprobs / top_logprobs returned on every generating route (the fake model reports one
// "token" per piece at -0.25, with made-up alternatives).

#include <gtest/gtest.h>

#include "test_server.h"

namespace hearth::testing {
namespace {

class LogprobsTest : public FakeModelServerTest {
 protected:
  void SetUp() override {
    FakeModelServerTest::SetUp();
    ts->world->reply = "Hello there.";
  }
  // The tokens of a logprobs array, joined; checks each entry's shape on the way.
  static std::string joined(const Json& logprobs, size_t top) {
    std::string text;
    for (const auto& lp : logprobs) {
      text += lp["token"].get<std::string>();
      EXPECT_DOUBLE_EQ(lp["logprob"].get<double>(), -0.25);
      EXPECT_EQ(lp["bytes"].size(), lp["token"].get<std::string>().size());
      EXPECT_EQ(lp.contains("top_logprobs") ? lp["top_logprobs"].size() : 0u, top) << lp.dump();
    }
    return text;
  }
};

TEST_F(LogprobsTest, NativeGenerateAndChat) {
  auto r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", "hi"}, {"stream", false}, {"logprobs", true}, {"top_logprobs", 2}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  EXPECT_EQ(joined(j["logprobs"], 2), "Hello there.");
  EXPECT_EQ(j["logprobs"].size(), j["eval_count"].get<size_t>());

  Json msgs = Json::array({{{"role", "user"}, {"content", "hi"}}});
  r = ts->post("/api/chat", {{"model", "fake"}, {"messages", msgs}, {"logprobs", true}});
  ASSERT_TRUE(r);
  std::string text;
  for (const auto& line : ts->ndjson(r->body)) {
    if (line.contains("logprobs")) text += joined(line["logprobs"], 0);
  }
  EXPECT_EQ(text, "Hello there.");

  // Not asked: not sent.
  r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", "hi"}, {"stream", false}});
  ASSERT_TRUE(r);
  EXPECT_FALSE(Json::parse(r->body).contains("logprobs"));
}

TEST_F(LogprobsTest, OpenAIChatAndCompletions) {
  Json msgs = Json::array({{{"role", "user"}, {"content", "hi"}}});
  auto r = ts->post("/v1/chat/completions", {{"model", "fake"}, {"messages", msgs}, {"logprobs", true}, {"top_logprobs", 1}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(joined(Json::parse(r->body)["choices"][0]["logprobs"]["content"], 1), "Hello there.");

  r = ts->post("/v1/chat/completions", {{"model", "fake"}, {"messages", msgs}, {"logprobs", true}, {"stream", true}});
  ASSERT_TRUE(r);
  std::string text;
  size_t pos = 0;
  while ((pos = r->body.find("data: {", pos)) != std::string::npos) {
    const size_t end = r->body.find("\n\n", pos);
    Json chunk = Json::parse(r->body.substr(pos + 6, end - pos - 6));
    if (chunk["choices"].size() == 1 && chunk["choices"][0].contains("logprobs")) {
      text += joined(chunk["choices"][0]["logprobs"]["content"], 0);
    }
    pos = end;
  }
  EXPECT_EQ(text, "Hello there.");

  r = ts->post("/v1/completions", {{"model", "fake"}, {"prompt", "hi"}, {"logprobs", 3}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(joined(Json::parse(r->body)["choices"][0]["logprobs"]["content"], 3), "Hello there.");
  r = ts->post("/v1/completions", {{"model", "fake"}, {"prompt", "hi"}});
  ASSERT_TRUE(r);
  EXPECT_TRUE(Json::parse(r->body)["choices"][0]["logprobs"].is_null());
  r = ts->post("/v1/completions", {{"model", "fake"}, {"prompt", "hi"}, {"logprobs", 21}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
}

}  // namespace
}  // namespace hearth::testing
