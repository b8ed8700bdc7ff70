// Encoder embedding models (bert, nomic-bert) through the real engine and server: tiny random
// models written by tests/model's fixture writer (with a WordPiece vocabulary), checked against
// its independent double-precision forward (tests/model/tiny_encoder.cc); the test pools and
// normalizes itself. F32 weights: float rounding only, ~1e-6; bound 1e-4. Generate and chat are
// refused as Ollama refuses them for a model without the completion capability.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "engine/runner.h"
#include "model/compute_backend.h"
#include "model/tiny_encoder.h"
#include "test_server.h"

namespace hearth::testing {
namespace {

using model::testing::RefWeights;
using model::testing::TinyEncoderSpec;

std::vector<double> normalized(std::vector<double> v) {
  double ss = 0.0;
  for (double x : v) ss += x * x;
  for (double& x : v) x /= std::sqrt(ss);
  return v;
}

double rel_err(const Json& got, const std::vector<double>& want) {
  EXPECT_EQ(got.size(), want.size());
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    const double g = got[i].get<double>();
    num += (g - want[i]) * (g - want[i]);
    den += want[i] * want[i];
  }
  return std::sqrt(num / den);
}

struct Encoder {
  TinyEncoderSpec spec;
  RefWeights weights;
  std::string path;
};

class EncoderEmbedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/hearth-encoder-test-XXXXXX";
    dir_ = new std::string(mkdtemp(tmpl));
    store_ = std::make_shared<store::Store>(*dir_ + "/models");
    scheduler_ = std::make_shared<engine::Scheduler>(engine::SchedulerOptions{}, engine::make_runner_loader());
    server_ = new server::Server(TestServer::default_config(), scheduler_, store_);
    port_ = server_->start_background();
    for (auto [name, arch, pooling] : {std::tuple{"bert-mean", "bert", 1u}, std::tuple{"nomic-cls", "nomic-bert", 2u}}) {
      Encoder& e = (*models())[name];
      e.spec.arch = arch;
      e.spec.pooling = pooling;
      const std::vector<uint8_t> bytes = model::testing::write_tiny_encoder(e.spec, &e.weights, true);
      add_fake_model(*store_, name, std::string(bytes.begin(), bytes.end()));
      e.path = *dir_ + "/" + name + ".gguf";
      std::ofstream(e.path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                    static_cast<std::streamsize>(bytes.size()));
    }
  }
  static void TearDownTestSuite() {
    server_->stop();
    delete server_;
    scheduler_.reset();
    std::error_code ec;
    std::filesystem::remove_all(*dir_, ec);
    delete dir_;
  }
  static std::map<std::string, Encoder>* models() {
    static std::map<std::string, Encoder> m;
    return &m;
  }
  static std::vector<int32_t> tokens_of(const std::string& model, const std::string& text) {
    auto r = engine::Runner::load((*models())[model].path, engine::LoadOptions{64, 0, 1, "f32", 512});
    return r->tokenize(text, true, true);
  }
  // The reference's pooled, normalized embedding of `text`.
  static std::vector<double> want(const std::string& model, const std::vector<int32_t>& toks) {
    const Encoder& e = (*models())[model];
    const auto hidden = model::testing::ref_encode(e.spec, e.weights, toks);
    if (e.spec.pooling == 2) return normalized(hidden.front());
    std::vector<double> mean(hidden[0].size(), 0.0);
    for (const auto& h : hidden) {
      for (size_t i = 0; i < h.size(); ++i) mean[i] += h[i] / static_cast<double>(hidden.size());
    }
    return normalized(mean);
  }
  static httplib::Result post(const std::string& path, const Json& body) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c.Post(path.c_str(), body.dump(), "application/json");
  }
  static Json ok(const std::string& path, const Json& body) {
    auto r = post(path, body);
    EXPECT_TRUE(r);
    if (!r) return Json();
    EXPECT_EQ(r->status, 200) << r->body;
    return Json::parse(r->body);
  }

  static std::string* dir_;
  static std::shared_ptr<store::Store> store_;
  static std::shared_ptr<engine::Scheduler> scheduler_;
  static server::Server* server_;
  static int port_;
};
std::string* EncoderEmbedTest::dir_ = nullptr;
std::shared_ptr<store::Store> EncoderEmbedTest::store_;
std::shared_ptr<engine::Scheduler> EncoderEmbedTest::scheduler_;
server::Server* EncoderEmbedTest::server_ = nullptr;
int EncoderEmbedTest::port_ = 0;

TEST_F(EncoderEmbedTest, ApiEmbedPoolsAsTheGgufSays) {
  for (const char* model : {"bert-mean", "nomic-cls"}) {
    SCOPED_TRACE(model);
    const std::string text = "Ab, b abb! AB";
    const std::vector<int32_t> toks = tokens_of(model, text);
    ASSERT_EQ(toks.front(), 2);  // [CLS]
    ASSERT_EQ(toks.back(), 3);   // [SEP]
    Json j = ok("/api/embed", {{"model", model}, {"input", text}});
    EXPECT_EQ(j["prompt_eval_count"].get<size_t>(), toks.size());
    ASSERT_EQ(j["embeddings"].size(), 1u);
    EXPECT_LT(rel_err(j["embeddings"][0], want(model, toks)), 1e-4);
    // /v1/embeddings and the legacy /api/embeddings (not normalized) agree on the direction.
    Json v1 = ok("/v1/embeddings", {{"model", model}, {"input", text}});
    EXPECT_LT(rel_err(v1["data"][0]["embedding"], want(model, toks)), 1e-4);
  }
}

