// Embeddings through the real engine: /api/embed, /api/embeddings and /v1/embeddings on
// stories260K (F32) and qwen2-tiny (Q8_0), checked against tests/server/embed_reference.cc, an
// independent double-precision forward; the test does pooling and normalization itself.
//
// Error budget (relative L2 error of a pooled vector): stories260K is F32 with an F32 scratch
// cache, so only float rounding, ~1e-6: bound 1e-4. qwen2-tiny's Q8_0 matmuls quantize each
// activation row to 8 bits per block of 32 (see tests/model/reference_forward_test.cc): ~1-2 %
// after two layers: bound 5e-2. A wrong pooling row, a missed norm or the logits instead of the
// hidden state give O(1).

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "embed_reference.h"
#include "engine/runner.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "test_server.h"
#include "util/error.h"

namespace hearth::testing {
namespace {

const std::string kData = HEARTH_TESTDATA_DIR;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// stories260K with llama.pooling_type set (1 mean, 2 cls, 3 last), written to `path`.
void write_pooled_stories(const std::string& path, uint32_t pooling) {
  gguf::File f = gguf::File::open(kData + "/stories260K.gguf");
  gguf::Writer w;
  for (const auto& [k, v] : f.metadata()) w.set(k, v);
  w.set_u32("llama.pooling_type", pooling);
  for (const auto& t : f.tensors()) {
    w.add_tensor_view(t.name, t.type, std::vector<int64_t>(t.ne, t.ne + t.n_dims), t.data, t.n_bytes);
  }
  w.write(path);
}

std::vector<double> normalized(std::vector<double> v) {
  double ss = 0.0;
  for (double x : v) ss += x * x;
  for (double& x : v) x /= std::sqrt(ss);
  return v;
}

std::vector<double> to_double(const Json& arr) {
  std::vector<double> v;
  for (const auto& x : arr) v.push_back(x.get<double>());
  return v;
}

double rel_err(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return std::sqrt(num / den);
}

double norm(const std::vector<double>& v) {
  double ss = 0.0;
  for (double x : v) ss += x * x;
  return std::sqrt(ss);
}

// A server over the real engine with models imported from testdata (and extra files).
class EmbedServer {
 public:
  EmbedServer() {
    char tmpl[] = "/tmp/hearth-embed-test-XXXXXX";
    dir = mkdtemp(tmpl);
    store = std::make_shared<store::Store>(dir + "/models");
    scheduler = std::make_shared<engine::Scheduler>(engine::SchedulerOptions{}, engine::make_runner_loader());
    server::ServerConfig c = TestServer::default_config();
    c.num_parallel = 2;
    server = std::make_unique<server::Server>(c, scheduler, store);
    port = server->start_background();
  }
  ~EmbedServer() {
    server->stop();
    server.reset();
    scheduler.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  void import(const std::string& name, const std::string& path) {
    add_fake_model(*store, name, read_file(path));
  }
  httplib::Result post(const std::string& path, const Json& body) const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    return c.Post(path.c_str(), body.dump(), "application/json");
  }
  Json ok(const std::string& path, const Json& body) const {
    auto r = post(path, body);
    EXPECT_TRUE(r);
    if (!r) return Json();
    EXPECT_EQ(r->status, 200) << r->body;
    return Json::parse(r->body);
  }

  std::string dir;
  std::shared_ptr<store::Store> store;
  std::shared_ptr<engine::Scheduler> scheduler;
  std::unique_ptr<server::Server> server;
  int port = 0;
};

class EmbedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    srv_ = new EmbedServer();
    srv_->import("stories", kData + "/stories260K.gguf");
    srv_->import("qwen", kData + "/qwen2-tiny-q8_0.gguf");
    const std::string mean = srv_->dir + "/stories-mean.gguf";
    write_pooled_stories(mean, 1);
    srv_->import("stories-mean", mean);
    const std::string cls = srv_->dir + "/stories-cls.gguf";
    write_pooled_stories(cls, 2);
    srv_->import("stories-cls", cls);
  }
  static void TearDownTestSuite() {
    delete srv_;
    srv_ = nullptr;
  }
  // The tokens the server embeds for `text` (the backend's tokenize: specials added and parsed).
  static std::vector<int32_t> tokens_of(const std::string& gguf, const std::string& text) {
    auto r = engine::Runner::load(gguf, engine::LoadOptions{64, 0, 1, "f32", 512});
    std::vector<int32_t> t = r->tokenize(text, true, true);
    return t;
  }
  static EmbedServer* srv_;
};
EmbedServer* EmbedTest::srv_ = nullptr;

