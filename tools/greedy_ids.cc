// greedy-ids: the token ids a model generates greedily after a prompt given as ids, for checking
// Hearth against other engines on the same file (their greedy tools print ids the same way):
//   greedy-ids MODEL.gguf N_PREDICT ID ID ...   ->   "ids: a b c ..."
// No BOS is added; generation stops early only at an end-of-generation token.
// HEARTH_NUM_THREAD, HEARTH_KV_CACHE_TYPE and HEARTH_GPU apply as for `hearth run`.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/runner.h"
#include "util/error.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: greedy-ids MODEL.gguf N_PREDICT ID [ID ...]\n");
    return 2;
  }
  try {
    hearth::engine::LoadOptions o;
    o.num_ctx = 2048;
    auto runner = hearth::engine::Runner::load(argv[1], o);
    hearth::engine::CompletionRequest r;
    for (int i = 3; i < argc; ++i) r.prompt.push_back(static_cast<int32_t>(std::atol(argv[i])));
    r.num_predict = std::atoi(argv[2]);
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
