#include "quant/packed.h"

#include <cstring>
#include <vector>

#include "quant/fp16.h"
#include "quant/ref/k_unpack.h"
#include "quant/ref/kernels_ref.h"
#include "quant/type_traits.h"
#include "quant/x86/kernels_x86.h"

namespace hearth::quant {
namespace {

constexpr int R = kPanelRows;

template <class B>
const B& block_at(const uint8_t* rows, int64_t row_bytes, int r, int64_t i) {
  return reinterpret_cast<const B*>(rows + r * row_bytes)[i];
}
template <class B>
B& block_at(uint8_t* rows, int64_t row_bytes, int r, int64_t i) {
  return reinterpret_cast<B*>(rows + r * row_bytes)[i];
}

// Q8_0 --------------------------------------------------------------------------------------

uint32_t load_u32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
void store_u32(void* p, uint32_t v) { std::memcpy(p, &v, 4); }

// The pack functions run once per weight at load (a whole model's bytes): they move 4-byte groups
// as words rather than single codes.
void pack_q8_0(const uint8_t* rows, int64_t row_bytes, int64_t n, uint8_t* panel) {
  auto* p = reinterpret_cast<PanelQ8_0*>(panel);
  for (int64_t i = 0; i < n / kQK; ++i) {
    for (int r = 0; r < R; ++r) {
      const auto& b = block_at<BlockQ8_0>(rows, row_bytes, r, i);
      p[i].d[r] = b.d;
      for (int g = 0; g < 8; ++g) store_u32(p[i].qs[g][r], load_u32(b.qs + 4 * g) ^ 0x80808080u);
    }
  }
}

void unpack_q8_0(const uint8_t* panel, int64_t n, uint8_t* rows, int64_t row_bytes) {
  const auto* p = reinterpret_cast<const PanelQ8_0*>(panel);
  for (int64_t i = 0; i < n / kQK; ++i) {
    for (int r = 0; r < R; ++r) {
      auto& b = block_at<BlockQ8_0>(rows, row_bytes, r, i);
      b.d = p[i].d[r];
      for (int e = 0; e < kQK; ++e) b.qs[e] = static_cast<int8_t>(p[i].qs[e / 4][r][e % 4] - 128);
    }
  }
}

int64_t act_q8_0_row_bytes(int64_t n) { return n / kQK * static_cast<int64_t>(sizeof(ActQ8_0)); }

void quantize_act_q8_0(const float* src, void* dst, int64_t n) {
  const auto from_float = traits(GgmlType::Q8_0).from_float;
  auto* a = static_cast<ActQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i) {
    BlockQ8_0 b;
    from_float(src + i * kQK, &b, kQK);
    a[i].d = fp16_to_f32(b.d);
    int32_t sum = 0;
    for (int e = 0; e < kQK; ++e) sum += b.qs[e];
    a[i].neg128_sum = -128 * sum;
    std::memcpy(a[i].qs, b.qs, kQK);
  }
}

// Q4_0, Q5_0 ---------------------------------------------------------------------------------
// A block's qs bytes 4v..4v+3 hold codes 4v+i (low nibbles) and 16+4v+i (high): they move as words.

template <class Block, class Panel>
void pack_nibble_words(const Block& b, Panel& p, int r) {
  for (int v = 0; v < 4; ++v) store_u32(p.qs[v][r], load_u32(b.qs + 4 * v));
  p.d[r] = b.d;
}
template <class Block, class Panel>
void unpack_nibble_words(const Panel& p, int r, Block& b) {
  for (int v = 0; v < 4; ++v) store_u32(b.qs + 4 * v, load_u32(p.qs[v][r]));
  b.d = p.d[r];
}

void pack_q4_0(const uint8_t* rows, int64_t row_bytes, int64_t n, uint8_t* panel) {
  auto* p = reinterpret_cast<PanelQ4_0*>(panel);
  for (int64_t i = 0; i < n / kQK; ++i) {
    for (int r = 0; r < R; ++r) pack_nibble_words(block_at<BlockQ4_0>(rows, row_bytes, r, i), p[i], r);
  }
}

void unpack_q4_0(const uint8_t* panel, int64_t n, uint8_t* rows, int64_t row_bytes) {
  const auto* p = reinterpret_cast<const PanelQ4_0*>(panel);
  for (int64_t i = 0; i < n / kQK; ++i) {
    for (int r = 0; r < R; ++r) unpack_nibble_words(p[i], r, block_at<BlockQ4_0>(rows, row_bytes, r, i));
  }
}

// The block's qh bit e is bit 4 of code e; the panel's byte i bit g is that of code 4g + i.
void pack_q5_0(const uint8_t* rows, int64_t row_bytes, int64_t n, uint8_t* panel) {
  auto* p = reinterpret_cast<PanelQ5_0*>(panel);
  for (int64_t i = 0; i < n / kQK; ++i) {
    for (int r = 0; r < R; ++r) {
      const auto& b = block_at<BlockQ5_0>(rows, row_bytes, r, i);
      pack_nibble_words(b, p[i], r);
      const uint32_t qh = load_u32(b.qh);
      for (int e = 0; e < 4; ++e) {
        uint8_t byte = 0;
        for (int g = 0; g < 8; ++g) byte |= static_cast<uint8_t>(((qh >> (4 * g + e)) & 1u) << g);
        p[i].qh[r][e] = byte;
      }
    }
  }
}

void unpack_q5_0(const uint8_t* panel, int64_t n, uint8_t* rows, int64_t row_bytes) {
  const auto* p = reinterpret_cast<const PanelQ5_0*>(panel);
  for (int64_t i = 0; i < n / kQK; ++i) {
    for (int r = 0; r < R; ++r) {
      auto& b = block_at<BlockQ5_0>(rows, row_bytes, r, i);
      unpack_nibble_words(p[i], r, b);
      uint32_t qh = 0;
      for (int e = 0; e < 4; ++e) {
        for (int g = 0; g < 8; ++g) qh |= static_cast<uint32_t>((p[i].qh[r][e] >> g) & 1u) << (4 * g + e);
      }
      store_u32(b.qh, qh);
    }
  }
}

// Q4_K --------------------------------------------------------------------------------------

void pack_q4_k(const uint8_t* rows, int64_t row_bytes, int64_t n, uint8_t* panel) {
  auto* p = reinterpret_cast<PanelQ4_K*>(panel);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    for (int r = 0; r < R; ++r) {
      const auto& b = block_at<BlockQ4_K>(rows, row_bytes, r, i);
      p[i].d[r] = b.d;
      p[i].dmin[r] = b.dmin;
      for (int k = 0; k < 12; ++k) p[i].scales[k][r] = b.scales[k];
      // Code 32j + x (x < 32) is nibble j % 2 of qs[32 (j / 2) + x] (k_unpack.h).
      for (int j = 0; j < 8; ++j) {
        const uint8_t* src = b.qs + 32 * (j / 2);
        const int shift = 4 * (j % 2);
        for (int v = 0; v < 4; ++v) {
          const uint32_t lo = (load_u32(src + 4 * v) >> shift) & 0x0f0f0f0fu;
          const uint32_t hi = (load_u32(src + 16 + 4 * v) >> shift) & 0x0f0f0f0fu;
          store_u32(p[i].qs[j][v][r], lo | (hi << 4));
        }
      }
    }
  }
}

