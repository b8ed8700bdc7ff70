#include "api/options.h"

#include <cmath>
#include <limits>

#include "util/error.h"

namespace hearth::api {

namespace {

Error type_error(const std::string& key, const char* type) {
  return Error(ErrorCode::invalid_argument,
               "option \"" + key + "\" must be of type " + std::string(type));
}

int64_t as_integer(const std::string& key, const Json& v) {
  // JSON numbers are accepted for integers and truncated, as Ollama does.
  if (v.is_number_integer() || v.is_number_unsigned()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      throw type_error(key, "integer");
    }
    return v.get<int64_t>();
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 9.2e18) throw type_error(key, "integer");
    return static_cast<int64_t>(d);
  }
  throw type_error(key, "integer");
}

int as_int(const std::string& key, const Json& v) {
  int64_t x = as_integer(key, v);
  if (x > std::numeric_limits<int>::max()) return std::numeric_limits<int>::max();
  if (x < std::numeric_limits<int>::min()) return std::numeric_limits<int>::min();
  return static_cast<int>(x);
}

float as_float(const std::string& key, const Json& v) {
  if (!v.is_number()) throw type_error(key, "float");
  double d = v.get<double>();
  if (!std::isfinite(d)) throw type_error(key, "float");
  return static_cast<float>(d);
}

bool as_bool(const std::string& key, const Json& v) {
  if (!v.is_boolean()) throw type_error(key, "boolean");
  return v.get<bool>();
}

std::vector<std::string> as_strings(const std::string& key, const Json& v) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
    return out;
  }
  if (!v.is_array()) throw type_error(key, "array of strings");
  for (const auto& s : v) {
    if (!s.is_string()) throw type_error(key, "array of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

}  // namespace

Options Options::parse(const Json& obj, std::vector<std::string>* ignored) {
  Options o;
  if (obj.is_null()) return o;
  if (!obj.is_object()) {
    throw Error(ErrorCode::invalid_argument, "options must be a JSON object");
  }
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    if (v.is_null()) continue;
    if (k == "num_ctx") o.num_ctx = as_int(k, v);
    else if (k == "num_batch") o.num_batch = as_int(k, v);
    else if (k == "num_gpu") o.num_gpu = as_int(k, v);
    else if (k == "main_gpu") o.main_gpu = as_int(k, v);
    else if (k == "num_thread") o.num_thread = as_int(k, v);
    else if (k == "use_mmap") o.use_mmap = as_bool(k, v);
    else if (k == "num_predict") o.num_predict = as_int(k, v);
    else if (k == "top_k") o.top_k = as_int(k, v);
    else if (k == "repeat_last_n") o.repeat_last_n = as_int(k, v);
    else if (k == "num_keep") o.num_keep = as_int(k, v);
    else if (k == "seed") o.seed = as_integer(k, v);
    else if (k == "temperature") o.temperature = as_float(k, v);
    else if (k == "top_p") o.top_p = as_float(k, v);
    else if (k == "min_p") o.min_p = as_float(k, v);
    else if (k == "typical_p") o.typical_p = as_float(k, v);
    else if (k == "repeat_penalty") o.repeat_penalty = as_float(k, v);
    else if (k == "presence_penalty") o.presence_penalty = as_float(k, v);
    else if (k == "frequency_penalty") o.frequency_penalty = as_float(k, v);
    else if (k == "stop") o.stop = as_strings(k, v);
    else if (ignored != nullptr) ignored->push_back(k);
  }
  return o;
}

void Options::overlay(const Options& t) {
#define HEARTH_OVERLAY(f) \
  if (t.f) f = t.f;
  HEARTH_OVERLAY(num_ctx)
  HEARTH_OVERLAY(num_batch)
  HEARTH_OVERLAY(num_gpu)
  HEARTH_OVERLAY(main_gpu)
  HEARTH_OVERLAY(num_thread)
  HEARTH_OVERLAY(use_mmap)
  HEARTH_OVERLAY(num_predict)
  HEARTH_OVERLAY(top_k)
  HEARTH_OVERLAY(repeat_last_n)
  HEARTH_OVERLAY(num_keep)
  HEARTH_OVERLAY(seed)
  HEARTH_OVERLAY(temperature)
  HEARTH_OVERLAY(top_p)
  HEARTH_OVERLAY(min_p)
  HEARTH_OVERLAY(typical_p)
  HEARTH_OVERLAY(repeat_penalty)
  HEARTH_OVERLAY(presence_penalty)
  HEARTH_OVERLAY(frequency_penalty)
  HEARTH_OVERLAY(stop)
#undef HEARTH_OVERLAY
}

sample::SamplerOptions Options::sampling() const {
  sample::SamplerOptions s;
  if (temperature) s.temperature = *temperature;
  if (top_k) s.top_k = *top_k;
  if (top_p) s.top_p = *top_p;
  if (min_p) s.min_p = *min_p;
  if (typical_p) s.typical_p = *typical_p;
  if (repeat_penalty) s.repeat_penalty = *repeat_penalty;
  if (repeat_last_n) s.repeat_last_n = *repeat_last_n;
  if (presence_penalty) s.presence_penalty = *presence_penalty;
  if (frequency_penalty) s.frequency_penalty = *frequency_penalty;
  if (seed) s.seed = *seed;
  return s;
}

}  // namespace hearth::api
