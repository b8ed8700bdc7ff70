#include "engine/model_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "engine/device_sampling.h"
#include "gguf/gguf_file.h"
#include "model/batch.h"
#include "model/compute_backend.h"
#include "model/kv_cache.h"
#include "util/error.h"

namespace hearth::engine {
namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// xorshift64: random token ids, as llama-bench uses; a forward pass's cost does not depend on them.
int32_t next_token(uint64_t& state, int64_t n_vocab) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return static_cast<int32_t>(state % static_cast<uint64_t>(n_vocab));
}

}  // namespace

int64_t BenchResult::avg_ns() const {
  if (samples_ns.empty()) return 0;
  int64_t sum = 0;
  for (int64_t v : samples_ns) sum += v;
  return sum / static_cast<int64_t>(samples_ns.size());
}

std::string BenchResult::test_name() const {
  if (embed) return "embed" + std::to_string(n_prompt) + " x" + std::to_string(n_parallel);
  std::string name = n_prompt > 0 ? "pp" + std::to_string(n_prompt) : "tg" + std::to_string(n_gen);
  if (n_prompt == 0 && n_parallel > 1) name += " x" + std::to_string(n_parallel);
  if (n_depth > 0) name += " @ d" + std::to_string(n_depth);
  return name;
}

ModelBench::ModelBench(const std::string& path, const model::Placement& placement)
    : model_(model::load_model(gguf::File::open(path), placement)),
      gen_best_k_(best_logits_on(*model_) ? kBenchBestLogits : 0) {}

uint64_t ModelBench::weight_bytes_per_token() const {
  const gguf::File& f = model_->file();
  const std::string arch = model_->hparams().arch + ".";
  const uint64_t n_expert = static_cast<uint64_t>(std::max<int64_t>(f.get_i64_or(arch + "expert_count", 0), 0));
  const uint64_t n_used = static_cast<uint64_t>(std::max<int64_t>(f.get_i64_or(arch + "expert_used_count", 0), 0));
  uint64_t total = 0;
  for (const auto& t : f.tensors()) {
    if (t.name == "token_embd.weight") {
      total += t.n_bytes / static_cast<uint64_t>(std::max<int64_t>(t.n_rows(), 1));
    } else if (n_expert > 0 && n_used <= n_expert && t.name.find("_exps.") != std::string::npos) {
      total += t.n_bytes / n_expert * n_used;  // only the chosen experts' matrices are read
    } else {
      total += t.n_bytes;
    }
  }
  return total;
}

uint64_t ModelBench::cache_bytes_per_step(const BenchSpec& spec) const {
  if (spec.n_gen <= 0 || !model_->causal()) return 0;
  const int64_t positions = int64_t{spec.n_depth} + (spec.n_gen + 1) / 2;
  uint64_t total = 0;
  for (const uint64_t layer : model::kv_cache_bytes_by_layer(model_->file(), positions, std::max(spec.n_parallel, 1),
                                                             model::KvCache::parse_type(spec.kv_cache_type),
                                                             spec.n_batch)) {
    total += layer;
  }
  return total;
}

int64_t ModelBench::run_prompt(int n, int n_batch, model::KvCache& cache, int start) {
  model::Batch batch;
  const int64_t n_vocab = model_->n_vocab();
  logits_.resize(static_cast<size_t>(n_vocab));
  int64_t t0 = now_ns();
  for (int first = start; first < start + n; first += n_batch) {
    batch.clear();
    int end = std::min(start + n, first + n_batch);
    for (int p = first; p < end; ++p) {
      batch.add(next_token(rng_, n_vocab), p, 0, p == end - 1);
    }
    model_->forward(batch, cache, logits_.data());
  }
  return now_ns() - t0;
}

int64_t ModelBench::run_gen(int n, int n_parallel, model::KvCache& cache, int start,
                            const std::function<void()>& between_steps) {
  model::Batch batch;
  const int64_t n_vocab = model_->n_vocab();
  logits_.resize(static_cast<size_t>(n_parallel * (gen_best_k_ > 0 ? ops::top_logits_width(gen_best_k_) : n_vocab)));
  int64_t ns = 0;
  for (int p = start; p < start + n; ++p) {
    batch.clear();
    for (int s = 0; s < n_parallel; ++s) batch.add(next_token(rng_, n_vocab), p, s, true);
    const int64_t t0 = now_ns();
    if (gen_best_k_ > 0) {
      model_->forward_best(batch, cache, gen_best_k_, logits_.data());
    } else {
      model_->forward(batch, cache, logits_.data());
    }
    ns += now_ns() - t0;
    if (between_steps) between_steps();
  }
  return ns;
}