void unpack_q4_k_panel(const uint8_t* panel, int64_t n, uint8_t* rows, int64_t row_bytes) {
  const auto* p = reinterpret_cast<const PanelQ4_K*>(panel);
  uint8_t q[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    for (int r = 0; r < R; ++r) {
      auto& b = block_at<BlockQ4_K>(rows, row_bytes, r, i);
      b.d = p[i].d[r];
      b.dmin = p[i].dmin[r];
      for (int k = 0; k < 12; ++k) b.scales[k] = p[i].scales[k][r];
      for (int j = 0; j < 8; ++j) {
        for (int v = 0; v < 4; ++v) {
          for (int e = 0; e < 4; ++e) {
            const uint8_t c = p[i].qs[j][v][r][e];
            q[32 * j + 4 * v + e] = c & 0xf;
            q[32 * j + 16 + 4 * v + e] = c >> 4;
          }
        }
      }
      pack_q4_k(q, &b);
    }
  }
}

// Q6_K --------------------------------------------------------------------------------------

void pack_q6_k(const uint8_t* rows, int64_t row_bytes, int64_t n, uint8_t* panel) {
  auto* p = reinterpret_cast<PanelQ6_K*>(panel);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    for (int r = 0; r < R; ++r) {
      const auto& b = block_at<BlockQ6_K>(rows, row_bytes, r, i);
      p[i].d[r] = b.d;
      for (int j = 0; j < 16; ++j) {
        p[i].scales[j][r] = b.scales[j];
        // Codes 16j .. 16j + 15 (k_unpack.h): half h = j / 8, group of 32 gq = (j % 8) / 2, from
        // byte 16 (j % 2) of that group on: low nibbles in ql, top bits in qh.
        const int h = j / 8, gq = (j % 8) / 2, l0 = 16 * (j % 2);
        const uint8_t* ql = b.ql + 64 * h + 32 * (gq & 1) + l0;
        const uint8_t* qh = b.qh + 32 * h + l0;
        uint32_t u[4];  // the 4 codes of group g, one per byte
        for (int g = 0; g < 4; ++g) {
          u[g] = ((load_u32(ql + 4 * g) >> (4 * (gq >> 1))) & 0x0f0f0f0fu) |
                 (((load_u32(qh + 4 * g) >> (2 * gq)) & 0x03030303u) << 4);
        }
        for (int v = 0; v < 2; ++v) store_u32(p[i].ql[j][v][r], (u[v] & 0x0f0f0f0fu) | ((u[v + 2] & 0x0f0f0f0fu) << 4));
        uint32_t top = 0;
        for (int g = 0; g < 4; ++g) top |= ((u[g] >> 4) & 0x03030303u) << (2 * g);
        store_u32(p[i].qh[j][r], top);
      }
    }
  }
}

