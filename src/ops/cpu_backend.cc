// The CPU backends behind the seam: "cpu" runs the fast kernels of ops/ (weights repacked into
// panels where the CPU has panel kernels), "cpu-ref" their scalar specifications. A tensor's
// handle is a CpuTensor: a Matrix view of its rows (the mapped file's, or memory it owns).

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <unordered_map>
#include <vector>

#include "ops/activation.h"
#include "ops/backend.h"
#include "ops/kv_quant.h"
#include "ops/matmul.h"
#include "ops/norm.h"
#include "quant/fp16.h"
#include "quant/packed.h"
#include "quant/type_traits.h"
#include "util/check.h"
#include "util/cpu_features.h"
#include "util/error.h"
#include "util/stream_memory.h"

namespace hearth::ops {

namespace {

struct CpuTensor {
  const void* owner = nullptr;
  Matrix m;  // all rows of the tensor (a stack's matrices one after another)
  StreamMemory memory;                    // rows this backend allocated (KV caches, scratch)
  std::shared_ptr<void> panels;           // what pack_matrix made
  uint64_t bytes = 0;                     // memory + panels
  bool key_tiles = false;                 // an F16 K cache in tiles of kKvKeyTile rows (attention.h)
};

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(bool reference) : ref_(reference) {}

  std::string name() const override { return ref_ ? "cpu-ref" : "cpu"; }
  bool on_host() const override { return true; }
  std::string description() const override {
    return ref_ ? "CPU (scalar reference)" : std::string("CPU (") + cpu_tier_name(cpu_tier()) + ")";
  }

  Upload upload_weight(gguf::GgmlType type, const int64_t ne[3], int64_t row_bytes,
                       const uint8_t* data, WeightUse use) override {
    auto r = std::make_unique<CpuTensor>();
    r->m.type = type;
    r->m.n_cols = ne[0];
    r->m.n_rows = ne[1] * ne[2];
    r->m.row_bytes = row_bytes;
    r->m.data = data;
    Upload up;
    // A stack is packed as one matrix only when each of its matrices is whole panels, so that an
    // expert's panels start where its rows do (expert_matrix).
    if (!ref_ && use == WeightUse::matmul && ne[1] % quant::kPanelRows == 0) {
      if ((r->panels = pack_matrix(r->m, &panel_arena_))) {
        r->bytes = static_cast<uint64_t>(r->m.n_rows * row_bytes);
        up.copied = true;
      }
    }
    up.tensor = keep(std::move(r), type, ne[0], ne[1], ne[2]);
    return up;
  }

  Tensor upload_f32(const float* values, int64_t n_cols, int64_t n_rows) override {
    Tensor t = alloc(gguf::GgmlType::F32, n_cols, n_rows);
    write(t, n_cols * n_rows, values);
    return t;
  }

  Tensor alloc(gguf::GgmlType type, int64_t n_cols, int64_t n_rows) override {
    HEARTH_CHECK(n_cols > 0 && n_rows > 0);
    const bool quantized = type == gguf::GgmlType::Q8_0 || type == gguf::GgmlType::Q4_0;
    HEARTH_CHECK(quantized || type == gguf::GgmlType::F32 || type == gguf::GgmlType::F16 ||
                 type == gguf::GgmlType::I32);
    if (quantized && n_cols % 32 != 0) {
      throw Error(ErrorCode::invalid_argument,
                  std::string("a ") + gguf::type_name(type) + " cache needs rows of whole 32-element blocks, not " +
                      std::to_string(n_cols));
    }
    const int64_t row_bytes = type == gguf::GgmlType::I32 ? n_cols * 4 : kv_row_bytes(type, n_cols);
    const unsigned __int128 want = static_cast<unsigned __int128>(row_bytes) * n_rows;
    auto r = std::make_unique<CpuTensor>();
    const uint64_t bytes = want > (static_cast<unsigned __int128>(1) << 46) ? 0 : static_cast<uint64_t>(want);
    StreamMemory p = bytes == 0 ? StreamMemory() : alloc_stream_memory(bytes);
    if (p == nullptr) {
      throw Error(ErrorCode::resource_exhausted,
                  "cannot allocate " + std::to_string(static_cast<uint64_t>(want >> 20)) +
                      " MiB of CPU memory");
    }
    r->memory = std::move(p);
    r->bytes = bytes;
    r->m.type = type;
    r->m.n_cols = n_cols;
    r->m.n_rows = n_rows;
    r->m.row_bytes = row_bytes;
    r->m.data = static_cast<uint8_t*>(r->memory.get());
    return keep(std::move(r), type, n_cols, n_rows, 1);
  }

