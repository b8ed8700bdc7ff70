// Images sent to a model without vision (every model until a projector is supported) are refused
// with Ollama's capability error on every API, instead of being dropped silently.

#include <gtest/gtest.h>

#include "test_server.h"

namespace hearth::testing {
namespace {

constexpr const char* kRefusal = "registry.ollama.ai/library/fake:latest does not support vision";
const std::string kPng = "iVBORw0KGgo=";

TEST(Images, RefusedOnEveryApiForAModelWithoutVision) {
  TestServer ts;
  add_fake_model(*ts.store, "fake", "GGUF");

  auto r = ts.post("/api/generate", {{"model", "fake"}, {"prompt", "what is this?"}, {"images", Json::array({kPng})}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"], kRefusal);

  Json msgs = Json::array({{{"role", "user"}, {"content", "what is this?"}, {"images", Json::array({kPng})}}});
  r = ts.post("/api/chat", {{"model", "fake"}, {"messages", msgs}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"], kRefusal);

  Json parts = Json::array({{{"type", "text"}, {"text", "what is this?"}},
                            {{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64," + kPng}}}}});
  r = ts.post("/v1/chat/completions", {{"model", "fake"}, {"messages", Json::array({{{"role", "user"}, {"content", parts}}})}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"]["message"], kRefusal);

  Json blocks = Json::array({{{"type", "image"}, {"source", {{"type", "base64"}, {"media_type", "image/png"}, {"data", kPng}}}},
                             {{"type", "text"}, {"text", "what is this?"}}});
  r = ts.post("/v1/messages", {{"model", "fake"}, {"max_tokens", 5}, {"messages", Json::array({{{"role", "user"}, {"content", blocks}}})}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"]["message"], kRefusal);

  // Without images the same requests run.
  r = ts.post("/api/generate", {{"model", "fake"}, {"prompt", "hi"}, {"stream", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(ts.world->completes.load(), 1);
}

}  // namespace
}  // namespace hearth::testing
