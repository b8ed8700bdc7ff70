// `hearth bench MODEL`: measures prompt processing and generation speed through the API (so it
// measures what a client sees, server or in-process), over several runs with greedy sampling.
#include <algorithm>
#include <cstdio>

#include "cli/connect.h"
#include "cli/format.h"
#include "cli/verb_text.h"
#include "cli/verbs.h"
#include "util/error.h"

namespace hearth::cli {
namespace {

struct BenchFlags {
  std::string model;
  int prompt_words = 128;
  int num_predict = 64;
  int runs = 3;
  bool json = false;
};

struct RunResult {
  int64_t prompt_tokens = 0, prompt_ns = 0, gen_tokens = 0, gen_ns = 0, load_ns = 0;
  double prompt_rate() const { return prompt_ns > 0 ? prompt_tokens / (prompt_ns / 1e9) : 0; }
  double gen_rate() const { return gen_ns > 0 ? gen_tokens / (gen_ns / 1e9) : 0; }
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

std::string bench_prompt(int run, int words) {
  // Each run starts differently so the server's prompt-prefix cache cannot skip the work.
  static const char* kWords[] = {"the", "river", "carried", "small", "boats", "past",
                                 "old",  "stone", "houses",  "while", "birds", "sang"};
  std::string p = "Run " + std::to_string(run) + ":";
  for (int i = 0; i < words; ++i) p += std::string(" ") + kWords[(i * 7 + run) % 12];
  return p;
}

void add_bench_verb(CLI::App& app) {
  auto f = std::make_shared<BenchFlags>();
  auto* cmd = app.add_subcommand("bench", "Measure prompt and generation speed of a model");
  cmd->add_option("model", f->model, "Model name")->required();
  cmd->add_option("--prompt-words", f->prompt_words, "Words in the prompt")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("-n,--num-predict", f->num_predict, "Tokens to generate per run")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--runs", f->runs, "Number of runs")->check(CLI::Range(1, 1000));
  cmd->add_flag("--json", f->json, "Print the results as JSON");
  cmd->callback([f] {
    auto conn = connect(true);
    std::vector<RunResult> results;
    for (int r = 0; r < f->runs; ++r) {
      Json req = {{"model", f->model},
                  {"prompt", bench_prompt(r, f->prompt_words)},
                  {"raw", true},
                  {"stream", false},
                  {"options", {{"temperature", 0}, {"seed", 42}, {"num_predict", f->num_predict}}}};
      const Json resp = conn->client().post("/api/generate", req);
      RunResult x;
      x.prompt_tokens = resp.value("prompt_eval_count", int64_t{0});
      x.prompt_ns = resp.value("prompt_eval_duration", int64_t{0});
      x.gen_tokens = resp.value("eval_count", int64_t{0});
      x.gen_ns = resp.value("eval_duration", int64_t{0});
      x.load_ns = resp.value("load_duration", int64_t{0});
      results.push_back(x);
    }
    std::vector<double> pr, gr;
    for (const auto& x : results) {
      pr.push_back(x.prompt_rate());
      gr.push_back(x.gen_rate());
    }
    if (f->json) {
      Json out = {{"model", f->model}, {"runs", Json::array()}};
      for (const auto& x : results) {
        out["runs"].push_back({{"prompt_tokens", x.prompt_tokens},
                               {"prompt_tokens_per_s", x.prompt_rate()},
                               {"eval_tokens", x.gen_tokens},
                               {"eval_tokens_per_s", x.gen_rate()},
                               {"load_duration", x.load_ns}});
      }
      out["median_prompt_tokens_per_s"] = median(pr);
      out["median_eval_tokens_per_s"] = median(gr);
      std::printf("%s\n", out.dump(2).c_str());
      return;
    }
    std::vector<std::vector<std::string>> rows;
    char a[32], b[32];
    for (size_t i = 0; i < results.size(); ++i) {
      std::snprintf(a, sizeof a, "%.2f", results[i].prompt_rate());
      std::snprintf(b, sizeof b, "%.2f", results[i].gen_rate());
      rows.push_back({std::to_string(i + 1), std::to_string(results[i].prompt_tokens), a,
                      std::to_string(results[i].gen_tokens), b,
                      go_duration(results[i].load_ns)});
    }
    std::snprintf(a, sizeof a, "%.2f", median(pr));
    std::snprintf(b, sizeof b, "%.2f", median(gr));
    rows.push_back({"median", "", a, "", b, ""});
    std::fputs(format_table({"RUN", "PROMPT TOKENS", "PROMPT TOKENS/S", "EVAL TOKENS",
                             "EVAL TOKENS/S", "LOAD"},
                            rows)
                   .c_str(),
               stdout);
  });
}

}  // namespace hearth::cli