  // "cpu" tiles F16 keys for its attention (kv_key_index); "cpu-ref" keeps rows, so the tests
  // that run a model on both compare the two layouts too.
  Tensor alloc_keys(gguf::GgmlType type, int64_t n_cols, int64_t rows_per_seq, int n_seq) override {
    Tensor t = alloc(type, n_cols, rows_per_seq * n_seq);
    rec(t)->key_tiles = !ref_ && type == gguf::GgmlType::F16 && rows_per_seq % kKvKeyTile == 0;
    return t;
  }

  void release(Tensor& t) override {
    if (t.empty()) return;
    auto it = records_.find(rec(t));
    HEARTH_CHECK(it != records_.end());
    bytes_ -= it->second->bytes;
    records_.erase(it);
    t = Tensor{};
  }

  uint64_t bytes() const override { return bytes_; }

  void read(const Tensor& t, int64_t n, float* dst) override {
    std::memcpy(dst, words(t), static_cast<size_t>(n) * sizeof(float));
  }
  void write(const Tensor& t, int64_t n, const float* src) override {
    std::memcpy(words(t), src, static_cast<size_t>(n) * sizeof(float));
  }

  void matmul(const Tensor& w, const Tensor& x, int64_t n_tok, const Tensor& y) override {
    (ref_ ? matmul_ref : ops::matmul)(mat(w), f32(x), n_tok, f32(y));
  }

  void matmul_many(const MatmulJob* jobs, int count, const Tensor& x, int64_t n_tok) override {
    if (ref_) {
      for (int i = 0; i < count; ++i) matmul(*jobs[i].w, x, n_tok, *jobs[i].y);
      return;
    }
    MatmulOut outs[8];
    HEARTH_CHECK(count <= 8);
    for (int i = 0; i < count; ++i) outs[i] = {&mat(*jobs[i].w), f32(*jobs[i].y)};
    ops::matmul_many(outs, count, f32(x), n_tok);
  }

  void matmul_id(const Tensor& w, const Tensor& x, bool x_per_slot, const Tensor& ids,
                 int64_t n_tok, int k, const Tensor& y) override {
    (ref_ ? matmul_id_ref : ops::matmul_id)(mat(w), w.n_rows(), f32(x), x_per_slot, i32(ids),
                                            n_tok, k, f32(y));
  }

  void matmul_id_many(const MatmulJob* jobs, int count, const Tensor& x, bool x_per_slot,
                      const Tensor& ids, int64_t n_tok, int k) override {
    if (ref_) return Backend::matmul_id_many(jobs, count, x, x_per_slot, ids, n_tok, k);
    ExpertProduct products[8];
    HEARTH_CHECK(count <= 8);
    for (int i = 0; i < count; ++i) products[i] = {&mat(*jobs[i].w), jobs[i].w->n_rows(), f32(*jobs[i].y)};
    ops::matmul_id_many(products, count, f32(x), x_per_slot, i32(ids), n_tok, k);
  }

  void topk_gating(const Tensor& logits, const Tensor& selection_bias, int64_t n_tok,
                   int64_t n_expert, const GatingParams& p, const Tensor& ids,
                   const Tensor& weights) override {
    const float* bias = selection_bias.empty() ? nullptr : f32(selection_bias);
    (ref_ ? topk_gating_ref : ops::topk_gating)(f32(logits), bias, n_tok, n_expert, p, i32(ids),
                                                f32(weights));
  }

