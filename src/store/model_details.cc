#include "store/model_details.h"

#include <cmath>
#include <cstdio>
#include <map>

#include "store/quantize.h"

namespace hearth::store {

std::string human_number(uint64_t b) {
  // Whole numbers drop their decimals; otherwise one for billions, two for millions.
  auto scaled = [](double n, int decimals, const char* unit) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f%s", n == std::floor(n) ? 0 : decimals, n, unit);
    return std::string(buf);
  };
  const double x = static_cast<double>(b);
  if (b >= 1'000'000'000ull) return scaled(x / 1e9, 1, "B");
  if (b >= 1'000'000ull) return scaled(x / 1e6, 2, "M");
  if (b >= 1'000ull) return scaled(x / 1e3, 0, "K");
  return std::to_string(b);
}

GgufDetails read_gguf_details(const gguf::File& f) {
  GgufDetails d;
  d.architecture = f.get_string_or("general.architecture", "");
  const std::string& a = d.architecture;
  uint64_t count = 0;
  std::map<uint32_t, uint64_t> bytes_by_type;
  for (const auto& t : f.tensors()) {
    count += static_cast<uint64_t>(t.n_elements());
    if (t.n_dims >= 2) bytes_by_type[static_cast<uint32_t>(t.type)] += t.n_bytes;
  }
  d.parameter_count = f.get_u64_or("general.parameter_count", count);
  if (const auto* ft = f.find("general.file_type"); ft != nullptr && ft->as_u64()) {
    d.file_type = file_type_name(static_cast<uint32_t>(*ft->as_u64()));
  } else {
    // No file_type key: name the type holding most of the matrix bytes.
    uint32_t best = 0;
    uint64_t most = 0;
    for (const auto& [t, n] : bytes_by_type) {
      if (n > most) most = n, best = t;
    }
    const auto* g = gguf::type_geometry(best);
    std::string n = g != nullptr ? g->name : "unknown";
    for (auto& c : n) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    d.file_type = n;
  }
  if (!a.empty()) {
    d.context_length = f.get_u64_or(a + ".context_length", 0);
    d.embedding_length = f.get_u64_or(a + ".embedding_length", 0);
    d.has_pooling = f.find(a + ".pooling_type") != nullptr;
    d.has_vision = f.find(a + ".vision.block_count") != nullptr;
  }
  return d;
}

ModelConfig config_from_gguf(const GgufDetails& d) {
  ModelConfig c;
  c.model_format = "gguf";
  c.model_family = d.architecture;
  if (!d.architecture.empty()) c.model_families = {d.architecture};
  c.model_type = human_number(d.parameter_count);
  c.file_type = d.file_type;
  return c;
}

}  // namespace hearth::store
