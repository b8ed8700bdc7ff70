// `hearth bench MODEL [-p 512] [-n 128] [-t THREADS] [-r REPS] [--parallel N] [-o md|json] [--memory]`: prompt
// processing and generation speed measured in-process, printed like llama-bench (markdown table,
// or a JSON array with llama-bench's field names so scripts written for it read ours). With
// --memory it first measures this machine's read bandwidth and shows decode speed as a fraction
// of the bandwidth limit (bytes a decode step reads, weights and KV cache, / bandwidth);
// --memory-interleaved measures that bandwidth between the decode steps instead.
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/run_local.h"
#include "cli/verbs.h"
#include "engine/model_bench.h"
#include "gguf/ggml_type.h"
#include "store/manifest.h"
#include "store/quantize.h"
#include "store/store.h"
#include "model/kv_cache.h"
#include "util/cpu_features.h"
#include "util/env.h"
#include "util/error.h"
#include "util/memory_bandwidth.h"
#include "util/thread_pool.h"

namespace hearth::cli {
namespace {

struct BenchFlags {
  std::string model;
  std::vector<int> n_prompt{512};
  std::vector<int> n_gen{128};
  std::vector<int> n_depth{0};
  std::string cache_type;  // llama-bench's -ctk/-ctv, one type for both; empty: the environment's
  std::vector<int> threads;
  int reps = 5;
  int n_batch = 512;
  std::vector<int> n_parallel{1};
  std::string output = "md";
  bool memory = false;
  bool memory_interleaved = false;  // implies memory
  std::string gpu = "vulkan";  // the backend --num-gpu layers go to
  int num_gpu = 0;             // layers on it (and the head when > 0); >= the layer count: all
};

std::string model_path(const std::string& model) {
  if (is_gguf_path(model)) return model;
  store::Store st = store::Store::open_default();
  const store::Manifest m = st.read_manifest(st.resolve_existing(model));
  const store::Layer* layer = m.find_layer(store::kMediaModel);
  if (layer == nullptr) throw Error(ErrorCode::not_found, "model '" + model + "' has no GGUF layer");
  return st.blob_path(layer->digest);
}

std::string human_size(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1ull << 30));
  return buf;
}

std::string human_params(int64_t n) {
  char buf[32];
  if (n >= 1000000000) std::snprintf(buf, sizeof buf, "%.2f B", n / 1e9);
  else std::snprintf(buf, sizeof buf, "%.2f M", n / 1e6);
  return buf;
}