  void add_bias_id(const Tensor& y, const Tensor& b, const Tensor& ids, int64_t n_tok, int k,
                   int64_t n) override {
    HEARTH_CHECK(b.n_cols() == n && n_tok * k * n <= y.n_elements());
    const int32_t* id = i32(ids);
    for (int64_t s = 0; s < n_tok * k; ++s) HEARTH_CHECK(id[s] >= 0 && id[s] < b.n_rows());
    ops::add_bias_id(f32(y), f32(b), id, n_tok * k, n);
  }

  void weighted_sum(const Tensor& e, const Tensor& weights, int64_t n_tok, int k, int64_t n,
                    const Tensor& out) override {
    ops::weighted_sum(f32(e), f32(weights), n_tok, k, n, f32(out));
  }

  void get_rows(const Tensor& table, const int32_t* ids, int64_t n, const Tensor& out) override {
    const Matrix& m = mat(table);
    float* o = f32(out);
    for (int64_t i = 0; i < n; ++i) dequantize_row(m, ids[i], o + i * m.n_cols);
  }

  void rmsnorm(const Tensor& x, const Tensor& w, int64_t n_rows, int64_t n, float eps,
               const Tensor& out) override {
    const float* wf = w.empty() ? nullptr : f32(w);
    (ref_ ? rmsnorm_ref : ops::rmsnorm)(f32(x), wf, n_rows, n, eps, f32(out));
  }
  void layernorm(const Tensor& x, const Tensor& w, const Tensor& b, int64_t n_rows, int64_t n,
                 float eps, const Tensor& out) override {
    const float* wf = w.empty() ? nullptr : f32(w);
    const float* bf = b.empty() ? nullptr : f32(b);
    (ref_ ? layernorm_ref : ops::layernorm)(f32(x), wf, bf, n_rows, n, eps, f32(out));
  }

  void rope(const Tensor& x, int64_t n_tok, int n_heads, int64_t head_dim, const int32_t* pos,
            const RopeParams& p) override {
    float* xf = f32(x);
    if (!ref_) return rope_batch(xf, n_tok, n_heads, head_dim, pos, p);
    for (int64_t t = 0; t < n_tok; ++t) rope_ref(xf + t * n_heads * head_dim, n_heads, head_dim, pos[t], p);
  }

  void store_kv(const KvView& cache, const Tensor& k, const Tensor& v,
                const SeqRows& rows) override {
    store_rows(cache.k, k, cache, rows);
    if (!cache.v.empty()) store_rows(cache.v, v, cache, rows);
  }

  void attention(const AttentionShape& shape, const Tensor& q, const KvView& cache,
                 const SeqRows& rows, const Tensor& out) override {
    AttentionShape s = shape;
    s.kv_type = cache.k.type;
    s.k_tiles = rec(cache.k)->key_tiles;
    s.k_stride = cache.k.n_cols();
    const bool latent = cache.v.empty();  // values are the first columns of the keys
    s.v_stride = latent ? cache.k.n_cols() : cache.v.n_cols();
    s.ring = cache.ring;
    const Matrix& km = mat(cache.k);
    const Matrix& vm = mat(latent ? cache.k : cache.v);
    const float* qf = f32(q);
    float* of = f32(out);
    const int64_t q_width = s.n_head * s.head_dim_k, o_width = s.n_head * s.head_dim_v;
    rows_.resize(static_cast<size_t>(rows.n));
    for (int64_t t = 0; t < rows.n; ++t) {
      AttentionRow& r = rows_[static_cast<size_t>(t)];
      const int64_t base = static_cast<int64_t>(rows.seq[t]) * cache.rows_per_seq();
      r.q = qf + t * q_width;
      r.k = km.row(base);
      r.v = vm.row(base);
      r.n_kv = rows.pos[t] + 1;
      r.kv_start = s.window > 0 ? std::max<int64_t>(0, rows.pos[t] - s.window + 1) : 0;
      r.out = of + t * o_width;
    }
    (ref_ ? attention_ref : ops::attention)(s, rows_.data(), rows.n);
  }

