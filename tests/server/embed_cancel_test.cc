// A client that hangs up during /api/embed or /v1/embeddings stops the work: the backend is
// asked between inputs whether to go on (the fake model counts the cancelled calls and the
// inputs it embedded), and the model is free for the next request at once.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "engine/runner.h"
#include "test_server.h"
#include "util/error.h"

namespace hearth::testing {
namespace {

using namespace std::chrono_literals;

Json many_inputs(int n) {
  Json inputs = Json::array();
  for (int i = 0; i < n; ++i) inputs.push_back("input " + std::to_string(i));
  return inputs;
}

class EmbedCancelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ts = std::make_unique<TestServer>();
    add_fake_model(*ts->store, "fake", "FAKE-GGUF-A");
  }
  // Posts `n` inputs to `path` and gives up waiting for the answer soon after, closing the
  // connection while the backend is still at the inputs.
  void post_and_hang_up(const std::string& path, int n) {
    httplib::Client c("127.0.0.1", ts->port);
    c.set_read_timeout(0, 200000);
    auto r = c.Post(path, Json{{"model", "fake"}, {"input", many_inputs(n)}}.dump(), "application/json");
    EXPECT_FALSE(r);  // the client left before the answer
  }
  std::unique_ptr<TestServer> ts;
};

TEST_F(EmbedCancelTest, HangingUpStopsTheWorkAndFreesTheModel) {
  ts->world->embed_delay_ms = 20;  // 500 inputs: 10 s if nobody stopped it
  post_and_hang_up("/api/embed", 500);
  ASSERT_TRUE(eventually([&] { return ts->world->embed_cancels.load() == 1; }));
  EXPECT_LT(ts->world->embed_inputs.load(), 500);
  ASSERT_TRUE(eventually([&] {
    auto l = ts->scheduler->loaded();
    return l.size() == 1 && l[0].active == 0;
  }));
  // The model serves the next request.
  ts->world->embed_delay_ms = 0;
  auto r = ts->post("/api/embed", {{"model", "fake"}, {"input", many_inputs(3)}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["embeddings"].size(), 3u);
}

TEST_F(EmbedCancelTest, OpenAIRouteStopsToo) {
  ts->world->embed_delay_ms = 20;
  post_and_hang_up("/v1/embeddings", 500);
  ASSERT_TRUE(eventually([&] { return ts->world->embed_cancels.load() == 1; }));
  EXPECT_LT(ts->world->embed_inputs.load(), 500);
}

TEST_F(EmbedCancelTest, AClientThatStaysGetsEveryVector) {
  ts->world->embed_delay_ms = 1;
  auto r = ts->post("/api/embed", {{"model", "fake"}, {"input", many_inputs(40)}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["embeddings"].size(), 40u);
  EXPECT_EQ(ts->world->embed_cancels.load(), 0);
  EXPECT_EQ(ts->world->embed_inputs.load(), 40);
}

// The real engine asks before every forward pass: with num_batch 16 a 100-token input takes 7
// passes; a cancel on the 3rd question stops there with Error(cancelled).
TEST(EmbedCancelEngineTest, RunnerStopsBetweenPasses) {
  auto runner = engine::Runner::load(std::string(HEARTH_TESTDATA_DIR) + "/stories260K.gguf",
                                     engine::LoadOptions{128, 0, 1, "f32", 16});
  std::string text;
  for (int i = 0; i < 30; ++i) text += "Once upon a time ";
  std::vector<int32_t> t = runner->tokenize(text, true, false);
  ASSERT_GE(t.size(), 100u);
  t.resize(100);
  int asked = 0;
  engine::EmbedResult whole = runner->embed({t}, [&] {
    ++asked;
    return false;
  });
  EXPECT_EQ(asked, 7);
  EXPECT_EQ(whole.prompt_eval_count, 100);
  EXPECT_EQ(whole.vectors, runner->embed({t}).vectors);
  asked = 0;
  try {
    runner->embed({t}, [&] { return ++asked == 3; });
    ADD_FAILURE() << "not cancelled";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::cancelled);
  }
  EXPECT_EQ(asked, 3);
}

}  // namespace
}  // namespace hearth::testing