// Many inputs in one request go through the encoder in one pass and give what each gives alone.
TEST_F(EncoderEmbedTest, BatchEqualsOneByOne) {
  const std::vector<std::string> texts = {"a", "ab abb b a b", "b b b", "abb, a!"};
  Json all = ok("/api/embed", {{"model", "bert-mean"}, {"input", texts}});
  ASSERT_EQ(all["embeddings"].size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_LT(rel_err(all["embeddings"][i], want("bert-mean", tokens_of("bert-mean", texts[i]))), 1e-4) << i;
  }
}

TEST_F(EncoderEmbedTest, TruncateAndDimensions) {
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "ab b ";  // 80 words: past the 64 trained positions
  auto r = post("/api/embed", {{"model", "bert-mean"}, {"input", long_text}, {"truncate", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"], "the input length exceeds the context length");
  Json j = ok("/api/embed", {{"model", "bert-mean"}, {"input", long_text}});
  EXPECT_EQ(j["prompt_eval_count"], 64);
  // The head is kept and [SEP] closes it, as Ollama's re-tokenized truncation does.
  std::vector<int32_t> toks = tokens_of("bert-mean", long_text);
  toks.resize(64);
  toks.back() = 3;
  EXPECT_LT(rel_err(j["embeddings"][0], want("bert-mean", toks)), 1e-4);
  Json cut = ok("/api/embed", {{"model", "nomic-cls"}, {"input", "ab"}, {"dimensions", 16}});
  ASSERT_EQ(cut["embeddings"][0].size(), 16u);
  double ss = 0.0;
  for (const auto& x : cut["embeddings"][0]) ss += x.get<double>() * x.get<double>();
  EXPECT_NEAR(ss, 1.0, 1e-5);
}

TEST_F(EncoderEmbedTest, GenerateAndChatAreRefusedAsOllamaDoes) {
  auto r = post("/api/generate", {{"model", "bert-mean"}, {"prompt", "hi"}, {"stream", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"], "\"bert-mean\" does not support generate");
  r = post("/api/chat", {{"model", "nomic-cls"},
                         {"messages", Json::array({{{"role", "user"}, {"content", "hi"}}})},
                         {"stream", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"], "\"nomic-cls\" does not support chat");
  Json show = ok("/api/show", {{"model", "bert-mean"}});
  EXPECT_EQ(show["capabilities"], Json::array({"embedding"}));
  EXPECT_EQ(show["model_info"]["general.architecture"], "bert");
  EXPECT_EQ(show["model_info"]["bert.pooling_type"], 1);
}

// The same through the server with the encoders on a Vulkan device: lavapipe here, which the
// default placement takes only when HEARTH_VULKAN_DEVICE names it; num_gpu 99 puts every layer
// there, and /api/ps shows the model in GPU memory. Skipped where no device is usable.
TEST_F(EncoderEmbedTest, ApiEmbedOnAVulkanDevice) {
  const std::vector<std::string> texts = {"a", "ab abb b a b", "b b b", "abb, a!"};
  std::map<std::string, std::vector<std::vector<int32_t>>> toks;
  for (const char* model : {"bert-mean", "nomic-cls"}) {
    for (const std::string& t : texts) toks[model].push_back(tokens_of(model, t));
  }
  struct Unset {
    ~Unset() { ::unsetenv("HEARTH_VULKAN_DEVICE"); }
  } unset;
  bool found = false;
  for (int i = 0; i < 8 && !found; ++i) {
    ::setenv("HEARTH_VULKAN_DEVICE", std::to_string(i).c_str(), 1);
    found = !model::default_gpus().empty();
  }
  if (!found) GTEST_SKIP() << "no usable Vulkan device";
  for (const char* model : {"bert-mean", "nomic-cls"}) {
    SCOPED_TRACE(model);
    Json j = ok("/api/embed", {{"model", model}, {"input", texts}, {"options", {{"num_gpu", 99}}}});
    ASSERT_EQ(j["embeddings"].size(), texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      EXPECT_LT(rel_err(j["embeddings"][i], want(model, toks[model][i])), 1e-4) << texts[i];
    }
    httplib::Client c("127.0.0.1", port_);
    auto ps = c.Get("/api/ps");
    ASSERT_TRUE(ps);
    bool listed = false;
    const Json loaded = Json::parse(ps->body);
    for (const Json& m : loaded["models"]) {
      if (m["name"].get<std::string>().rfind(model, 0) != 0) continue;
      listed = true;
      EXPECT_GT(m["size_vram"].get<uint64_t>(), 0u) << m.dump();
    }
    EXPECT_TRUE(listed) << ps->body;
  }
}

}  // namespace
}  // namespace hearth::testing
