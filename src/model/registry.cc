// general.architecture -> its spec function. An explicit table (not self-registration from static
// initializers, which a static library link would silently drop).

#include <string>
#include <vector>

#include "model/architectures.h"
#include "model/model.h"
#include "util/error.h"

namespace hearth::model {

namespace {

struct Entry {
  const char* arch;
  ArchitectureFn spec;
};

constexpr Entry kArchitectures[] = {
    {"llama", llama_spec},
    {"qwen2", qwen2_spec},
    {"qwen3", qwen3_spec},
    {"qwen3moe", qwen3moe_spec},
    {"deepseek2", deepseek2_spec},
    {"gemma2", gemma2_spec},
    {"gemma3", gemma3_spec},
    {"phi3", phi3_spec},
    {"gpt-oss", gpt_oss_spec},
    {"gptoss", gpt_oss_spec},  // Ollama's name for it (gpt_oss.cc)
    {"bert", bert_spec},
    {"nomic-bert", nomic_bert_spec},
};

}  // namespace

ModelSpec uniform_decoder_spec(const HParams& hp) {
  ModelSpec m;
  m.n_embd = hp.n_embd;
  m.rms_eps = hp.rms_eps;
  LayerSpec l;
  l.attention.n_head = hp.n_head;
  l.attention.n_head_kv = hp.n_head_kv;
  l.attention.head_dim_k = hp.head_dim_k;
  l.attention.head_dim_v = hp.head_dim_v;
  l.attention.rope = hp.rope;
  l.ffn.n_ff = hp.n_ff;
  m.layers.assign(static_cast<size_t>(hp.n_layer), l);
  return m;
}

std::vector<std::string> supported_architectures() {
  std::vector<std::string> out;
  for (const Entry& e : kArchitectures) out.emplace_back(e.arch);
  return out;
}

namespace {
// The spec function of the file's architecture; Error(unsupported) naming the known ones.
ArchitectureFn spec_function(const gguf::File& file) {
  const std::string arch = file.get_string("general.architecture");
  for (const Entry& e : kArchitectures) {
    if (arch == e.arch) return e.spec;
  }
  std::string known;
  for (const Entry& e : kArchitectures) known += std::string(known.empty() ? "" : ", ") + e.arch;
  throw Error(ErrorCode::unsupported, file.path() + ": model architecture '" + arch +
                                          "' is not supported (supported: " + known + ")");
}
}  // namespace

std::unique_ptr<Model> load_model(gguf::File file, const Placement& placement) {
  const ArchitectureFn spec_fn = spec_function(file);
  HParams hp;
  ModelSpec spec = spec_fn(file, hp);
  return std::make_unique<Model>(std::move(file), std::move(hp), std::move(spec), placement);
}

std::vector<int64_t> layer_windows(const gguf::File& file) {
  HParams hp;
  const ModelSpec spec = spec_function(file)(file, hp);
  std::vector<int64_t> out;
  for (const LayerSpec& l : spec.layers) out.push_back(spec.kind == ModelKind::encoder ? 0 : l.attention.window);
  return out;
}

}  // namespace hearth::model
