#pragma once
// What `hearth bench` measures, in llama-bench's terms: pp<N> (one prompt of N tokens evaluated
// as batches from an empty cache) and tg<N> (N tokens decoded one at a time), each repeated and
// reported as tokens/s mean ± standard deviation. An encoder (embedding model) has only
// embed<N> x<B>: B inputs of N tokens through one forward pass, as an /api/embed request with B
// inputs runs (tokens/s; embeddings/s is that over N). Token ids are random, as llama-bench's are:
// the speed of a forward pass does not depend on them.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"

namespace hearth::engine {

struct BenchSpec {
  int n_prompt = 0;  // > 0: a pp test
  int n_gen = 0;     // > 0: a tg test
  int reps = 5;
  int n_batch = 512;
  // A tg test with n_parallel > 1 decodes that many sequences at once, one row each per forward
  // pass (what a server step with that many running chats does); tokens/s counts all of them.
  int n_parallel = 1;
  std::string kv_cache_type = "f16";
  // The test runs after n_depth tokens are in the cache (llama-bench's -d): "pp512 @ d4096".
  // The depth is filled once per test, untimed; every repetition then writes positions
  // [n_depth, n_depth + n) again, so each sees the same cache.
  int n_depth = 0;
};

struct BenchResult {
  int n_prompt = 0, n_gen = 0, n_parallel = 1, n_depth = 0;
  bool embed = false;  // an encoder's embed<N> x<B> test
  std::vector<double> samples_ts;  // tokens/s of each repetition
  std::vector<int64_t> samples_ns;
  double avg_ts = 0, stddev_ts = 0;
  int64_t avg_ns() const;  // mean of samples_ns, as llama-bench reports it
  std::string test_name() const;   // "pp512", "tg128", "tg128 x4", "tg128 @ d4096"
};

class ModelBench {
 public:
  // Errors as model::load_model.
  explicit ModelBench(const std::string& path, const model::Placement& placement = {});

  const model::Model& model() const { return *model_; }
  // Bytes of weights a decode step reads: every tensor but the embedding table, of which it
  // reads one row per token, and the expert stacks, of which it reads expert_used_count of
  // expert_count matrices.
  uint64_t weight_bytes_per_token() const;
  // Bytes of KV cache a decode step of a tg test reads, for all its sequences: each reads its
  // positions so far, n_depth + (n_gen + 1) / 2 on average over the test (a sliding-window layer
  // at most its ring), in the test's cache type. 0 for any other test.
  uint64_t cache_bytes_per_step(const BenchSpec& spec) const;

  // One warm-up run, then spec.reps measured runs; before_timed (if set) runs between the two,
  // after any depth fill, so that it can measure what the timed runs will see. between_steps (if
  // set) runs after each decode step of a timed tg run, outside its timing: a bandwidth probe
  // interleaved with the steps.
  BenchResult run(const BenchSpec& spec, const std::function<void()>& before_timed = {},
                  const std::function<void()>& between_steps = {});

 private:
  int64_t run_prompt(int n, int n_batch, model::KvCache& cache, int start = 0);
  int64_t run_gen(int n, int n_parallel, model::KvCache& cache, int start = 0,
                  const std::function<void()>& between_steps = {});
  int64_t run_embed(int n, int n_inputs, model::KvCache& cache);
  static BenchResult finish(BenchResult res);  // mean and standard deviation of the samples

  std::unique_ptr<model::Model> model_;
  std::vector<float> logits_;  // logits, or an encoder's hidden states
  uint64_t rng_ = 0x2545F4914F6CDD1DULL;
  // Decode steps read what a server's sampling would read back (engine/device_sampling.h): the
  // best kBenchBestLogits logits of each row, or (0) whole rows.
  int gen_best_k_ = 0;
};

}  // namespace hearth::engine