  void copy_cols(const Tensor& src, int64_t src_width, int64_t src_col, const Tensor& dst,
                 int64_t dst_width, int64_t dst_col, int64_t width, int64_t n_rows) override {
    HEARTH_CHECK(src_col >= 0 && dst_col >= 0 && src_col + width <= src_width &&
                 dst_col + width <= dst_width && n_rows * src_width <= src.n_elements() &&
                 n_rows * dst_width <= dst.n_elements());
    const float* s = f32(src) + src_col;
    float* d = f32(dst) + dst_col;
    for (int64_t r = 0; r < n_rows; ++r) {
      std::memcpy(d + r * dst_width, s + r * src_width, static_cast<size_t>(width) * sizeof(float));
    }
  }

  void copy_rows(const Tensor& t, int64_t src, int64_t dst, int64_t n) override {
    const Matrix& m = mat(t);
    HEARTH_CHECK(src >= 0 && dst >= 0 && src + n <= m.n_rows && dst + n <= m.n_rows);
    if (!rec(t)->key_tiles) {
      std::memmove(const_cast<uint8_t*>(m.row(dst)), m.row(src), static_cast<size_t>(n * m.row_bytes));
      return;
    }
    // A row of tiled keys is kKvKeyTile elements apart: copied an element at a time, in the
    // order that reads each source row before it is overwritten (memmove's guarantee); whole
    // tiles at once where source and destination sit alike in their tiles and do not overlap
    // (a prefix shared between sequences: both start at position 0).
    auto* e = reinterpret_cast<uint16_t*>(const_cast<uint8_t*>(m.data));
    const int64_t w = m.n_cols;
    auto copy_row = [e, w](int64_t from, int64_t to) {
      for (int64_t c = 0; c < w; ++c) e[kv_key_index(true, w, to, c)] = e[kv_key_index(true, w, from, c)];
    };
    if ((dst - src) % kKvKeyTile == 0 && (dst - src >= n || src - dst >= n)) {
      int64_t i = 0;
      for (; i < n && (src + i) % kKvKeyTile != 0; ++i) copy_row(src + i, dst + i);
      const int64_t whole = (n - i) / kKvKeyTile * kKvKeyTile;
      std::memcpy(e + (dst + i) * w, e + (src + i) * w, static_cast<size_t>(whole * m.row_bytes));
      for (i += whole; i < n; ++i) copy_row(src + i, dst + i);
      return;
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = dst > src ? n - 1 - i : i;
      copy_row(src + r, dst + r);
    }
  }

  void swiglu(const Tensor& gate, const Tensor& up, int64_t n, const Tensor& out) override {
    (ref_ ? swiglu_ref : ops::swiglu)(f32(gate), f32(up), n, f32(out));
  }
  void geglu(const Tensor& gate, const Tensor& up, int64_t n, const Tensor& out) override {
    (ref_ ? geglu_ref : ops::geglu)(f32(gate), f32(up), n, f32(out));
  }
  void swiglu_oai(const Tensor& gate, const Tensor& up, int64_t n, float alpha, float limit,
                  const Tensor& out) override {
    (ref_ ? swiglu_oai_ref : ops::swiglu_oai)(f32(gate), f32(up), n, alpha, limit, f32(out));
  }
  void gelu(const Tensor& x, int64_t n, const Tensor& out) override {
    (ref_ ? gelu_ref : ops::gelu)(f32(x), n, f32(out));
  }
  void add(const Tensor& y, const Tensor& x, int64_t n) override {
    if (!ref_) return add_inplace(f32(y), f32(x), n);
    float* yf = f32(y);
    const float* xf = f32(x);
    for (int64_t i = 0; i < n; ++i) yf[i] += xf[i];
  }
  void add_bias(const Tensor& x, const Tensor& b, int64_t n_rows, int64_t n) override {
    add_bias_rows(f32(x), f32(b), n_rows, n);
  }
  void scale(const Tensor& x, float s, int64_t n) override { ops::scale(f32(x), s, n); }
  void softcap(const Tensor& x, float cap, int64_t n) override {
    (ref_ ? softcap_ref : ops::softcap)(f32(x), cap, n);
  }
  // Both CPU backends run the specification: the engine reads whole rows from a CPU backend
  // unless told otherwise (HEARTH_DEVICE_SAMPLING=1, for tests and comparisons).
  void top_logits(const Tensor& logits, int64_t n_rows, int64_t n, int k, const Tensor& out) override {
    HEARTH_CHECK(n_rows * n <= logits.n_elements() && n_rows * top_logits_width(k) <= out.n_elements());
    top_logits_ref(f32(logits), n_rows, n, k, f32(out));
  }