void run_bench(const BenchFlags& f) {
  // Without -k, the cache `hearth serve` would make: HEARTH_KV_CACHE_TYPE, else
  // OLLAMA_KV_CACHE_TYPE, else f16. (A fixed f16 default once made runs under
  // HEARTH_KV_CACHE_TYPE=q8_0 measure the f16 cache unnoticed.)
  // An unknown type fails before the model loads; a known one is reported as llama-bench
  // names it (q8_0 for Q8_0).
  const std::string cache_type = gguf::type_name(
      model::KvCache::parse_type(f.cache_type.empty() ? env_value("HEARTH_KV_CACHE_TYPE") : f.cache_type));
  const std::string path = model_path(f.model);
  std::vector<int> threads = f.threads;
  if (threads.empty()) threads.push_back(cpu_physical_cores());

  model::Placement placement;
  if (f.num_gpu > 0) placement = {"cpu", f.gpu, f.num_gpu};
  engine::ModelBench bench(path, placement);
  const std::string backend = bench.model().backend_description();
  const auto& file = bench.model().file();
  const std::string arch = bench.model().hparams().arch;
  const std::string ftype = file.find("general.file_type") != nullptr
                                ? store::file_type_name(file.get_u32("general.file_type"))
                                : "?";
  const uint64_t per_token = bench.weight_bytes_per_token();
  const bool encoder = !bench.model().causal();  // embeddings only: embed tests, no tg

  nlohmann::json out = nlohmann::json::array();
  const bool md = f.output != "json";
  if (md) {
    std::printf("| model | size | params | backend | threads | test | t/s |%s\n",
                f.memory ? " % of bandwidth |" : "");
    std::printf("| --- | ---: | ---: | --- | ---: | ---: | ---: |%s\n", f.memory ? " ---: |" : "");
  }
  for (int t : threads) {
    global_thread_pool(t);
    double bw_gbps = 0;
    if (f.memory) {
      BandwidthResult bw = measure_read_bandwidth(size_t{1} << 30, 5, t);
      bw_gbps = bw.best_gbps;
      if (bw.bytes == 0) {
        std::fprintf(stderr, "memory read bandwidth: cannot allocate 1 GiB to measure it\n");
      } else {
        std::fprintf(stderr, "memory read bandwidth, %d thread(s): %.1f GB/s (best of 5, 1 GiB)\n",
                     t, bw_gbps);
      }
    }
    std::vector<engine::BenchSpec> specs;
    for (int d : f.n_depth) {
      for (int p : f.n_prompt) {
        if (p <= 0) continue;
        engine::BenchSpec s{p, 0, f.reps, f.n_batch};
        s.n_depth = d;
        s.kv_cache_type = cache_type;
        if (encoder) {  // embed<p> x<N>: N inputs of p tokens per forward pass
          for (int np : f.n_parallel) {
            s.n_parallel = np;
            specs.push_back(s);
          }
          continue;
        }
        specs.push_back(s);
      }
      for (int g : f.n_gen) {
        if (g <= 0 || encoder) continue;
        for (int np : f.n_parallel) {
          engine::BenchSpec s{0, g, f.reps, f.n_batch};
          s.n_parallel = np;
          s.n_depth = d;
          s.kv_cache_type = cache_type;
          specs.push_back(s);
        }
      }
    }
    for (const auto& spec : specs) {
      // A shared machine's bandwidth can change by half within a minute (a cloud VM: 45 to 81
      // GB/s), and a depth fill takes minutes: a tg test is set against the mean of probes taken
      // just before and just after its timed runs.
      const bool bracket = spec.n_gen > 0 && bw_gbps > 0;
      double before = 0;
      // --memory-interleaved: one read of 256 MiB (several ms at tens of GB/s; a 1.5B model's step
      // reads ~1 GB) after each timed step, so the limit comes from the same seconds as the steps.
      // The read leaves the caches holding probe data: a model that fits in L3 no longer decodes
      // from cache; one far larger (what the fraction is for) reads its weights from memory either
      // way.
      std::unique_ptr<InterleavedProbe> probe;
      if (bracket && f.memory_interleaved)
        probe = std::make_unique<InterleavedProbe>(size_t{256} << 20, t);
      std::function<void()> between_steps;
      if (probe != nullptr && probe->ok()) between_steps = [&] { probe->read(); };
      engine::BenchResult r = bench.run(
          spec,
          [&] {
            if (bracket) before = measure_read_bandwidth(size_t{1} << 30, 3, t).best_gbps;
          },
          between_steps);
      double test_gbps = bw_gbps;
      if (bracket) {
        const double after = measure_read_bandwidth(size_t{1} << 30, 3, t).best_gbps;
        if (before > 0 && after > 0) {
          test_gbps = (before + after) / 2;
          std::fprintf(stderr, "memory read bandwidth around %s: %.1f before, %.1f after (GB/s)\n",
                       r.test_name().c_str(), before, after);
        }
      }
      if (probe != nullptr && probe->reads() > 0) {
        test_gbps = probe->rate_gbps();
        std::fprintf(stderr,
                     "memory read bandwidth interleaved with %s: %.1f GB/s (%d reads of %zu MiB)\n",
                     r.test_name().c_str(), test_gbps, probe->reads(), probe->bytes() >> 20);
      }
      std::string limit;
      double fraction = 0;
      if (spec.n_gen > 0 && test_gbps > 0) {
        // Weights are read once per step, whatever the number of sequences in it; each sequence
        // reads its own cache.
        const double step_bytes = static_cast<double>(per_token + bench.cache_bytes_per_step(spec));
        fraction = r.avg_ts / r.n_parallel * step_bytes / (test_gbps * 1e9);
        char buf[32];
        std::snprintf(buf, sizeof buf, " %.0f%% |", fraction * 100);
        limit = buf;
      } else if (f.memory) {
        limit = " |";
      }
      if (md) {
        std::printf("| %s %s %s | %s | %s | %s | %d | %s | %.2f ± %.2f |%s\n", arch.c_str(),
                    human_params(bench.model().n_params()).c_str(), ftype.c_str(),
                    human_size(file.file_size()).c_str(),
                    human_params(bench.model().n_params()).c_str(), backend.c_str(), t,
                    r.test_name().c_str(), r.avg_ts, r.stddev_ts, limit.c_str());
        if (r.embed) std::fprintf(stderr, "%s: %.2f embeddings/s\n", r.test_name().c_str(), r.avg_ts / r.n_prompt);
        std::fflush(stdout);
      } else {
        nlohmann::json j = {{"model_filename", path},
                            {"model_type", arch + " " + ftype},
                            {"model_size", file.file_size()},
                            {"model_n_params", bench.model().n_params()},
                            {"backends", backend},
                            {"cpu_tier", cpu_tier_name(cpu_tier())},
                            {"n_threads", t},
                            {"n_batch", f.n_batch},
                            {"n_prompt", r.n_prompt},
                            {"n_gen", r.n_gen},
                            {"n_depth", r.n_depth},
                            {"type_k", cache_type},
                            {"type_v", cache_type},
                            {"n_parallel", r.n_parallel},
                            {"avg_ns", r.avg_ns()},
                            {"samples_ns", r.samples_ns},
                            {"avg_ts", r.avg_ts},
                            {"stddev_ts", r.stddev_ts},
                            {"samples_ts", r.samples_ts}};
        if (test_gbps > 0) {
          j["bandwidth_gbps"] = test_gbps;
          if (spec.n_gen > 0)
            j["bandwidth_method"] =
                probe != nullptr && probe->reads() > 0 ? "interleaved" : "bracket";
          if (spec.n_gen > 0) j["bandwidth_fraction"] = fraction;
        }
        out.push_back(j);
      }
    }
  }
  if (!md) std::printf("%s\n", out.dump(2).c_str());
}

}  // namespace

