#include "quant/type_traits.h"

#include <array>
#include <cstring>

#include "quant/ref/kernels_ref.h"
#include "quant/x86/kernels_x86.h"
#include "util/check.h"

namespace hearth::quant {
namespace {

constexpr int kMaxTypeId = 40;  // one past MXFP4 (39)

struct Table {
  std::array<TypeTraits, kMaxTypeId> entries{};
  std::array<bool, kMaxTypeId> supported{};

  TypeTraits& add(GgmlType t, GgmlType dot_type) {
    const auto id = static_cast<size_t>(t);
    const gguf::TypeGeometry* g = gguf::type_geometry(t);
    HEARTH_CHECK(g != nullptr && id < entries.size());
    TypeTraits& e = entries[id];
    e.type = t;
    e.name = g->name;
    e.block_elems = g->block_elems;
    e.block_bytes = g->block_bytes;
    e.vec_dot_type = dot_type;
    supported[id] = true;
    return e;
  }
};

template <float (*Dot)(int64_t, const void*, const void*)>
void set_dot(TypeTraits& e) {
  e.vec_dot = Dot;
  e.vec_dot_tile = dot_tile_by_rows<Dot>;
}

void fill_ref(Table& t) {
  using G = GgmlType;
  TypeTraits* e;
  e = &t.add(G::F32, G::F32);
  e->to_float = dequantize_f32_ref, e->from_float = quantize_f32_ref, set_dot<dot_f32_f32_ref>(*e);
  e = &t.add(G::F16, G::F32);
  e->to_float = dequantize_f16_ref, e->from_float = quantize_f16_ref, set_dot<dot_f16_f32_ref>(*e);
  e = &t.add(G::BF16, G::F32);
  e->to_float = dequantize_bf16_ref, e->from_float = quantize_bf16_ref, set_dot<dot_bf16_f32_ref>(*e);
  e = &t.add(G::Q4_0, G::Q8_0);
  e->to_float = dequantize_q4_0_ref, e->from_float = quantize_q4_0_ref, set_dot<dot_q4_0_q8_0_ref>(*e);
  e = &t.add(G::Q4_1, G::Q8_1);
  e->to_float = dequantize_q4_1_ref, e->from_float = quantize_q4_1_ref, set_dot<dot_q4_1_q8_1_ref>(*e);
  e = &t.add(G::Q5_0, G::Q8_0);
  e->to_float = dequantize_q5_0_ref, e->from_float = quantize_q5_0_ref, set_dot<dot_q5_0_q8_0_ref>(*e);
  e = &t.add(G::Q5_1, G::Q8_1);
  e->to_float = dequantize_q5_1_ref, e->from_float = quantize_q5_1_ref, set_dot<dot_q5_1_q8_1_ref>(*e);
  e = &t.add(G::Q8_0, G::Q8_0);
  e->to_float = dequantize_q8_0_ref, e->from_float = quantize_q8_0_ref, set_dot<dot_q8_0_q8_0_ref>(*e);
  e = &t.add(G::MXFP4, G::Q8_0);
  e->to_float = dequantize_mxfp4_ref, e->from_float = quantize_mxfp4_ref, set_dot<dot_mxfp4_q8_0_ref>(*e);
  e = &t.add(G::Q8_1, G::Q8_1);
  e->to_float = dequantize_q8_1_ref, e->from_float = quantize_q8_1_ref;
  e = &t.add(G::Q2_K, G::Q8_K);
  e->to_float = dequantize_q2_k_ref, e->from_float = quantize_q2_k_ref, set_dot<dot_q2_k_q8_k_ref>(*e);
  e = &t.add(G::Q3_K, G::Q8_K);
  e->to_float = dequantize_q3_k_ref, e->from_float = quantize_q3_k_ref, set_dot<dot_q3_k_q8_k_ref>(*e);
  e = &t.add(G::Q4_K, G::Q8_K);
  e->to_float = dequantize_q4_k_ref, e->from_float = quantize_q4_k_ref, set_dot<dot_q4_k_q8_k_ref>(*e);
  e = &t.add(G::Q5_K, G::Q8_K);
  e->to_float = dequantize_q5_k_ref, e->from_float = quantize_q5_k_ref, set_dot<dot_q5_k_q8_k_ref>(*e);
  e = &t.add(G::Q6_K, G::Q8_K);
  e->to_float = dequantize_q6_k_ref, e->from_float = quantize_q6_k_ref, set_dot<dot_q6_k_q8_k_ref>(*e);
  e = &t.add(G::Q8_K, G::Q8_K);
  e->to_float = dequantize_q8_k_ref, e->from_float = quantize_q8_k_ref;
}

Table build(CpuTier tier) {
  Table t;
  fill_ref(t);
  if (tier >= CpuTier::avx2) register_avx2_kernels(t.entries.data(), t.entries.size());
  if (tier >= CpuTier::avx512) register_avx512_kernels(t.entries.data(), t.entries.size());
  return t;
}

const Table& table(CpuTier tier) {
  if (tier > cpu_max_tier()) tier = cpu_max_tier();
  static const Table tables[3] = {build(CpuTier::ref),
                                  build(cpu_max_tier() >= CpuTier::avx2 ? CpuTier::avx2 : CpuTier::ref),
                                  build(cpu_max_tier())};
  return tables[static_cast<int>(tier)];
}

}  // namespace

bool is_supported(GgmlType t) {
  const auto id = static_cast<size_t>(t);
  return id < kMaxTypeId && table(CpuTier::ref).supported[id];
}

const TypeTraits& traits(GgmlType t, CpuTier tier) {
  const auto id = static_cast<size_t>(t);
  const Table& tab = table(tier);
  HEARTH_CHECK(id < kMaxTypeId && tab.supported[id]);
  return tab.entries[id];
}

const TypeTraits& traits(GgmlType t) { return traits(t, cpu_tier()); }

void to_chunk_major(const float* src, float* dst, int64_t n) {
  const int64_t blocks = n / 64;
  for (int64_t j = 0; j < 4; ++j) {
    for (int64_t b = 0; b < blocks; ++b) {
      std::memcpy(dst + (j * blocks + b) * 16, src + b * 64 + j * 16, 16 * sizeof(float));
    }
  }
  std::memcpy(dst + blocks * 64, src + blocks * 64, static_cast<size_t>(n - blocks * 64) * sizeof(float));
}

}  // namespace hearth::quant