void unpack_q6_k_panel(const uint8_t* panel, int64_t n, uint8_t* rows, int64_t row_bytes) {
  const auto* p = reinterpret_cast<const PanelQ6_K*>(panel);
  int8_t q[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    for (int r = 0; r < R; ++r) {
      auto& b = block_at<BlockQ6_K>(rows, row_bytes, r, i);
      b.d = p[i].d[r];
      for (int j = 0; j < 16; ++j) {
        b.scales[j] = p[i].scales[j][r];
        for (int e = 0; e < 4; ++e) {
          const uint8_t h = p[i].qh[j][r][e];
          for (int g = 0; g < 4; ++g) {
            const uint8_t low = (p[i].ql[j][g & 1][r][e] >> (4 * (g >> 1))) & 0xf;
            const int u = low | (((h >> (2 * g)) & 3) << 4);
            q[16 * j + 4 * g + e] = static_cast<int8_t>(u - 32);
          }
        }
      }
      pack_q6_k(q, &b);
    }
  }
}

// The specification: unpack the panel to rows and take the ref row dots.
template <GgmlType T>
void gemm_ref_one(int64_t n, const uint8_t* panel, const uint8_t* act, int64_t act_stride, int nc,
                  float* out, int64_t out_stride) {
  const TypeTraits& t = traits(T, CpuTier::ref);
  const int64_t row_bytes = n / t.block_elems * t.block_bytes;
  std::vector<uint8_t> rows(static_cast<size_t>(row_bytes * R));
  const PackedKernels* pk = packed_kernels(T, CpuTier::ref);
  pk->unpack(panel, n, rows.data(), row_bytes);
  std::vector<BlockQ8_0> a8(static_cast<size_t>(n / kQK));
  for (int c = 0; c < nc; ++c) {
    const uint8_t* a = act + c * act_stride;
    if constexpr (T == GgmlType::Q8_0 || T == GgmlType::Q4_0 || T == GgmlType::Q5_0) {
      const auto* s = reinterpret_cast<const ActQ8_0*>(a);
      for (int64_t i = 0; i < n / kQK; ++i) {
        a8[i].d = f32_to_fp16(s[i].d);  // exact: d came from an fp16
        std::memcpy(a8[i].qs, s[i].qs, kQK);
      }
      a = reinterpret_cast<const uint8_t*>(a8.data());
    }
    for (int r = 0; r < R; ++r) out[c * out_stride + r] = t.vec_dot(n, rows.data() + r * row_bytes, a);
  }
}

