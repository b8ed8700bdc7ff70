#include "model/arch_helpers.h"

#include <cmath>

#include "util/error.h"

namespace hearth::model {

float positive_f32_key(const gguf::File& file, const std::string& key, float def) {
  const float v = file.get_f32_or(key, def);
  if (!(v > 0.0f) || !std::isfinite(v)) {
    throw Error(ErrorCode::corrupt, file.path() + ": key '" + key + "' = " + std::to_string(v) +
                                        " must be a finite number above 0");
  }
  return v;
}

int64_t positive_i64_key(const gguf::File& file, const std::string& key, int64_t def, int64_t max) {
  const int64_t v = file.get_i64_or(key, def);
  if (v <= 0 || v > max) {
    throw Error(ErrorCode::corrupt, file.path() + ": key '" + key + "' = " + std::to_string(v) +
                                        " is out of range (1.." + std::to_string(max) + ")");
  }
  return v;
}

void bad_key(const gguf::File& file, const std::string& key, const std::string& why) {
  throw Error(ErrorCode::corrupt, file.path() + ": key '" + key + "' " + why);
}

void refuse_unknown_keys(const gguf::File& file, const std::string& arch, const std::set<std::string>& known) {
  const std::string prefix = arch + ".";
  for (const auto& kv : file.metadata()) {
    if (kv.first.rfind(prefix, 0) == 0 && known.count(kv.first.substr(prefix.size())) == 0) {
      throw Error(ErrorCode::unsupported,
                  file.path() + ": key '" + kv.first + "' is not supported by Hearth's " + arch);
    }
  }
}

float gemma_query_scale(const HParams& hp, int64_t n_layer_27b) {
  const int64_t d = hp.n_layer == n_layer_27b ? hp.n_embd / hp.n_head : hp.head_dim_k;
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
}

}  // namespace hearth::model
