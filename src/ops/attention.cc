#include "ops/attention.h"

#include <cmath>
#include <vector>

#include "ops/activation.h"
#include "quant/fp16.h"
#include "util/thread_pool.h"

namespace hearth::ops {

namespace {

// Reads element i of a KV row of either cache type.
inline float kv_at(const void* base, gguf::GgmlType type, int64_t i) {
  if (type == gguf::GgmlType::F32) return static_cast<const float*>(base)[i];
  return quant::fp16_to_f32(static_cast<const uint16_t*>(base)[i]);
}

inline const void* kv_offset(const void* base, gguf::GgmlType type, int64_t elems) {
  const int64_t size = type == gguf::GgmlType::F32 ? 4 : 2;
  return static_cast<const uint8_t*>(base) + elems * size;
}

void attend_one_head(const AttentionShape& s, const AttentionRow& r, int h,
                     std::vector<float>& scores) {
  const int group = s.n_head / s.n_head_kv;
  const int kvh = h / group;
  const float* q = r.q + h * s.head_dim_k;
  scores.resize(static_cast<size_t>(r.n_kv));
  for (int64_t p = 0; p < r.n_kv; ++p) {
    const void* k = kv_offset(r.k, s.kv_type, p * s.k_stride + kvh * s.head_dim_k);
    float dot = 0.0f;
    if (s.kv_type == gguf::GgmlType::F32) {
      const float* kf = static_cast<const float*>(k);
      for (int64_t i = 0; i < s.head_dim_k; ++i) dot += q[i] * kf[i];
    } else {
      const uint16_t* kh = static_cast<const uint16_t*>(k);
      for (int64_t i = 0; i < s.head_dim_k; ++i) dot += q[i] * quant::fp16_to_f32(kh[i]);
    }
    scores[p] = dot * s.scale;
  }
  softmax(scores.data(), r.n_kv);
  float* out = r.out + h * s.head_dim_v;
  for (int64_t i = 0; i < s.head_dim_v; ++i) out[i] = 0.0f;
  for (int64_t p = 0; p < r.n_kv; ++p) {
    const void* v = kv_offset(r.v, s.kv_type, p * s.v_stride + kvh * s.head_dim_v);
    const float w = scores[p];
    if (s.kv_type == gguf::GgmlType::F32) {
      const float* vf = static_cast<const float*>(v);
      for (int64_t i = 0; i < s.head_dim_v; ++i) out[i] += w * vf[i];
    } else {
      const uint16_t* vh = static_cast<const uint16_t*>(v);
      for (int64_t i = 0; i < s.head_dim_v; ++i) out[i] += w * quant::fp16_to_f32(vh[i]);
    }
  }
}

}  // namespace

void attention(const AttentionShape& shape, const AttentionRow* rows, int64_t n_rows) {
  const int64_t n_tasks = n_rows * shape.n_head;
  static thread_local std::vector<float> scores;
  auto fn = [&](int64_t task, int) {
    const AttentionRow& r = rows[task / shape.n_head];
    attend_one_head(shape, r, static_cast<int>(task % shape.n_head), scores);
  };
  // Small work runs on the calling thread (same results: each head is computed the same way).
  int64_t work = 0;
  for (int64_t t = 0; t < n_rows; ++t) work += rows[t].n_kv;
  work *= shape.n_head * (shape.head_dim_k + shape.head_dim_v);
  if (work < 16384) {
    for (int64_t i = 0; i < n_tasks; ++i) fn(i, 0);
  } else {
    global_thread_pool().run(n_tasks, fn);
  }
}

void attention_ref(const AttentionShape& s, const AttentionRow* rows, int64_t n_rows) {
  const int group = s.n_head / s.n_head_kv;
  for (int64_t t = 0; t < n_rows; ++t) {
    const AttentionRow& r = rows[t];
    std::vector<double> scores(static_cast<size_t>(r.n_kv));
    for (int h = 0; h < s.n_head; ++h) {
      const int kvh = h / group;
      double m = -INFINITY;
      for (int64_t p = 0; p < r.n_kv; ++p) {
        double dot = 0.0;
        for (int64_t i = 0; i < s.head_dim_k; ++i) {
          dot += static_cast<double>(r.q[h * s.head_dim_k + i]) *
                 kv_at(r.k, s.kv_type, p * s.k_stride + kvh * s.head_dim_k + i);
        }
        scores[p] = dot * s.scale;
        m = scores[p] > m ? scores[p] : m;
      }
      double sum = 0.0;
      for (int64_t p = 0; p < r.n_kv; ++p) {
        scores[p] = std::exp(scores[p] - m);
        sum += scores[p];
      }
      for (int64_t i = 0; i < s.head_dim_v; ++i) {
        double acc = 0.0;
        for (int64_t p = 0; p < r.n_kv; ++p) {
          acc += scores[p] * kv_at(r.v, s.kv_type, p * s.v_stride + kvh * s.head_dim_v + i);
        }
        r.out[h * s.head_dim_v + i] = static_cast<float>(acc / sum);
      }
    }
  }
}

}  // namespace hearth::ops
