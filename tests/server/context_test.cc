// The context rules as the server applies them (Ollama's: llm/llama_server.go
// completionPromptForRequest, server/prompt.go chatPrompt, server/sched.go supportsContextShift,
// server/routes.go EmbedHandler), against the fake model: one token per byte, a BOS of 256.

#include <gtest/gtest.h>

#include <algorithm>

#include "test_server.h"

namespace hearth::testing {
namespace {

// A server over the fake model "fake" whose default context is 64 tokens.
class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServerConfig config = TestServer::default_config();
    config.default_num_ctx = 64;
    ts = std::make_unique<TestServer>(engine::SchedulerOptions{}, config);
    add_fake_model(*ts->store, "fake", "FAKE-GGUF-A");
  }
  std::unique_ptr<TestServer> ts;
};

// /api/ps reports each loaded model's context as loaded: the request's num_ctx, capped at the
// model's trained context (the fake model's 2048).
TEST_F(ContextTest, PsContextLengthIsTheLoadedContext) {
  for (int num_ctx : {1000, 4096}) {
    auto r = ts->post("/api/generate", {{"model", "fake"}, {"options", {{"num_ctx", num_ctx}}}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    auto ps = ts->client().Get("/api/ps");
    ASSERT_TRUE(ps);
    const Json models = Json::parse(ps->body)["models"];
    ASSERT_EQ(models.size(), 1u);
    EXPECT_EQ(models[0]["context_length"], std::min(num_ctx, 2048));
  }
}

TEST_F(ContextTest, ContextOverflowTruncatesOrFails) {
  std::string long_prompt(200, 'a');
  // shift:false refuses (Ollama's words), and so does truncate:false (llama-server's, which Ollama passes on).
  auto r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", long_prompt}, {"shift", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"],
            "the prompt is longer than the context length currently available to the model; shorten the prompt, "
            "adjust the context length in settings, or use a model with a longer context length");
  r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", long_prompt}, {"truncate", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  // BOS + "[user]" + 200 + "\n[assistant]"
  EXPECT_EQ(Json::parse(r->body)["error"],
            "request (219 tokens) exceeds the available context size (64 tokens), try increasing it");
  // Otherwise the BOS and num_keep tokens after it are kept and the middle dropped:
  // 64 - (64 - 5) / 2 = 35 tokens. num_keep -1 keeps the start: 63 tokens (one stays free).
  r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", long_prompt}, {"stream", false}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["prompt_eval_count"], 35);
  // `context` keeps the whole prompt, not the cut one: 218 + the reply's 26.
  EXPECT_EQ(Json::parse(r->body)["context"].size(), 244u);
  r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", long_prompt}, {"stream", false},
                                 {"options", {{"num_keep", -1}}}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["prompt_eval_count"], 63);
  EXPECT_EQ(ts->world->last_prompt, "[user]" + std::string(56, 'a'));
  // A raw prompt of num_ctx tokens (BOS + 63) does not fit either; one fewer does.
  r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", std::string(63, 'b')}, {"raw", true}, {"shift", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", std::string(62, 'b')}, {"raw", true}, {"shift", false},
                                 {"stream", false}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["prompt_eval_count"], 63);
  // Chat drops whole old messages first (system and the last message stay), while the prompt's
  // tokens, not counting the BOS (Ollama's chatPrompt), are more than num_ctx: 54 + 40 here.
  auto chat = [](size_t old_len) {
    return Json::array({{{"role", "system"}, {"content", "sys"}},
                        {{"role", "user"}, {"content", std::string(old_len, 'o')}},
                        {{"role", "assistant"}, {"content", "ok"}},
                        {{"role", "user"}, {"content", "new"}}});
  };
  r = ts->post("/api/chat", {{"model", "fake"}, {"messages", chat(40)}, {"_debug_render_only", true}});
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body)["_debug_info"]["rendered_template"],
            "[system]sys\n[assistant]ok\n[user]new\n[assistant]");
  // 54 + 10 = 64 without the BOS: every message stays (the cut then takes the middle).
  r = ts->post("/api/chat", {{"model", "fake"}, {"messages", chat(10)}, {"_debug_render_only", true}});
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body)["_debug_info"]["rendered_template"],
            "[system]sys\n[user]oooooooooo\n[assistant]ok\n[user]new\n[assistant]");
}

// A vocabulary without a BOS keeps num_keep tokens, no more: 64 - (64 - 4) / 2 = 34.
TEST_F(ContextTest, ContextCutWithoutBos) {
  ts->world->bos = false;
  auto r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", std::string(200, 'a')}, {"stream", false}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["prompt_eval_count"], 34);
  EXPECT_EQ(ts->world->last_prompt.substr(0, 4), "[use");
}

// /api/embed: Ollama keeps two positions for a BOS and an EOS whatever the vocabulary adds; an
// EOS the vocabulary closes texts with stays last in a cut text (last-token pooling reads it).
TEST_F(ContextTest, EmbedCutKeepsTheClosingToken) {
  struct Vocab {
    bool bos, eos;
    int tokens, last;  // after the cut; the fake's vector is {size, last token, ...}
  };
  for (Vocab v : {Vocab{false, true, 63, 257}, Vocab{true, true, 64, 257}, Vocab{true, false, 63, 'a'}}) {
    ts->world->bos = v.bos;
    ts->world->eos = v.eos;
    // A new model each time: the facts are taken at load.
    const std::string name = std::string("e") + (v.bos ? "b" : "") + (v.eos ? "e" : "");
    add_fake_model(*ts->store, name, "FAKE-GGUF-" + name);
    auto r = ts->post("/api/embed", {{"model", name}, {"input", std::string(200, 'a')}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const Json j = Json::parse(r->body);
    EXPECT_EQ(j["prompt_eval_count"], v.tokens) << name;
    // Normalized, the vector keeps the ratio of its first two values.
    const double ratio = j["embeddings"][0][0].get<double>() / j["embeddings"][0][1].get<double>();
    EXPECT_NEAR(ratio, static_cast<double>(v.tokens) / v.last, 1e-5) << name;
  }
}

// Without a `shift` field, Ollama shifts every model's context but the deepseek2 family's
// (supportsContextShift): there a prompt too long is refused and a full context ends the answer.
TEST_F(ContextTest, Deepseek2ModelsDoNotShiftUnlessAsked) {
  add_fake_model(*ts->store, "ds", "FAKE-GGUF-DS", {}, "deepseek2");
  const std::string long_prompt(200, 'a');
  auto r = ts->post("/api/generate", {{"model", "ds"}, {"prompt", long_prompt}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  r = ts->post("/api/generate", {{"model", "ds"}, {"prompt", long_prompt}, {"shift", nullptr}});  // as absent
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  r = ts->post("/api/generate", {{"model", "ds"}, {"prompt", long_prompt}, {"shift", true}, {"stream", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(ts->world->last_shift);
  r = ts->post("/api/chat", {{"model", "ds"}, {"messages", Json::array({{{"role", "user"}, {"content", "hi"}}})},
                             {"stream", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_FALSE(ts->world->last_shift);
  r = ts->post("/api/chat", {{"model", "fake"}, {"messages", Json::array({{{"role", "user"}, {"content", "hi"}}})},
                             {"stream", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(ts->world->last_shift);
}

}  // namespace
}  // namespace hearth::testing
