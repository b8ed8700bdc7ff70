// engine::Runner end to end on the shared test models: tokenization with BOS, greedy ids equal to
// the stories260K reference, streaming, stop strings, num_predict, cancellation, prompt-prefix
// reuse, and concurrent requests batched together giving the same tokens as alone; sliding-window
// rings (a gemma3 random-gguf fixture) giving the tokens of whole caches.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/runner.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace hearth::engine {
namespace {

const std::string kDir = HEARTH_TESTDATA_DIR;

std::vector<int32_t> read_ids(const std::string& section, const std::string& label) {
  std::ifstream in(kDir + "/stories260K.greedy.txt");
  std::string line;
  bool in_section = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) in_section = line.rfind("## " + section + ".", 0) == 0;
    if (in_section && line.rfind(label + ":", 0) == 0) {
      std::istringstream ss(line.substr(label.size() + 1));
      std::vector<int32_t> ids;
      int32_t id;
      while (ss >> id) ids.push_back(id);
      return ids;
    }
  }
  ADD_FAILURE() << "no " << label << " in section " << section;
  return {};
}

std::string read_text(const std::string& section) {
  std::ifstream in(kDir + "/stories260K.greedy.txt");
  std::string line;
  bool in_section = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) in_section = line.rfind("## " + section + ".", 0) == 0;
    if (in_section && line.rfind("output_text: ", 0) == 0) return line.substr(13);
  }
  return "";
}

CompletionRequest greedy_request(std::vector<int32_t> prompt, int n) {
  CompletionRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.num_predict = n;
  return r;
}

std::vector<int32_t> generated(const CompletionResult& r, size_t n_prompt) {
  return std::vector<int32_t>(r.context.begin() + static_cast<ptrdiff_t>(n_prompt), r.context.end());
}

class StoriesRunner : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    LoadOptions o;
    o.num_ctx = 512;  // capped to the trained 128
    o.num_thread = 1;
    o.num_parallel = 2;
    runner_ = Runner::load(kDir + "/stories260K.gguf", o).release();
  }
  static void TearDownTestSuite() {
    delete runner_;
    runner_ = nullptr;
  }
  static Runner* runner_;
};
Runner* StoriesRunner::runner_ = nullptr;

TEST_F(StoriesRunner, Facts) {
  EXPECT_EQ(runner_->arch(), "llama");
  EXPECT_EQ(runner_->context_length(), 128);
  EXPECT_EQ(runner_->num_ctx(), 128);
  EXPECT_EQ(runner_->num_parallel(), 2);
  EXPECT_GT(runner_->parameter_count(), 200000);
  EXPECT_EQ(runner_->bos_token(), "<s>");
  EXPECT_EQ(runner_->eos_token(), "</s>");
  EXPECT_GT(runner_->memory_bytes(), runner_->file_size());
}

TEST_F(StoriesRunner, TokenizeAddsBos) {
  EXPECT_EQ(runner_->tokenize("Once upon a time", true, false), read_ids("A", "prompt_ids"));
}

TEST_F(StoriesRunner, GreedyMatchesReferenceAndStreamsItsText) {
  const auto prompt = runner_->tokenize("Once upon a time", true, false);
  CompletionRequest req = greedy_request(prompt, 64);
  std::string streamed;
  int pieces = 0;
  req.on_piece = [&](std::string_view p) {
    streamed += p;
    ++pieces;
    return true;
  };
  const CompletionResult r = runner_->complete(req);
  EXPECT_EQ(generated(r, prompt.size()), read_ids("A", "output_ids"));
  EXPECT_EQ(r.done_reason, "length");
  EXPECT_EQ(r.eval_count, 64);
  EXPECT_GT(pieces, 1);
  EXPECT_EQ(streamed, read_text("A"));
  EXPECT_GT(r.eval_ns, 0);
  EXPECT_GT(r.prompt_eval_ns, 0);
}

TEST_F(StoriesRunner, StopStringCutsTheOutput) {
  CompletionRequest req = greedy_request(read_ids("A", "prompt_ids"), 64);
  req.stop = {"Comment"};
  std::string streamed;
  req.on_piece = [&](std::string_view p) {
    streamed += p;
    return true;
  };
  const CompletionResult r = runner_->complete(req);
  EXPECT_EQ(r.done_reason, "stop");
  EXPECT_EQ(streamed, "beginout I ");
}

