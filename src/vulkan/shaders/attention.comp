#version 450
// Causal GQA attention, one workgroup per (query head h, row t): the row at (seq, pos) attends
// over positions [start, pos] (start = pos - window + 1 for a window), position i at cache row
// seq * n_ctx + i, or seq * n_ctx + i % ring in a ring cache (n_ctx is then the ring), keys taken
// 64 at a time (one score per invocation, optionally soft-capped), online softmax; invocation i
// accumulates output dimensions i, i + 64, ... (head_dim_k and head_dim_v <= 256; WIDE: keys <= 576
// and values <= 512, DeepSeek's MLA latent of 512 + 64). KV_TYPE selects the cache type (0 F32,
// 1 F16, 8 Q8_0, 2 Q4_0: kv_quant.glsl; a quantized element is read as d * code, exactly the
// value the CPU's ops::kv_quant_at gives, so scores and sums see the same cache values).
// Loop work per invocation grows with the context: ~(dk + 4 x 64) per 64 keys, WIDE ~(dk + 8 x 64)
// (lavapipe stops an invocation after 65,535 loop iterations: contexts of ~11k keys at head size
// 128, ~3.8k for the MLA latent; decode splits the keys, prompts do not).
// SPLIT (decode over long contexts): workgroup z takes keys [z * split_keys, (z + 1) * split_keys)
// only and writes its unnormalized state (acc[dv], running max m, sum l) to a partials buffer
// that attention_merge.comp combines, so a few rows still occupy the whole GPU.
// Sinks (gpt-oss): with sinks_off != kNoSinks, head h's logit (the parameter ring's float at
// sinks_off + h) joins the softmax denominator only (softmax_sink.glsl); SPLIT leaves it to the
// merge, the parts stay plain.
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_8bit_storage : require
layout(local_size_x = 64) in;
layout(binding = 0) readonly buffer Q { float q[]; };
#if KV_TYPE == 1
layout(binding = 1) readonly buffer K { uint16_t kc[]; };
layout(binding = 2) readonly buffer V { uint16_t vc[]; };
#define KV(buf, stride, row, col) unpackHalf2x16(uint(buf[(row) * (stride) + (col)])).x
#elif KV_TYPE == 0
layout(binding = 1) readonly buffer K { float kc[]; };
layout(binding = 2) readonly buffer V { float vc[]; };
#define KV(buf, stride, row, col) buf[(row) * (stride) + (col)]
#else
layout(binding = 1) readonly buffer K { uint8_t kc[]; };
layout(binding = 2) readonly buffer V { uint8_t vc[]; };
#include "kv_quant.glsl"
// Element col of cache row `row` (rows of `stride` elements): its block's scale times its code.
#if KV_TYPE == 8
#define KV_CODE(buf, b, i) float(int(uint(buf[(b) + 2u + (i)])) - int((uint(buf[(b) + 2u + (i)]) & 0x80u) << 1))
#else
#define KV_CODE(buf, b, i) \
  (float(((i) < 16u ? uint(buf[(b) + 2u + (i)]) : (uint(buf[(b) + 2u + (i) - 16u]) >> 4)) & 15u) - 8.0)
#endif
#define KV_READER(name, buf)                                                        \
  float name(uint stride, uint row, uint col) {                                     \
    const uint b = row * kv_row_bytes(stride) + (col / 32u) * KV_BLOCK_BYTES;       \
    const float d = unpackHalf2x16(uint(buf[b]) | (uint(buf[b + 1u]) << 8)).x;      \
    const uint i = col % 32u;                                                       \
    return d * KV_CODE(buf, b, i);                                                  \
  }