 private:
  Tensor keep(std::unique_ptr<CpuTensor> r, gguf::GgmlType type, int64_t n_cols, int64_t n_rows,
              int64_t n_mats) {
    r->owner = this;
    Tensor t;
    t.type = type;
    t.ne[0] = n_cols;
    t.ne[1] = n_rows;
    t.ne[2] = n_mats;
    t.row_bytes = r->m.row_bytes;
    t.handle = r.get();
    bytes_ += r->bytes;
    records_.emplace(r.get(), std::move(r));
    return t;
  }

  CpuTensor* rec(const Tensor& t) const {
    auto* r = static_cast<CpuTensor*>(t.handle);
    HEARTH_CHECK(r != nullptr && r->owner == this);  // a tensor of another backend is a bug
    return r;
  }
  const Matrix& mat(const Tensor& t) const { return rec(t)->m; }
  float* f32(const Tensor& t) const {
    const Matrix& m = mat(t);
    HEARTH_CHECK(m.type == gguf::GgmlType::F32);
    return reinterpret_cast<float*>(const_cast<uint8_t*>(m.data));
  }
  void* words(const Tensor& t) const {  // an F32 or I32 tensor's 4-byte values
    const Matrix& m = mat(t);
    HEARTH_CHECK(m.type == gguf::GgmlType::F32 || m.type == gguf::GgmlType::I32);
    return const_cast<uint8_t*>(m.data);
  }
  int32_t* i32(const Tensor& t) const {
    const Matrix& m = mat(t);
    HEARTH_CHECK(m.type == gguf::GgmlType::I32);
    return reinterpret_cast<int32_t*>(const_cast<uint8_t*>(m.data));
  }

  void store_rows(const Tensor& cache, const Tensor& x, const KvView& view, const SeqRows& rows) {
    const Matrix& c = mat(cache);
    const float* xf = f32(x);
    const int64_t w = c.n_cols;
    for (int64_t t = 0; t < rows.n; ++t) {
      const int64_t r = view.row(rows.seq[t], rows.pos[t]);
      HEARTH_CHECK(r >= 0 && r < c.n_rows);
      auto* dst = const_cast<uint8_t*>(c.row(r));
      if (rec(cache)->key_tiles) {
        uint16_t h[kKvKeyTile];
        auto* e = reinterpret_cast<uint16_t*>(const_cast<uint8_t*>(c.data));
        for (int64_t c0 = 0; c0 < w; c0 += kKvKeyTile) {
          const int64_t nc = std::min<int64_t>(kKvKeyTile, w - c0);
          quant::f32_to_fp16_row(xf + t * w + c0, h, nc);
          for (int64_t i = 0; i < nc; ++i) e[kv_key_index(true, w, r, c0 + i)] = h[i];
        }
      } else if (c.type == gguf::GgmlType::F32) {
        std::memcpy(dst, xf + t * w, static_cast<size_t>(w) * sizeof(float));
      } else if (c.type == gguf::GgmlType::F16) {
        quant::f32_to_fp16_row(xf + t * w, reinterpret_cast<uint16_t*>(dst), w);
      } else {
        quant::traits(c.type).from_float(xf + t * w, dst, w);
      }
    }
  }

  bool ref_;
  StreamArena panel_arena_;  // the packed weights, one after another (stream_memory.h says why)
  uint64_t bytes_ = 0;
  std::unordered_map<CpuTensor*, std::unique_ptr<CpuTensor>> records_;
  std::vector<AttentionRow> rows_;
};

}  // namespace

std::unique_ptr<Backend> make_backend(const std::string& name) {
  if (name == "cpu") return std::make_unique<CpuBackend>(false);
  if (name == "cpu-ref") return std::make_unique<CpuBackend>(true);
  throw Error(ErrorCode::invalid_argument,
              "unknown compute backend '" + name + "' (known: cpu, cpu-ref)");
}

}  // namespace hearth::ops