// All rows of n_inputs sequences of n tokens in one pass, every row's hidden state read back (mean
// pooling's need).
int64_t ModelBench::run_embed(int n, int n_inputs, model::KvCache& cache) {
  model::Batch batch;
  const int64_t n_vocab = model_->n_vocab();
  logits_.resize(static_cast<size_t>(int64_t{n} * n_inputs * model_->hparams().n_embd));
  for (int s = 0; s < n_inputs; ++s) {
    for (int p = 0; p < n; ++p) batch.add(next_token(rng_, n_vocab), p, s, true);
  }
  int64_t t0 = now_ns();
  model_->forward_hidden(batch, cache, logits_.data());
  return now_ns() - t0;
}

BenchResult ModelBench::run(const BenchSpec& spec, const std::function<void()>& before_timed,
                            const std::function<void()>& between_steps) {
  BenchResult res;
  res.n_prompt = spec.n_prompt;
  res.n_gen = spec.n_prompt > 0 ? 0 : spec.n_gen;
  res.embed = spec.n_prompt > 0 && !model_->causal();
  if (spec.n_prompt <= 0 && !model_->causal()) {
    throw Error(ErrorCode::unsupported, "an embedding model has no generation to measure");
  }
  if (res.embed) {
    res.n_parallel = std::max(spec.n_parallel, 1);
    auto cache = model_->make_cache(spec.n_prompt, res.n_parallel, gguf::GgmlType::F32);
    for (int r = -1; r < spec.reps; ++r) {  // r = -1 is the warm-up
      if (r == 0 && before_timed) before_timed();
      const int64_t ns = run_embed(spec.n_prompt, res.n_parallel, cache);
      if (r < 0) continue;
      res.samples_ns.push_back(ns);
      res.samples_ts.push_back(static_cast<double>(spec.n_prompt) * res.n_parallel / (static_cast<double>(ns) / 1e9));
    }
    return finish(res);
  }
  const int n_par = spec.n_prompt > 0 ? 1 : std::max(spec.n_parallel, 1);
  res.n_parallel = n_par;
  res.n_depth = std::max(spec.n_depth, 0);
  const int n = spec.n_prompt > 0 ? spec.n_prompt : spec.n_gen;
  const int depth = res.n_depth;
  // Every repetition runs positions [depth, depth + n) again: a sliding-window ring must still
  // hold the window before depth after n more positions, so it is sized for passes of n.
  auto cache = model_->make_cache(depth + n, n_par, model::KvCache::parse_type(spec.kv_cache_type),
                                  std::max(spec.n_batch, n));
  if (depth > 0) {
    run_prompt(depth, std::max(spec.n_batch, 1), cache);
    for (int s = 1; s < n_par; ++s) cache.copy_prefix(0, s, depth);
  }
  for (int r = -1; r < spec.reps; ++r) {  // r = -1 is the warm-up
    if (r == 0 && before_timed) before_timed();
    int64_t ns = spec.n_prompt > 0 ? run_prompt(n, std::max(spec.n_batch, 1), cache, depth)
                                   : run_gen(n, n_par, cache, depth,
                                             r < 0 ? std::function<void()>{} : between_steps);
    if (r < 0) continue;
    res.samples_ns.push_back(ns);
    res.samples_ts.push_back(static_cast<double>(n) * n_par / (static_cast<double>(ns) / 1e9));
  }
  return finish(res);
}

BenchResult ModelBench::finish(BenchResult res) {
  double sum = 0;
  for (double v : res.samples_ts) sum += v;
  res.avg_ts = sum / static_cast<double>(res.samples_ts.size());
  double var = 0;
  for (double v : res.samples_ts) var += (v - res.avg_ts) * (v - res.avg_ts);
  res.stddev_ts = res.samples_ts.size() > 1
                      ? std::sqrt(var / static_cast<double>(res.samples_ts.size() - 1))
                      : 0.0;
  return res;
}

}  // namespace hearth::engine