TEST_F(StoriesRunner, CancelFromTheCallback) {
  CompletionRequest req = greedy_request(read_ids("A", "prompt_ids"), 64);
  int calls = 0;
  req.on_piece = [&](std::string_view) { return ++calls < 3; };
  const CompletionResult r = runner_->complete(req);
  EXPECT_EQ(r.done_reason, "cancelled");
  EXPECT_EQ(calls, 3);
  EXPECT_LT(r.eval_count, 10);
}

TEST_F(StoriesRunner, SecondRequestReusesThePromptPrefix) {
  const auto prompt = read_ids("A", "prompt_ids");
  const CompletionResult a = runner_->complete(greedy_request(prompt, 8));
  const CompletionResult b = runner_->complete(greedy_request(prompt, 8));
  EXPECT_EQ(b.prompt_eval_count, 1);  // only the last prompt token is evaluated again
  EXPECT_EQ(generated(a, prompt.size()), generated(b, prompt.size()));
  const auto ref = read_ids("A", "output_ids");
  EXPECT_EQ(generated(b, prompt.size()), std::vector<int32_t>(ref.begin(), ref.begin() + 8));
}

TEST_F(StoriesRunner, ConcurrentRequestsBatchTogetherAndMatchAlone) {
  const auto pa = read_ids("A", "prompt_ids");
  const std::vector<int32_t> pb = {1, 438, 113};
  const CompletionResult alone_a = runner_->complete(greedy_request(pa, 40));
  const CompletionResult alone_b = runner_->complete(greedy_request(pb, 30));
  for (int rep = 0; rep < 3; ++rep) {
    CompletionResult ra, rb;
    std::thread ta([&] { ra = runner_->complete(greedy_request(pa, 40)); });
    std::thread tb([&] { rb = runner_->complete(greedy_request(pb, 30)); });
    ta.join();
    tb.join();
    EXPECT_EQ(ra.context, alone_a.context);
    EXPECT_EQ(rb.context, alone_b.context);
  }
  // More requests than slots wait for a free one.
  std::vector<CompletionResult> rs(4);
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) {
    ts.emplace_back([&, i] { rs[i] = runner_->complete(greedy_request(i % 2 ? pb : pa, i % 2 ? 30 : 40)); });
  }
  for (auto& t : ts) t.join();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(rs[i].context, (i % 2 ? alone_b : alone_a).context);
}

TEST_F(StoriesRunner, ContextFullEndsWithLength) {
  CompletionRequest req = greedy_request({1}, -1);
  req.shift = false;
  const CompletionResult r = runner_->complete(req);
  EXPECT_EQ(r.done_reason, "length");
  // Every cache position is used; the token sampled from the last one is returned too.
  EXPECT_EQ(r.eval_count, 128);
  EXPECT_EQ(r.context.size(), 129u);
  // With the context shift (the default) an unlimited generation stops at ten contexts.
  const CompletionResult shifted = runner_->complete(greedy_request({1}, -1));
  EXPECT_EQ(shifted.done_reason, "length");
  EXPECT_EQ(shifted.eval_count, 1280);
}

TEST_F(StoriesRunner, BadInputIsAnError) {
  EXPECT_THROW(runner_->complete(greedy_request({}, 4)), Error);
  EXPECT_THROW(runner_->complete(greedy_request({1, 100000}, 4)), Error);
  CompletionRequest bad = greedy_request({1}, 4);
  bad.sampling.repeat_penalty = -1.0f;
  EXPECT_THROW(runner_->complete(bad), Error);
}

TEST(Runner, CaseBWithF32CacheThroughTheRunner) {
  LoadOptions o;
  o.num_thread = 1;
  o.kv_cache_type = "f32";
  auto r = Runner::load(kDir + "/stories260K.gguf", o);
  const auto expected = read_ids("B", "output_ids");
  const CompletionResult res = r->complete(greedy_request({1}, 127));
  // The trained context (128) ends the run; the ids so far match the reference.
  EXPECT_EQ(generated(res, 1), std::vector<int32_t>(expected.begin(), expected.begin() + 127));
}