void add_bench_verb(CLI::App& app) {
  auto f = std::make_shared<BenchFlags>();
  auto* cmd = app.add_subcommand("bench", "Measure prompt processing and generation speed");
  cmd->add_option("model", f->model, "GGUF file or model name")->required();
  cmd->add_option("-p,--n-prompt", f->n_prompt, "Prompt lengths to test (0 skips)")->delimiter(',');
  cmd->add_option("-n,--n-gen", f->n_gen, "Generation lengths to test (0 skips)")->delimiter(',');
  cmd->add_option("-k,--cache-type", f->cache_type, "KV cache type: f16, q8_0, q4_0 or f32 (llama-bench's -ctk/-ctv; default: HEARTH_KV_CACHE_TYPE, else f16)")
      ->check(CLI::IsMember({"f16", "q8_0", "q4_0", "f32"}, CLI::ignore_case));  // as KvCache::parse_type
  cmd->add_option("-d,--n-depth", f->n_depth, "Tokens already in the cache when a test runs (pp512 @ d4096)")
      ->delimiter(',')
      ->check(CLI::Range(0, 1 << 24));
  cmd->add_option("-t,--threads", f->threads, "Thread counts (default: physical cores)")->delimiter(',');
  cmd->add_option("-r,--repetitions", f->reps, "Repetitions of each test")->check(CLI::Range(1, 1000));
  cmd->add_option("-b,--batch-size", f->n_batch, "Prompt tokens per forward pass")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--parallel", f->n_parallel,
                  "Sequences decoded at once in tg tests (one row each per step; t/s counts all); "
                  "for an embedding model, inputs per forward pass")
      ->delimiter(',')
      ->check(CLI::Range(1, 64));
  cmd->add_option("-o,--output", f->output, "Output format: md or json")->check(CLI::IsMember({"md", "json"}));
  cmd->add_flag("--memory", f->memory, "Measure memory bandwidth and show decode as a fraction of it");
  cmd->add_flag(
      "--memory-interleaved", f->memory_interleaved,
      "As --memory, but measure the bandwidth between decode steps (untimed), for machines whose "
      "bandwidth changes within seconds (the reads empty the CPU caches between steps)");
  cmd->add_option("-g,--num-gpu", f->num_gpu,
                  "Layers on the GPU backend (the last ones, and the output head), as Ollama's num_gpu; 0: CPU only")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--gpu", f->gpu, "The GPU backend: vulkan (default device) or vulkan:N (device N, software ones too)");
  cmd->callback([f] {
    if (f->memory_interleaved) f->memory = true;
    run_bench(*f);
  });
}

}  // namespace hearth::cli