struct RefCase {
  const char* model;
  const char* file;
  double bound;
};

TEST_F(EmbedTest, ApiEmbedIsTheNormalizedLastHiddenStateOfTheReference) {
  for (const RefCase& c : {RefCase{"stories", "stories260K.gguf", 1e-4},
                           RefCase{"qwen", "qwen2-tiny-q8_0.gguf", 5e-2}}) {
    SCOPED_TRACE(c.model);
    const std::string text = "Once upon a time there was a little dog";
    const std::vector<int32_t> toks = tokens_of(kData + "/" + c.file, text);
    ASSERT_GE(toks.size(), 3u);
    Json j = srv_->ok("/api/embed", {{"model", c.model}, {"input", text}});
    EXPECT_EQ(j["model"], c.model);
    EXPECT_EQ(j["prompt_eval_count"].get<size_t>(), toks.size());
    EXPECT_GT(j["total_duration"].get<int64_t>(), 0);
    EXPECT_TRUE(j.contains("load_duration"));
    ASSERT_EQ(j["embeddings"].size(), 1u);
    std::vector<double> got = to_double(j["embeddings"][0]);
    RefHidden ref(kData + "/" + c.file);
    ASSERT_EQ(got.size(), static_cast<size_t>(ref.n_embd()));
    auto hidden = ref.run(toks);
    std::vector<double> want = normalized(hidden.back());  // no pooling key: the last token
    EXPECT_LT(rel_err(got, want), c.bound);
    EXPECT_NEAR(norm(got), 1.0, 1e-5);
    // Not the first token's state and not the mean: the pooling row matters.
    std::vector<double> first = normalized(hidden.front());
    EXPECT_GT(rel_err(got, first), 0.1);
  }
}

TEST_F(EmbedTest, PoolingTypeFromTheGgufMeanAndCls) {
  const std::string text = "Once upon a time there was a little dog";
  const std::vector<int32_t> toks = tokens_of(kData + "/stories260K.gguf", text);
  RefHidden ref(kData + "/stories260K.gguf");
  auto hidden = ref.run(toks);
  std::vector<double> mean(hidden[0].size(), 0.0);
  for (const auto& h : hidden) {
    for (size_t i = 0; i < h.size(); ++i) mean[i] += h[i] / static_cast<double>(hidden.size());
  }
  Json j = srv_->ok("/api/embed", {{"model", "stories-mean"}, {"input", text}});
  EXPECT_LT(rel_err(to_double(j["embeddings"][0]), normalized(mean)), 1e-4);
  j = srv_->ok("/api/embed", {{"model", "stories-cls"}, {"input", text}});
  EXPECT_LT(rel_err(to_double(j["embeddings"][0]), normalized(hidden.front())), 1e-4);
}

TEST_F(EmbedTest, BatchEqualsInputsOneByOne) {
  for (const char* model : {"qwen", "stories-mean"}) {
    SCOPED_TRACE(model);
    const std::vector<std::string> texts = {"Hello world", "The quick brown fox jumps over the lazy dog",
                                            "a", "Once upon a time"};
    Json batch = srv_->ok("/api/embed", {{"model", model}, {"input", texts}});
    ASSERT_EQ(batch["embeddings"].size(), texts.size());
    int total = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      Json one = srv_->ok("/api/embed", {{"model", model}, {"input", Json::array({texts[i]})}});
      total += one["prompt_eval_count"].get<int>();
      // Different batch shapes may sum in a different order: float rounding only.
      EXPECT_LT(rel_err(to_double(batch["embeddings"][i]), to_double(one["embeddings"][0])), 1e-5) << i;
    }
    EXPECT_EQ(batch["prompt_eval_count"].get<int>(), total);
    // Distinct inputs give distinct vectors (the batch did not mix them up).
    EXPECT_GT(rel_err(to_double(batch["embeddings"][0]), to_double(batch["embeddings"][1])), 1e-2);
  }
}