KV_READER(k_at, kc)
KV_READER(v_at, vc)
#define KEY(row, col) k_at(p.k_stride, row, col)
#define VAL(row, col) v_at(p.v_stride, row, col)
#endif
#ifndef KEY
#define KEY(row, col) KV(kc, p.k_stride, row, col)
#define VAL(row, col) KV(vc, p.v_stride, row, col)
#endif
layout(binding = 3) readonly buffer R { int rows[]; };  // pos[n] then seq[n] from rows_off; sinks
layout(binding = 4) writeonly buffer O { float o[]; };
layout(push_constant) uniform P {
  uint n_head, n_head_kv, dk, dv, k_stride, v_stride, n_ctx, n, rows_off, window;
  float scale, softcap;
  uint split_keys, n_split, ring, sinks_off;
} p;
const uint kNoSinks = 0xffffffffu;
#include "softmax_sink.glsl"
uint slot(uint i) { return p.ring > 0 ? i % p.ring : i; }
#if WIDE
#define NACC 8
shared float sq[576];
#else
#define NACC 4
shared float sq[256];
#endif
shared float sc[64];
void main() {
  const uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
  const uint kvh = h / (p.n_head / p.n_head_kv);
  const int pos = rows[p.rows_off + t];
  const uint base = uint(rows[p.rows_off + p.n + t]) * p.n_ctx;
  const uint n_kv = uint(pos) + 1;
#if SPLIT
  const uint first = max(p.window > 0 && n_kv > p.window ? n_kv - p.window : 0, gl_WorkGroupID.z * p.split_keys);
  const uint end = min(n_kv, (gl_WorkGroupID.z + 1) * p.split_keys);
#else
  const uint first = p.window > 0 && n_kv > p.window ? n_kv - p.window : 0;
  const uint end = n_kv;
#endif
  for (uint d = tid; d < p.dk; d += 64) sq[d] = q[(t * p.n_head + h) * p.dk + d] * p.scale;
  float acc[NACC];
  for (uint j = 0; j < NACC; ++j) acc[j] = 0.0;
  float m = -1e30, l = 0.0;
  for (uint c0 = first; c0 < end; c0 += 64) {
    barrier();  // sq written / sc of the previous block read
    const uint kp = c0 + tid;
    float s = -1e30;
    if (kp < end) {
      const uint kr = base + slot(kp), kc0 = kvh * p.dk;
      s = 0.0;
      for (uint d = 0; d < p.dk; ++d) s += sq[d] * KEY(kr, kc0 + d);
      if (p.softcap > 0.0) s = p.softcap * tanh(s / p.softcap);
    }
    sc[tid] = s;
    barrier();
    const uint nb = min(64, end - c0);
    float mb = m;
    for (uint i = 0; i < nb; ++i) mb = max(mb, sc[i]);
    const float alpha = exp(m - mb);
    l *= alpha;
    for (uint j = 0; j < NACC; ++j) acc[j] *= alpha;
    for (uint i = 0; i < nb; ++i) {
      const float w = exp(sc[i] - mb);
      l += w;
      const uint vr = base + slot(c0 + i), vc0 = kvh * p.dv;
      for (uint j = 0; j < NACC; ++j) {
        const uint d = tid + 64 * j;
        if (d < p.dv) acc[j] += w * VAL(vr, vc0 + d);
      }
    }
    m = mb;
  }
#if SPLIT
  const uint part = ((t * p.n_head + h) * p.n_split + gl_WorkGroupID.z) * (p.dv + 2);
  for (uint j = 0; j < NACC; ++j) {
    const uint d = tid + 64 * j;
    if (d < p.dv) o[part + d] = acc[j];
  }
  if (tid == 0) {
    o[part + p.dv] = m;
    o[part + p.dv + 1] = l;
  }
#else
  const bool has_sink = p.sinks_off != kNoSinks;
  const float sink = intBitsToFloat(rows[has_sink ? p.sinks_off + h : 0]);  // never out of bounds
  const float inv = inverse_denominator(m, l, has_sink, sink);
  for (uint j = 0; j < NACC; ++j) {
    const uint d = tid + 64 * j;
    if (d < p.dv) o[(t * p.n_head + h) * p.dv + d] = acc[j] * inv;
  }
#endif
}
