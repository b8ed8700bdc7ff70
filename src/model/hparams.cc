#include "model/hparams.h"

#include <cmath>

#include "util/error.h"

namespace hearth::model {

namespace {

// Generous bounds that no real model reaches; past them a value is corruption, not a model, and
// would only make the loader allocate absurd buffers.
constexpr int64_t kMaxDim = int64_t{1} << 20;
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxContext = int64_t{1} << 24;

[[noreturn]] void bad_key(const gguf::File& f, const std::string& key, const std::string& why) {
  throw Error(ErrorCode::corrupt, f.path() + ": key '" + key + "' " + why);
}

int64_t positive(const gguf::File& f, const std::string& key, int64_t v, int64_t max) {
  if (v <= 0 || v > max) {
    bad_key(f, key, "= " + std::to_string(v) + " is out of range (1.." + std::to_string(max) + ")");
  }
  return v;
}

}  // namespace

HParams read_hparams(const gguf::File& f, const std::string& arch, ops::RopeMode rope_mode,
                     Norm norm) {
  HParams hp;
  hp.arch = arch;
  const std::string p = arch + ".";
  auto req = [&](const char* name, int64_t max) {
    const std::string key = p + name;
    return positive(f, key, f.get_i64(key), max);
  };
  auto opt = [&](const char* name, int64_t def, int64_t max) {
    const std::string key = p + name;
    return positive(f, key, f.get_i64_or(key, def), max);
  };
  hp.n_ctx_train = req("context_length", kMaxContext);
  hp.n_embd = req("embedding_length", kMaxDim);
  hp.n_layer = req("block_count", kMaxLayers);
  hp.n_ff = req("feed_forward_length", kMaxDim);
  hp.n_head = static_cast<int>(req("attention.head_count", 4096));
  hp.n_head_kv = static_cast<int>(opt("attention.head_count_kv", hp.n_head, 4096));
  if (hp.n_head % hp.n_head_kv != 0) {
    bad_key(f, p + "attention.head_count_kv",
            "= " + std::to_string(hp.n_head_kv) + " does not divide " + p +
                "attention.head_count = " + std::to_string(hp.n_head));
  }
  const int64_t default_head_dim = hp.n_embd % hp.n_head == 0 ? hp.n_embd / hp.n_head : 0;
  if (default_head_dim == 0 && f.find(p + "attention.key_length") == nullptr) {
    bad_key(f, p + "attention.key_length",
            "is missing and " + p + "embedding_length is not a multiple of the head count");
  }
  hp.head_dim_k = opt("attention.key_length", default_head_dim, 65536);
  hp.head_dim_v = opt("attention.value_length", hp.head_dim_k, 65536);

  const bool layer = norm == Norm::layer;
  const std::string eps_key =
      p + (layer ? "attention.layer_norm_epsilon" : "attention.layer_norm_rms_epsilon");
  float& eps = layer ? hp.norm_eps : hp.rms_eps;
  eps = f.get_f32(eps_key);
  if (!(eps > 0.0f && eps < 1.0f)) {
    bad_key(f, eps_key, "= " + std::to_string(eps) + " is not in (0, 1)");
  }

  hp.rope.mode = rope_mode;
  hp.rope.n_dims = static_cast<int>(opt("rope.dimension_count", hp.head_dim_k, 65536));
  if (hp.rope.n_dims > hp.head_dim_k || hp.rope.n_dims % 2 != 0) {
    bad_key(f, p + "rope.dimension_count",
            "= " + std::to_string(hp.rope.n_dims) + " must be even and at most the head size " +
                std::to_string(hp.head_dim_k));
  }
  const std::string base_key = p + "rope.freq_base";
  hp.rope.freq_base = f.get_f32_or(base_key, 10000.0f);
  if (!(hp.rope.freq_base > 1.0f) || !std::isfinite(hp.rope.freq_base)) {
    bad_key(f, base_key, "= " + std::to_string(hp.rope.freq_base) + " must be a number above 1");
  }

  hp.rope_scaling = f.get_string_or(p + "rope.scaling.type", "none");
  const std::string factor_key = p + "rope.scaling.factor";
  float factor = f.get_f32_or(factor_key, 0.0f);
  if (factor == 0.0f) factor = f.get_f32_or(p + "rope.scale_linear", 0.0f);  // older files
  if (hp.rope_scaling == "none" || hp.rope_scaling.empty()) {
    hp.rope_scaling = "none";
    if (factor > 0.0f && factor != 1.0f && f.find(p + "rope.scaling.type") == nullptr) {
      hp.rope_scaling = "linear";  // rope.scale_linear without a type
    }
  }
  if (hp.rope_scaling != "none") {
    if (!(factor >= 1.0f) || !std::isfinite(factor)) {
      bad_key(f, factor_key, "= " + std::to_string(factor) + " must be at least 1 for " +
                                 hp.rope_scaling + " RoPE scaling");
    }
    hp.rope.freq_scale = 1.0f / factor;
  }
  if (hp.rope_scaling == "yarn") {
    hp.rope.ext_factor = 1.0f;
    hp.rope.n_ctx_orig = static_cast<int>(
        opt("rope.scaling.original_context_length", hp.n_ctx_train, kMaxContext));
  } else if (hp.rope_scaling != "none" && hp.rope_scaling != "linear") {
    throw Error(ErrorCode::unsupported, f.path() + ": RoPE scaling type '" + hp.rope_scaling +
                                            "' (key '" + p + "rope.scaling.type') is not supported");
  }
  return hp;
}

}  // namespace hearth::model