// The stories260K reference ids on the scalar backend, and with the last 2 of 5 layers (and the
// head) offloaded to it from the fast one, as Ollama's num_gpu offloads to a GPU.
TEST(Runner, ReferenceIdsWithLayersOnTwoBackends) {
  const auto expected = read_ids("B", "output_ids");
  for (model::Placement p : {model::Placement{"cpu-ref", "", 0}, model::Placement{"cpu", "cpu-ref", 2}}) {
    LoadOptions o;
    o.num_thread = 1;
    o.kv_cache_type = "f32";
    o.placement = p;
    auto r = Runner::load(kDir + "/stories260K.gguf", o);
    EXPECT_EQ(r->model().layer_backends().back(), "cpu-ref");
    const CompletionResult res = r->complete(greedy_request({1}, 100));
    EXPECT_EQ(generated(res, 1), std::vector<int32_t>(expected.begin(), expected.begin() + 100))
        << p.backend << " + " << p.n_offload << " on " << p.offload_backend;
  }
}

// stories260K with a 32-position context (one thread, F32 cache), to fill it quickly.
std::unique_ptr<Runner> small_context_runner() {
  LoadOptions o;
  o.num_thread = 1;
  o.num_ctx = 32;
  o.kv_cache_type = "f32";
  return Runner::load(kDir + "/stories260K.gguf", o);
}

// A generation that fills the context shifts it and goes on (Ollama's shift): the tokens after
// the shift are those a fresh run on the shifted sequence gives (the BOS and num_keep tokens
// after it, then the newer half, then the token just sampled); with shift off it ends with
// "length".
TEST(Runner, ContextShiftLetsGenerationGoOn) {
  auto r = small_context_runner();
  ASSERT_TRUE(r->vocab().add_bos);
  const std::vector<int32_t> prompt = {1, 400, 300, 200, 100, 90, 80, 70};
  // The first shift: positions 0..31 filled, context[32] sampled. num_keep 4 keeps the BOS and 4
  // more (llama-server's n_keep + BOS) and drops (32 - 5) / 2 = 13; num_keep -1 keeps the whole
  // prompt (8) and drops 12; num_keep 0 keeps the BOS and drops (32 - 1) / 2 = 15.
  struct Keep {
    int num_keep;
    size_t keep, discard;
  };
  for (Keep k : {Keep{4, 5, 13}, Keep{-1, 8, 12}, Keep{0, 1, 15}}) {
    CompletionRequest req = greedy_request(prompt, 50);
    req.num_keep = k.num_keep;
    const CompletionResult res = r->complete(req);
    EXPECT_EQ(res.done_reason, "length");
    ASSERT_EQ(res.context.size(), 58u);
    std::vector<int32_t> seq(res.context.begin(), res.context.begin() + static_cast<ptrdiff_t>(k.keep));
    seq.insert(seq.end(), res.context.begin() + static_cast<ptrdiff_t>(k.keep + k.discard), res.context.begin() + 33);
    const CompletionResult fresh = r->complete(greedy_request(seq, 10));
    EXPECT_EQ(generated(fresh, seq.size()), std::vector<int32_t>(res.context.begin() + 33, res.context.begin() + 43))
        << "num_keep " << k.num_keep;
  }
  const CompletionResult res = r->complete(greedy_request(prompt, 50));

  CompletionRequest no_shift = greedy_request(prompt, 50);
  no_shift.shift = false;
  const CompletionResult stopped = r->complete(no_shift);
  EXPECT_EQ(stopped.done_reason, "length");
  EXPECT_EQ(stopped.context, std::vector<int32_t>(res.context.begin(), res.context.begin() + 33));
}

// A prompt of num_ctx tokens or more keeps its first tokens (BOS + num_keep) and its newest
// tail, num_ctx - (num_ctx - keep) / 2 tokens in all, as Ollama cuts it (the server does it
// first; the runner applies the same rule to what reaches it).
TEST(Runner, LongPromptKeepsItsStartAndItsEnd) {
  auto r = small_context_runner();
  std::vector<int32_t> prompt = {1};
  for (int i = 0; i < 31; ++i) prompt.push_back(300 + i);  // exactly num_ctx: does not fit
  const CompletionResult res = r->complete(greedy_request(prompt, 1));
  // keep 5, 32 - (32 - 5) / 2 = 19 tokens: 5 from the start, the last 14.
  EXPECT_EQ(res.prompt_eval_count, 19);
  std::vector<int32_t> expect(prompt.begin(), prompt.begin() + 5);
  expect.insert(expect.end(), prompt.end() - 14, prompt.end());
  EXPECT_EQ(std::vector<int32_t>(res.context.begin(), res.context.begin() + 19), expect);
  prompt.pop_back();  // 31 tokens fit: all of them run (context: prompt + 1 generated)
  const CompletionResult fits = r->complete(greedy_request(prompt, 1));
  ASSERT_EQ(fits.context.size(), 32u);
  EXPECT_EQ(std::vector<int32_t>(fits.context.begin(), fits.context.begin() + 31), prompt);
}