TEST_F(EmbedTest, LegacyEmbeddingsAreNotNormalized) {
  const std::string text = "Once upon a time there was a little dog";
  Json legacy = srv_->ok("/api/embeddings", {{"model", "stories"}, {"prompt", text}});
  ASSERT_TRUE(legacy["embedding"].is_array());
  std::vector<double> raw = to_double(legacy["embedding"]);
  RefHidden ref(kData + "/stories260K.gguf");
  std::vector<double> want = ref.run(tokens_of(kData + "/stories260K.gguf", text)).back();
  EXPECT_LT(rel_err(raw, want), 1e-4);
  EXPECT_GT(std::abs(norm(raw) - 1.0), 0.1);  // RMS-normed state of 64 dims: norm ~ sqrt(64)
  Json j = srv_->ok("/api/embed", {{"model", "stories"}, {"input", text}});
  EXPECT_LT(rel_err(to_double(j["embeddings"][0]), normalized(raw)), 1e-6);
  // Empty prompt: loads and answers an empty vector.
  legacy = srv_->ok("/api/embeddings", {{"model", "stories"}, {"prompt", ""}});
  EXPECT_EQ(legacy["embedding"], Json::array());
}

TEST_F(EmbedTest, DimensionsCutAndNormalizeAgain) {
  const std::string text = "Hello world";
  Json full = srv_->ok("/api/embed", {{"model", "qwen"}, {"input", text}});
  Json cut = srv_->ok("/api/embed", {{"model", "qwen"}, {"input", text}, {"dimensions", 16}});
  std::vector<double> f = to_double(full["embeddings"][0]);
  std::vector<double> c = to_double(cut["embeddings"][0]);
  ASSERT_EQ(c.size(), 16u);
  EXPECT_NEAR(norm(c), 1.0, 1e-5);
  EXPECT_LT(rel_err(c, normalized(std::vector<double>(f.begin(), f.begin() + 16))), 1e-6);
  // Larger than the model: the full vector.
  Json big = srv_->ok("/api/embed", {{"model", "qwen"}, {"input", text}, {"dimensions", 100000}});
  EXPECT_EQ(big["embeddings"][0].size(), f.size());
  auto r = srv_->post("/api/embed", {{"model", "qwen"}, {"input", text}, {"dimensions", -1}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
}

TEST_F(EmbedTest, Errors) {
  // Empty input: the model is loaded, no vectors.
  Json j = srv_->ok("/api/embed", {{"model", "stories"}, {"input", ""}});
  EXPECT_EQ(j["embeddings"], Json::array());
  j = srv_->ok("/api/embed", {{"model", "stories"}, {"input", Json::array()}});
  EXPECT_EQ(j["embeddings"], Json::array());

  auto r = srv_->post("/api/embed", {{"model", "nosuch"}, {"input", "x"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Json::parse(r->body)["error"], "model 'nosuch' not found");

  r = srv_->post("/api/embed", {{"input", "x"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);

  r = srv_->post("/api/embed", {{"model", "stories"}, {"input", 5}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"], "invalid input type");
  r = srv_->post("/api/embed", {{"model", "stories"}, {"input", Json::array({"a", 1})}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);

  // Longer than the context (stories260K is trained for 128 positions).
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += "Once upon a time ";
  r = srv_->post("/api/embed", {{"model", "stories"}, {"input", long_text}, {"truncate", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"], "the input length exceeds the context length");
  // Truncation keeps the head, 127 tokens: Ollama keeps a position for an EOS this vocabulary
  // never adds (see embed_handlers.cc). The vector is the reference's at position 126.
  j = srv_->ok("/api/embed", {{"model", "stories"}, {"input", long_text}});
  EXPECT_EQ(j["prompt_eval_count"], 127);
  std::vector<int32_t> toks = tokens_of(kData + "/stories260K.gguf", long_text);
  ASSERT_GT(toks.size(), 128u);
  toks.resize(127);
  RefHidden ref(kData + "/stories260K.gguf");
  EXPECT_LT(rel_err(to_double(j["embeddings"][0]), normalized(ref.run(toks).back())), 1e-4);
}

TEST_F(EmbedTest, OpenAIEmbeddings) {
  const std::string a = "Hello world", b = "Once upon a time";
  Json native = srv_->ok("/api/embed", {{"model", "qwen"}, {"input", {a, b}}});
  Json j = srv_->ok("/v1/embeddings", {{"model", "qwen"}, {"input", {a, b}}});
  EXPECT_EQ(j["object"], "list");
  EXPECT_EQ(j["model"], "qwen");
  ASSERT_EQ(j["data"].size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(j["data"][i]["object"], "embedding");
    EXPECT_EQ(j["data"][i]["index"], i);
    EXPECT_LT(rel_err(to_double(j["data"][i]["embedding"]), to_double(native["embeddings"][i])), 1e-6);
  }
  EXPECT_EQ(j["usage"]["prompt_tokens"], native["prompt_eval_count"]);
  EXPECT_EQ(j["usage"]["total_tokens"], native["prompt_eval_count"]);

  // base64: little-endian f32 bytes of the same vector.
  Json b64 = srv_->ok("/v1/embeddings", {{"model", "qwen"}, {"input", a}, {"encoding_format", "base64"}});
  ASSERT_TRUE(b64["data"][0]["embedding"].is_string());
  const std::string text = b64["data"][0]["embedding"].get<std::string>();
  auto val = [](char ch) -> int {
    const std::string al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    return static_cast<int>(al.find(ch));
  };
  std::string bytes;
  for (size_t i = 0; i + 3 < text.size(); i += 4) {
    uint32_t n = (val(text[i]) << 18) | (val(text[i + 1]) << 12);
    bytes += static_cast<char>((n >> 16) & 0xff);
    if (text[i + 2] != '=') n |= val(text[i + 2]) << 6, bytes += static_cast<char>((n >> 8) & 0xff);
    if (text[i + 3] != '=') n |= val(text[i + 3]), bytes += static_cast<char>(n & 0xff);
  }
  std::vector<double> want = to_double(native["embeddings"][0]);
  ASSERT_EQ(bytes.size(), want.size() * 4);
  for (size_t i = 0; i < want.size(); ++i) {
    float f;
    std::memcpy(&f, bytes.data() + i * 4, 4);
    EXPECT_EQ(f, static_cast<float>(want[i])) << i;
  }

  // Token arrays: the same tokens as the text give the same vector.
  std::vector<int32_t> toks = tokens_of(kData + "/qwen2-tiny-q8_0.gguf", a);
  Json t = srv_->ok("/v1/embeddings", {{"model", "qwen"}, {"input", toks}});
  EXPECT_LT(rel_err(to_double(t["data"][0]["embedding"]), want), 1e-6);
  Json tt = srv_->ok("/v1/embeddings", {{"model", "qwen"}, {"input", Json::array({toks, Json(toks)})}, {"dimensions", 8}});
  ASSERT_EQ(tt["data"].size(), 2u);
  EXPECT_EQ(tt["data"][1]["embedding"].size(), 8u);

  // Errors in OpenAI's shape.
  auto r = srv_->post("/v1/embeddings", {{"model", "qwen"}, {"input", ""}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"]["message"], "invalid input");
  EXPECT_EQ(Json::parse(r->body)["error"]["type"], "invalid_request_error");
  r = srv_->post("/v1/embeddings", {{"model", "qwen"}, {"input", a}, {"encoding_format", "int8"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  r = srv_->post("/v1/embeddings", {{"model", "qwen"}, {"input", Json::array({-5})}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  r = srv_->post("/v1/embeddings", {{"model", "nosuch"}, {"input", a}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Json::parse(r->body)["error"]["type"], "not_found_error");
}

// Embedding while a chat sequence generates, in the same Runner: the sequence's output and its
// cached prefix are untouched (embeddings run in a scratch cache, not in a slot).
TEST(EmbedEngineTest, EmbeddingDoesNotDisturbRunningSequences) {
  auto runner = engine::Runner::load(kData + "/stories260K.gguf", engine::LoadOptions{128, 0, 1, "f32", 512});
  engine::CompletionRequest req;
  req.prompt = runner->tokenize("Once upon a time", true, false);
  req.sampling.temperature = 0.0f;
  req.num_predict = 24;
  std::string quiet;
  req.on_piece = [&](std::string_view p) {
    quiet += p;
    return true;
  };
  engine::CompletionResult first = runner->complete(req);

  std::string busy;
  int pieces = 0;
  std::vector<float> during;
  req.on_piece = [&](std::string_view p) {
    busy += p;
    if (++pieces % 5 == 0) {  // between two forward passes of the running sequence
      engine::EmbedResult e = runner->embed({runner->tokenize("Hello there, little bird", true, false),
                                             runner->tokenize("x", true, false)});
      during = e.vectors[0];
    }
    return true;
  };
  engine::CompletionResult second = runner->complete(req);
  EXPECT_EQ(busy, quiet);
  EXPECT_EQ(second.context, first.context);
  // The slot's cached prefix survived: only the last prompt token is evaluated again.
  EXPECT_EQ(second.prompt_eval_count, 1);
  ASSERT_FALSE(during.empty());
  engine::EmbedResult alone = runner->embed({runner->tokenize("Hello there, little bird", true, false)});
  ASSERT_EQ(alone.vectors[0].size(), during.size());
  for (size_t i = 0; i < during.size(); ++i) EXPECT_FLOAT_EQ(alone.vectors[0][i], during[i]);

  // Embeddings from another thread while a sequence generates.
  req.on_piece = nullptr;
  std::thread gen([&] { runner->complete(req); });
  for (int i = 0; i < 5; ++i) {
    engine::EmbedResult e = runner->embed({runner->tokenize("Hello there, little bird", true, false)});
    for (size_t k = 0; k < during.size(); ++k) EXPECT_FLOAT_EQ(e.vectors[0][k], during[k]);
  }
  gen.join();
}

TEST(EmbedEngineTest, LongInputsRunInChunksAndInputErrors) {
  // num_batch 16: a 100-token input takes 7 passes and equals the one-pass result.
  auto small = engine::Runner::load(kData + "/stories260K.gguf", engine::LoadOptions{128, 0, 1, "f32", 16});
  auto big = engine::Runner::load(kData + "/stories260K.gguf", engine::LoadOptions{128, 0, 1, "f32", 512});
  std::string text;
  for (int i = 0; i < 30; ++i) text += "Once upon a time ";
  std::vector<int32_t> t = small->tokenize(text, true, false);
  t.resize(100);
  engine::EmbedResult a = small->embed({t, {1, 5, 6}});
  engine::EmbedResult b = big->embed({t, {1, 5, 6}});
  EXPECT_EQ(a.prompt_eval_count, 103);
  for (size_t v = 0; v < 2; ++v) {
    for (size_t i = 0; i < a.vectors[v].size(); ++i) EXPECT_NEAR(a.vectors[v][i], b.vectors[v][i], 1e-4);
  }
  EXPECT_THROW(small->embed({{}}), hearth::Error);
  EXPECT_THROW(small->embed({{1, 100000}}), hearth::Error);
  EXPECT_THROW(small->embed({std::vector<int32_t>(129, 5)}), hearth::Error);
}

}  // namespace
}  // namespace hearth::testing
