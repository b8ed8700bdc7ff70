// VulkanBackend's row-wise and elementwise operations: embedding rows, RMS and layer norms, RoPE,
// and eltwise.comp's ops (add, bias, scale, SwiGLU, GeGLU, GELU, soft-cap, gpt-oss's SwiGLU).

#include <algorithm>
#include <string>

#include "vulkan/vulkan_backend.h"

namespace hearth::vulkan {

void VulkanBackend::get_rows(const ops::Tensor& table, const int32_t* ids, int64_t n,
                             const ops::Tensor& out) {
  const uint32_t ids_off = ring_put(ids, static_cast<size_t>(n) * sizeof(int32_t));
  const uint32_t pc[] = {u32(table.n_cols()), u32(table.row_bytes), u32(n), ids_off};
  dispatch(std::string("get_rows_") + weight_suffix(table.type), {buf(table), ring(), buf(out)}, pc,
           sizeof pc, groups(groups(table.n_cols(), 32), 64), u32(n), 1);
}

void VulkanBackend::rmsnorm(const ops::Tensor& x, const ops::Tensor& w, int64_t n_rows, int64_t n,
                            float eps, const ops::Tensor& out) {
  struct {
    uint32_t n_rows, n, has_w, per_z;
    float eps;
  } pc{u32(n_rows), u32(n), w.empty() ? 0u : 1u, kMaxGroups, eps};
  dispatch("rmsnorm", {buf(x), w.empty() ? buf(x) : buf(w), buf(out)}, &pc, sizeof pc,
           std::min<uint32_t>(u32(n_rows), kMaxGroups), 1, groups(n_rows, kMaxGroups));
}

// BERT-style encoders' norm (shaders/layernorm.comp); an absent weight or bias binds x in its
// place, unread.
void VulkanBackend::layernorm(const ops::Tensor& x, const ops::Tensor& w, const ops::Tensor& b,
                              int64_t n_rows, int64_t n, float eps, const ops::Tensor& out) {
  struct {
    uint32_t n_rows, n, has_w, has_b, per_z;
    float eps;
  } pc{u32(n_rows), u32(n), w.empty() ? 0u : 1u, b.empty() ? 0u : 1u, kMaxGroups, eps};
  dispatch("layernorm", {buf(x), w.empty() ? buf(x) : buf(w), b.empty() ? buf(x) : buf(b), buf(out)}, &pc,
           sizeof pc, std::min<uint32_t>(u32(n_rows), kMaxGroups), 1, groups(n_rows, kMaxGroups));
}

void VulkanBackend::rope(const ops::Tensor& x, int64_t n_tok, int n_heads, int64_t head_dim,
                         const int32_t* pos, const ops::RopeParams& p) {
  if (p.n_dims < 2 || n_tok == 0) return;
  cs_.resize(static_cast<size_t>(n_tok * p.n_dims));
  for (int64_t t = 0; t < n_tok; ++t) ops::rope_angles(p, pos[t], cs_.data() + t * p.n_dims);
  const uint32_t cs_off = ring_put(cs_.data(), cs_.size() * sizeof(float));
  const uint32_t pc[] = {u32(n_tok), u32(n_heads), u32(head_dim), u32(p.n_dims),
                         p.mode == ops::RopeMode::neox ? 1u : 0u, cs_off};
  dispatch("rope", {buf(x), ring()}, pc, sizeof pc, groups(p.n_dims / 2, 64), u32(n_heads), u32(n_tok));
}

void VulkanBackend::swiglu(const ops::Tensor& g, const ops::Tensor& u, int64_t n,
                           const ops::Tensor& out) {
  eltwise(3, g, u, out, n, 0, 0.0f);
}
void VulkanBackend::geglu(const ops::Tensor& g, const ops::Tensor& u, int64_t n,
                          const ops::Tensor& out) {
  eltwise(4, g, u, out, n, 0, 0.0f);
}
void VulkanBackend::gelu(const ops::Tensor& x, int64_t n, const ops::Tensor& out) {
  eltwise(5, x, x, out, n, 0, 0.0f);
}
void VulkanBackend::add(const ops::Tensor& y, const ops::Tensor& x, int64_t n) {
  eltwise(0, y, x, y, n, 0, 0.0f);
}
// gpt-oss's FFN: its clamped SwiGLU and each chosen expert's bias row (ids bound as the third
// buffer).
void VulkanBackend::swiglu_oai(const ops::Tensor& g, const ops::Tensor& u, int64_t n, float alpha,
                               float limit, const ops::Tensor& out) {
  eltwise(7, g, u, out, n, 0, alpha, limit);
}
void VulkanBackend::add_bias_id(const ops::Tensor& y, const ops::Tensor& b, const ops::Tensor& ids,
                                int64_t n_tok, int k, int64_t n) {
  eltwise(8, y, b, ids, n_tok * k * n, n, 0.0f);
}
void VulkanBackend::add_bias(const ops::Tensor& x, const ops::Tensor& b, int64_t n_rows,
                             int64_t n) {
  eltwise(1, x, b, x, n_rows * n, n, 0.0f);
}
void VulkanBackend::scale(const ops::Tensor& x, float s, int64_t n) {
  eltwise(2, x, x, x, n, 0, s);
}
void VulkanBackend::softcap(const ops::Tensor& x, float cap, int64_t n) {
  eltwise(6, x, x, x, n, 0, cap);
}

void VulkanBackend::eltwise(int op, const ops::Tensor& a, const ops::Tensor& b,
                            const ops::Tensor& c, int64_t n, int64_t n_cols, float f, float f2) {
  const uint32_t g = groups(n, 256);
  const uint32_t gx = std::min(g, kMaxGroups);
  struct {
    uint32_t n, n_cols, per_z;
    float f, f2;
  } pc{u32(n), u32(n_cols), gx * 256, f, f2};
  dispatch("eltwise_" + std::to_string(op), {buf(a), buf(b), buf(c)}, &pc, sizeof pc, gx, groups(g, gx), 1);
}

}  // namespace hearth::vulkan