TEST(Runner, KvCacheTypeFromTheEnvironment) {
  const auto expected = read_ids("B", "output_ids");
  LoadOptions o;
  o.num_thread = 1;
  setenv("HEARTH_KV_CACHE_TYPE", "f32", 1);
  auto r32 = Runner::load(kDir + "/stories260K.gguf", o);
  unsetenv("HEARTH_KV_CACHE_TYPE");
  auto r16 = Runner::load(kDir + "/stories260K.gguf", o);
  // An F32 cache is twice the F16 default.
  EXPECT_EQ(r32->memory_bytes() - r32->file_size(), 2 * (r16->memory_bytes() - r16->file_size()));
  const CompletionResult res = r32->complete(greedy_request({1}, 60));
  EXPECT_EQ(generated(res, 1), std::vector<int32_t>(expected.begin(), expected.begin() + 60));
}

TEST(Runner, MissingFileIsNotFound) {
  try {
    Runner::load(kDir + "/no-such-model.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-model.gguf"), std::string::npos);
  }
}

// Ollama lower-cases OLLAMA_KV_CACHE_TYPE: Q8_0 from an Ollama environment file loads.
TEST(Runner, KvCacheTypeFromTheEnvironmentInAnyCase) {
  LoadOptions o;
  o.num_thread = 1;
  setenv("HEARTH_KV_CACHE_TYPE", "Q8_0", 1);
  std::unique_ptr<Runner> r;
  EXPECT_NO_THROW(r = Runner::load(kDir + "/stories260K.gguf", o));
  unsetenv("HEARTH_KV_CACHE_TYPE");
  if (r) {
    EXPECT_EQ(r->kv_cache_type(), gguf::GgmlType::Q8_0);
  }
}

// Without num_ctx, a load takes HEARTH_CONTEXT_LENGTH as the server does: a number (at least
// 4), else (0, malformed) the default by GPU memory, here capped by the model's 128.
TEST(Runner, ContextLengthFromTheEnvironment) {
  LoadOptions o;
  o.num_thread = 1;
  struct Case {
    const char* value;
    int num_ctx;
  };
  for (Case c : {Case{"64", 64}, Case{"2", 4}, Case{"8k", 128}, Case{"0", 128}}) {
    setenv("HEARTH_CONTEXT_LENGTH", c.value, 1);
    std::unique_ptr<Runner> r = Runner::load(kDir + "/stories260K.gguf", o);
    unsetenv("HEARTH_CONTEXT_LENGTH");
    EXPECT_EQ(r->num_ctx(), c.num_ctx) << c.value;
  }
}

TEST(Runner, BadKvCacheType) {
  LoadOptions o;
  o.kv_cache_type = "q4";
  EXPECT_THROW(Runner::load(kDir + "/stories260K.gguf", o), Error);
}

// The tiny random models of every architecture load and generate deterministically.
class TinyModels : public ::testing::TestWithParam<std::string> {};

TEST_P(TinyModels, LoadAndGenerateDeterministically) {
  LoadOptions o;
  o.num_ctx = 256;
  o.num_thread = 1;
  o.num_parallel = 2;
  auto r = Runner::load(kDir + "/" + GetParam(), o);
  EXPECT_EQ(r->num_ctx(), 256);
  const auto prompt = r->tokenize("Hello, tiny model! 你好", true, false);
  ASSERT_GT(prompt.size(), 3u);
  CompletionRequest req = greedy_request(prompt, 6);
  const CompletionResult a = r->complete(req);
  EXPECT_EQ(a.eval_count, static_cast<int>(a.context.size() - prompt.size()));
  EXPECT_GT(a.eval_count, 0);
  // Again in the other slot, and with two threads: the same tokens.
  global_thread_pool(2);
  CompletionResult b, c;
  std::thread tb([&] { b = r->complete(req); });
  std::thread tc([&] { c = r->complete(greedy_request({prompt.begin(), prompt.end() - 1}, 4)); });
  tb.join();
  tc.join();
  global_thread_pool(1);
  EXPECT_EQ(a.context, b.context);
  std::printf("[ %s ] %s -> %s\n", GetParam().c_str(), r->arch().c_str(),
              r->detokenize(generated(a, prompt.size())).c_str());
}