template <GgmlType T>
void gemm_ref(int64_t n, const uint8_t* panels, int n_panels, const uint8_t* act, int64_t act_stride,
              int nc, float* out, int64_t out_stride) {
  const TypeTraits& t = traits(T, CpuTier::ref);
  const int64_t panel_bytes = n / t.block_elems * t.block_bytes * R;
  for (int p = 0; p < n_panels; ++p) {
    gemm_ref_one<T>(n, panels + p * panel_bytes, act, act_stride, nc, out + p * R, out_stride);
  }
}

int64_t act_q8_k_row_bytes(int64_t n) { return n / kQK_K * static_cast<int64_t>(sizeof(BlockQ8_K)); }
void quantize_act_q8_k(const float* src, void* dst, int64_t n) { traits(GgmlType::Q8_K).from_float(src, dst, n); }

constexpr int kPanelFormats = 5;

struct Tables {
  PackedKernels ref[kPanelFormats], avx512[kPanelFormats], avx512_without_gfni[kPanelFormats];
};

Tables make_tables() {
  Tables t;
  t.ref[0] = {GgmlType::Q8_0, "ref", act_q8_0_row_bytes, quantize_act_q8_0, pack_q8_0, unpack_q8_0,
              gemm_ref<GgmlType::Q8_0>};
  t.ref[1] = {GgmlType::Q4_K, "ref", act_q8_k_row_bytes, quantize_act_q8_k, pack_q4_k, unpack_q4_k_panel,
              gemm_ref<GgmlType::Q4_K>};
  t.ref[2] = {GgmlType::Q6_K, "ref", act_q8_k_row_bytes, quantize_act_q8_k, pack_q6_k, unpack_q6_k_panel,
              gemm_ref<GgmlType::Q6_K>};
  t.ref[3] = {GgmlType::Q4_0, "ref", act_q8_0_row_bytes, quantize_act_q8_0, pack_q4_0, unpack_q4_0,
              gemm_ref<GgmlType::Q4_0>};
  t.ref[4] = {GgmlType::Q5_0, "ref", act_q8_0_row_bytes, quantize_act_q8_0, pack_q5_0, unpack_q5_0,
              gemm_ref<GgmlType::Q5_0>};
  for (int i = 0; i < kPanelFormats; ++i) t.avx512[i] = t.avx512_without_gfni[i] = t.ref[i];
  register_avx512_panels(t.avx512, kPanelFormats, cpu_features().gfni);
  register_avx512_panels(t.avx512_without_gfni, kPanelFormats, false);
  return t;
}

const Tables& tables() {
  static const Tables t = make_tables();
  return t;
}

const PackedKernels* find(const PackedKernels* table, GgmlType t) {
  for (int i = 0; i < kPanelFormats; ++i) {
    if (table[i].type == t) return &table[i];
  }
  return nullptr;
}

}  // namespace

const PackedKernels* packed_kernels(GgmlType t, CpuTier tier) {
  if (tier > cpu_max_tier()) tier = cpu_max_tier();
  // Panels pay only where the SIMD kernels exist; the avx2 tier keeps the row kernels.
  const PackedKernels* table = tier == CpuTier::ref ? tables().ref : tier == CpuTier::avx512 ? tables().avx512 : nullptr;
  return table == nullptr ? nullptr : find(table, t);
}

const PackedKernels* packed_kernels_without_gfni(GgmlType t) {
  return cpu_max_tier() < CpuTier::avx512 ? nullptr : find(tables().avx512_without_gfni, t);
}

const PackedKernels* packed_kernels(GgmlType t) {
  // The ref tier's panel gemm is a specification (it allocates): never the kernel in force.
  if (cpu_tier() != CpuTier::avx512) return nullptr;
  return packed_kernels(t, CpuTier::avx512);
}

}  // namespace hearth::quant
