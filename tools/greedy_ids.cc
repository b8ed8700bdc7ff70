// greedy-ids: the token ids a model generates greedily after a prompt given as ids, for checking
// Hearth against other engines on the same file (their greedy tools print ids the same way):
//   greedy-ids [--backend cpu|cpu-ref|vulkan:N] [--logits] MODEL.gguf N_PREDICT ID ID ...
// prints "ids: a b c ..."; --logits first prints the logits after the prompt, one per line.
// No BOS is added; generation stops early only at an end-of-generation token.
// HEARTH_NUM_THREAD, HEARTH_KV_CACHE_TYPE and HEARTH_GPU apply as for `hearth run`.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/runner.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "util/error.h"

int main(int argc, char** argv) {
  hearth::engine::LoadOptions o;
  o.num_ctx = 2048;
  bool logits = false;
  int a = 1;
  for (; a < argc && argv[a][0] == '-'; ++a) {
    const std::string flag = argv[a];
    if (flag == "--logits") {
      logits = true;
    } else if (flag == "--backend" && a + 1 < argc) {
      o.placement.backend = argv[++a];
    } else {
      break;
    }
  }
  if (argc - a < 3) {
    std::fprintf(stderr, "usage: greedy-ids [--backend NAME] [--logits] MODEL.gguf N_PREDICT ID [ID ...]\n");
    return 2;
  }
  try {
    auto runner = hearth::engine::Runner::load(argv[a], o);
    hearth::engine::CompletionRequest r;
    for (int i = a + 2; i < argc; ++i) r.prompt.push_back(static_cast<int32_t>(std::atol(argv[i])));
    if (logits) {
      auto m = hearth::model::load_model(hearth::gguf::File::open(argv[a]), o.placement);
      hearth::model::KvCache cache = m->make_cache(static_cast<int64_t>(r.prompt.size()), 1, hearth::gguf::GgmlType::F16);
      hearth::model::Batch b;
      for (size_t i = 0; i < r.prompt.size(); ++i) b.add(r.prompt[i], static_cast<int32_t>(i), 0, i + 1 == r.prompt.size());
      std::vector<float> out(static_cast<size_t>(m->n_vocab()));
      m->forward(b, cache, out.data());
      for (float v : out) std::printf("%.6f\n", v);
    }
    r.num_predict = std::atoi(argv[a + 1]);
    r.sampling.temperature = 0.0f;
    const hearth::engine::CompletionResult res = runner->complete(r);
    std::printf("ids:");
    for (size_t i = r.prompt.size(); i < res.context.size(); ++i) std::printf(" %d", res.context[i]);
    std::printf("\n");
  } catch (const hearth::Error& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return 1;
  }
  return 0;
}