INSTANTIATE_TEST_SUITE_P(Shared, TinyModels,
                         ::testing::Values("qwen2-tiny-q8_0.gguf", "qwen2-tiny-q4_k_m.gguf",
                                           "qwen2-tiny256-q4_k_m.gguf", "llama3-tiny-q8_0.gguf",
                                           "qwen3-tiny-q8_0.gguf"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param.substr(0, info.param.size() - 5);
                           for (char& ch : n) {
                             if (ch == '-') ch = '_';
                           }
                           return n;
                         });

// Prompt tokens 3..502 of stories260K's vocabulary, varied by salt, after BOS.
std::vector<int32_t> tokens(int n, int salt) {
  std::vector<int32_t> t = {1};
  for (int i = 1; i < n; ++i) t.push_back(static_cast<int32_t>(3 + (i * 37 + salt * 101) % 500));
  return t;
}

// Sliding-window rings through the runner (model/kv_cache.h). A gemma3 file written by
// random-gguf (window 8, the shape of llamacpp_agreement_test's) run with a context of 160:
// with num_batch 4 its six windowed layers keep rings of 8 + 3 -> 64 slots; with num_batch 512
// a ring would not be smaller than the context, so every layer keeps the whole of it. Both
// runners give the same greedy tokens for a prompt that shares a long prefix with the previous
// request (the rings still hold its window: reused), one that shares a short prefix (the rings
// have moved past it: evaluated again), and a generation that fills the context and shifts it
// (the rings no longer hold the kept first positions: evaluated again with the rest).
TEST(RunnerRing, WindowedLayersInRingsGiveTheTokensOfWholeCaches) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "hearth_runner_ring";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "gemma3.gguf").string();
  const std::string cmd = std::string(HEARTH_BINARY_DIR) + "/tools/random-gguf --vocab-from " +
                          HEARTH_TESTDATA_DIR + "/stories260K.gguf --arch gemma3 --n-embd 256 --n-layer 7"
                          " --n-head 4 --n-head-kv 2 --head-dim 64 --n-ff 512 --n-ctx 4096 --window 8"
                          " --rope-base 1000000 --std 0.01 --seed 5 --type f32 -o " + path + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::unique_ptr<Runner> runner[2];
  for (int i = 0; i < 2; ++i) {
    LoadOptions o;
    o.num_thread = 1;
    o.num_ctx = 160;
    o.num_batch = i == 0 ? 4 : 512;
    runner[i] = Runner::load(path, o);
  }
  // F16 K and V of 2 heads of 64 per position: 512 bytes; rings of 64 in six layers, 160 in one.
  EXPECT_EQ(runner[0]->memory_bytes() - runner[0]->file_size(), (6 * 64 + 160) * 512u);
  EXPECT_EQ(runner[1]->memory_bytes() - runner[1]->file_size(), 7 * 160 * 512u);

  CompletionResult a[2], b[2], c[2], d[2];
  for (int i = 0; i < 2; ++i) {
    a[i] = runner[i]->complete(greedy_request(tokens(100, 1), 5));
    std::vector<int32_t> longer = a[i].context;
    for (int32_t t : tokens(10, 2)) longer.push_back(t + 1);
    b[i] = runner[i]->complete(greedy_request(longer, 8));
    std::vector<int32_t> shorter(a[i].context.begin(), a[i].context.begin() + 50);
    for (int32_t t : tokens(12, 3)) shorter.push_back(t + 2);
    c[i] = runner[i]->complete(greedy_request(shorter, 8));
    d[i] = runner[i]->complete(greedy_request(tokens(20, 4), 300));
  }
  EXPECT_EQ(a[0].context, a[1].context);
  EXPECT_EQ(b[0].context, b[1].context);
  EXPECT_EQ(c[0].context, c[1].context);
  EXPECT_EQ(d[0].context, d[1].context);
  // b reused what a left in the cache (a's prompt and what it fed back), in rings too; c's 50
  // shared positions are reused by whole caches only (after b the rings hold positions past 50).
  EXPECT_LE(b[0].prompt_eval_count, 11);
  EXPECT_EQ(b[1].prompt_eval_count, b[0].prompt_eval_count);
  EXPECT_EQ(c[0].prompt_eval_count, 62);
  EXPECT_EQ(c[1].prompt_eval_count, 12);
  // The long generation went past the context (shifted) and on to its num_predict.
  EXPECT_EQ(d[0].eval_count, 300);
  EXPECT_EQ(d[0].done_reason, "length");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace hearth::engine
