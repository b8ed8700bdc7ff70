#include "util/env.h"

#include <cstdlib>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <climits>
#include <string>

#include "util/check.h"
#include "util/log.h"

namespace hearth {

const std::vector<EnvVar>& env_vars() {
  static const std::vector<EnvVar> vars = {
      {"HEARTH_HOST", "OLLAMA_HOST", "127.0.0.1:11434", "IP address and port of the server"},
      {"HEARTH_MODELS", "OLLAMA_MODELS", "", "Model store directory (default ~/.hearth/models)"},
      {"HEARTH_KEEP_ALIVE", "OLLAMA_KEEP_ALIVE", "5m", "How long models stay loaded after use"},
      {"HEARTH_NUM_PARALLEL", "OLLAMA_NUM_PARALLEL", "1", "Sequences served at once per model"},
      {"HEARTH_MAX_QUEUE", "OLLAMA_MAX_QUEUE", "512", "Requests that may wait before 503"},
      {"HEARTH_MAX_LOADED_MODELS", "OLLAMA_MAX_LOADED_MODELS", "", "Models loaded at once (unset or 0: 3 per GPU, 3 without one)"},
      {"HEARTH_ORIGINS", "OLLAMA_ORIGINS", "", "Extra allowed CORS origins, comma separated"},
      {"HEARTH_CONTEXT_LENGTH", "OLLAMA_CONTEXT_LENGTH", "", "Default context length (unset or 0: 4096, 32768 or 262144 by GPU memory)"},
      {"HEARTH_DEBUG", "OLLAMA_DEBUG", "", "Show additional debug information"},
      {"HEARTH_NOHISTORY", "OLLAMA_NOHISTORY", "", "Do not keep REPL history"},
      {"HEARTH_NOPRUNE", "OLLAMA_NOPRUNE", "", "Do not prune unused blobs on start-up"},
      {"HEARTH_LOAD_TIMEOUT", "OLLAMA_LOAD_TIMEOUT", "5m", "How long a load may stall"},
      {"HEARTH_API_KEY", nullptr, "", "When set, requests need Authorization: Bearer <key>"},
      {"HEARTH_MAX_MEMORY", nullptr, "", "Memory budget for loaded models in bytes (default: 80% of RAM)"},
      {"HEARTH_KV_CACHE_TYPE", "OLLAMA_KV_CACHE_TYPE", "f16", "KV cache precision: f16, q8_0 (half f16's memory), q4_0 or f32"},
      {"HEARTH_FLASH_ATTENTION", "OLLAMA_FLASH_ATTENTION", "", "Accepted for Ollama's sake and ignored: Hearth always computes attention tiled with an online softmax"},
      {"HEARTH_CPU", nullptr, "", "Pin the CPU kernel tier: ref, avx2 or avx512"},
      {"HEARTH_HUGE_PAGES", nullptr, "1", "Ask for 2 MiB pages for weights and KV caches (0: the system's default pages)"},
      {"HEARTH_REPACK", nullptr, "1", "Repack weights into 16-row panels at load (0: use the file's rows)"},
      {"HEARTH_EXPERTS_IN_PLACE", nullptr, "", "1: read MoE experts from the mapped file instead of copying them (automatic when the model is larger than the available memory)"},
      {"HEARTH_NUM_THREAD", nullptr, "", "Threads for inference (default: physical cores)"},
      {"HEARTH_GPU", nullptr, "", "0 hides every GPU: models run on the CPU only"},
      {"HEARTH_GPU_OVERHEAD", "OLLAMA_GPU_OVERHEAD", "0", "Bytes of GPU memory to leave unused (besides Hearth's own reserve)"},
      {"HEARTH_VULKAN_DEVICE", nullptr, "", "Vulkan device index to run on (the loader's order; default: the first GPU)"},
      {"HEARTH_DEVICE_SAMPLING", nullptr, "", "0: read whole logits rows back from a GPU every step; 1: sample from each row's best logits on every backend, the CPU too (default: on a GPU, when the sampling settings allow it)"},
      {"HEARTH_VULKAN_MATMUL", nullptr, "", "Vulkan matrix products: tiled, reduce or rows (default: tiled for prompts on a GPU, experts' products too; for tests)"},
      {"HEARTH_GO_TEMPLATE", "OLLAMA_GO_TEMPLATE", "true", "Prefer a model's Go TEMPLATE over its GGUF chat_template"},
  };
  return vars;
}

namespace {
const EnvVar& find_var(const char* name) {
  for (const auto& v : env_vars()) {
    if (std::strcmp(v.name, name) == 0) return v;
  }
  std::fprintf(stderr, "undeclared environment variable %s\n", name);
  HEARTH_CHECK(false);
  std::abort();
}

// As Ollama's envconfig.Var: surrounding white space, then quotes (' or "), are dropped, so
// OLLAMA_HOST="0.0.0.0" pasted from a shell profile or a systemd unit still works.
std::string trimmed(const char* s) {
  std::string v = s != nullptr ? s : "";
  const char* kSpace = " \t\n\r\v\f";
  v.erase(0, v.find_first_not_of(kSpace) == std::string::npos ? v.size() : v.find_first_not_of(kSpace));
  v.erase(v.find_last_not_of(kSpace) + 1);
  v.erase(0, v.find_first_not_of("\"'") == std::string::npos ? v.size() : v.find_first_not_of("\"'"));
  v.erase(v.find_last_not_of("\"'") + 1);
  return v;
}

// The HEARTH_* value when it is non-empty after trimming, else the OLLAMA_* one; empty if neither.
std::string raw_value(const EnvVar& v) {
  std::string s = trimmed(std::getenv(v.name));
  if (s.empty() && v.ollama_name != nullptr) s = trimmed(std::getenv(v.ollama_name));
  return s;
}
}  // namespace

std::string env_value(const char* name) {
  const EnvVar& v = find_var(name);
  std::string s = raw_value(v);
  return !s.empty() ? s : std::string(v.default_value);
}

bool env_is_set(const char* name) { return !raw_value(find_var(name)).empty(); }

bool env_flag(const char* name) {
  const std::string v = raw_value(find_var(name));
  if (v.empty()) return false;
  // Go's strconv.ParseBool; anything else that is set counts as true, as in Ollama's Bool.
  for (const char* f : {"0", "f", "F", "false", "FALSE", "False"}) {
    if (v == f) return false;
  }
  return true;
}

uint64_t env_uint(const char* name, uint64_t fallback) {
  const EnvVar& var = find_var(name);
  const std::string v = env_value(name);
  if (v.empty()) return fallback;
  // Go's strconv.ParseUint(v, 10, 64): decimal digits only, no sign, nothing after them, and no
  // more than fits 64 bits. (std::stoull would take "-1", " 8" and the 8 of "8k".)
  uint64_t n = 0;
  bool ok = true;
  for (const char c : v) {
    if (c < '0' || c > '9' || n > (UINT64_MAX - static_cast<uint64_t>(c - '0')) / 10) {
      ok = false;
      break;
    }
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (ok) return n;
  const char* set = !trimmed(std::getenv(var.name)).empty() || var.ollama_name == nullptr ? var.name : var.ollama_name;
  HEARTH_LOG_WARN(std::string("invalid environment variable, using default: ") + set + "='" + v + "', default " +
                  std::to_string(fallback));
  return fallback;
}

int env_count(const char* name, int fallback) {
  return static_cast<int>(std::min<uint64_t>(env_uint(name, static_cast<uint64_t>(std::max(fallback, 0))), INT_MAX));
}

}  // namespace hearth
