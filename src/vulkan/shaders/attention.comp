#version 450
// Causal GQA attention, one workgroup per (query head h, row t): the row at (seq, pos) attends
// over positions [start, pos] (start = pos - window + 1 for a window), position i at cache row
// seq * n_ctx + i, or seq * n_ctx + i % ring in a ring cache (n_ctx is then the ring), keys taken
// 64 at a time (one score per invocation, optionally soft-capped), online softmax; invocation i
// accumulates output dimensions i, i + 64, ... (head_dim_k and head_dim_v <= 256; WIDE: keys <= 576
// and values <= 512, DeepSeek's MLA latent of 512 + 64). KV_TYPE selects the cache type (0 F32,
// 1 F16, 8 Q8_0, 2 Q4_0: kv_quant.glsl). A quantized cache is read a block (one scale, 32 codes)
// at a time: a key's codes summed against the query, times the scale; values by whole blocks, an
// invocation a block of every few keys, the sums gathered per dimension at the end. The elements
// are the CPU's (ops::kv_quant_at: scale x code), summed in another order.
// Loop work per invocation grows with the context: ~(dk + 4 x 64) per 64 keys, WIDE ~(dk + 8 x 64)
// (lavapipe stops an invocation after 65,535 loop iterations: contexts of ~11k keys at head size
// 128, ~3.8k for the MLA latent; decode splits the keys, prompts do not); quantized caches
// ~(dk / 32 + 2 x 64 + 64 / lanes) per 64 keys, fewer.
// SPLIT (decode over long contexts): workgroup z takes keys [z * split_keys, (z + 1) * split_keys)
// only and writes its unnormalized state (acc[dv], running max m, sum l) to a partials buffer
// that attention_merge.comp combines, so a few rows still occupy the whole GPU.
// Sinks (gpt-oss): with sinks_off != kNoSinks, head h's logit (the parameter ring's float at
// sinks_off + h) joins the softmax denominator only (softmax_sink.glsl); SPLIT leaves it to the
// merge, the parts stay plain.
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_control_flow_attributes : enable
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
// 34- or 18-byte blocks, 2-byte aligned (rows are whole blocks, tensors bound 64-byte aligned):
// read by 16-bit words, two of them a 32-bit word of four codes or eight nibbles.
layout(binding = 1) readonly buffer K { uint16_t kc[]; };
layout(binding = 2) readonly buffer V { uint16_t vc[]; };
#include "kv_quant.glsl"
// Bytes [o, o + 4) of a cache as one word (o even).
#define KV_WORD(buf, o) (uint(buf[(o) >> 1u]) | (uint(buf[((o) >> 1u) + 1u]) << 16))
// Code i of the block at byte b (from the 16-bit word holding its byte), and the block's scale.
#if KV_TYPE == 8
#define KV_CODE(buf, b, i) float(bitfieldExtract(int(uint(buf[((b) + 2u + (i)) >> 1u])), int(8u * ((i) & 1u)), 8))
#else
// Element i < 16 is byte i's low nibble, i >= 16 byte i - 16's high one (same parity as i).
#define KV_CODE(buf, b, i) \
  (float((uint(buf[((b) + 2u + ((i) & 15u)) >> 1u]) >> (8u * ((i) & 1u) + ((i) < 16u ? 0u : 4u))) & 15u) - 8.0)
#endif
#define KV_SCALE(buf, b) unpackHalf2x16(uint(buf[(b) >> 1u])).x
#define KEY_DOT key_dot_blocks
#endif
#ifndef KEY_DOT
#define VAL(row, col) KV(vc, p.v_stride, row, col)
#define KEY_DOT key_dot_elements
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

#if KV_TYPE == 0 || KV_TYPE == 1
// The scaled query (sq) . key row kr's columns [c0, c0 + n).
float key_dot_elements(uint kr, uint c0, uint n) {
  float s = 0.0;
  for (uint d = 0; d < n; ++d) s += sq[d] * KV(kc, p.k_stride, kr, c0 + d);
  return s;
}
#else
// The same over a quantized row a block at a time: each block's scale read once, its codes summed
// against the query and the sum scaled (a head may begin or end inside a block: those parts are
// read code by code). Loop iterations: ~n / 32 for whole blocks.
float key_dot_blocks(uint kr, uint c0, uint n) {
  const uint row = kr * kv_row_bytes(p.k_stride);
  float s = 0.0;
  for (uint d = 0; d < n;) {
    const uint col = c0 + d, i0 = col % 32u, len = min(32u - i0, n - d);
    const uint b = row + (col / 32u) * KV_BLOCK_BYTES;
    float part = 0.0;
    if (len == 32u) {
#if KV_TYPE == 8
      [[unroll]] for (uint i = 0; i < 8u; ++i) {  // word i: codes 4i .. 4i + 3
        const uint w = KV_WORD(kc, b + 2u + 4u * i);
        [[unroll]] for (uint k = 0; k < 4u; ++k) {
          part += sq[d + 4u * i + k] * float(bitfieldExtract(int(w), int(8u * k), 8));
        }
      }
#else
      [[unroll]] for (uint i = 0; i < 4u; ++i) {  // byte 4i + k: elements 4i + k (low), + 16 (high)
        const uint w = KV_WORD(kc, b + 2u + 4u * i);
        [[unroll]] for (uint k = 0; k < 4u; ++k) {
          const uint e = 4u * i + k, codes = w >> (8u * k);
          part += sq[d + e] * (float(codes & 15u) - 8.0) + sq[d + e + 16u] * (float((codes >> 4) & 15u) - 8.0);
        }
      }
#endif
    } else {
      for (uint i = 0; i < len; ++i) part += sq[d + i] * KV_CODE(kc, b, i0 + i);
    }
    s += KV_SCALE(kc, b) * part;
    d += len;
  }
  return s;
}

// Values a block at a time too: invocation tid takes block vblk = tid % n_vblk of the head's
// value columns (n_vblk blocks from vb0: a head may begin or end inside one) for keys lane,
// lane + lanes, .. of each 64 (lane = tid / n_vblk, lanes = 64 / n_vblk), all 32 elements of
// the block at once; at the end the lanes' sums are added per output dimension through vsum.
#define BLOCK_VALUES 1
shared float vsum[64 * 32];
void add_value_block(inout float vacc[32], uint vr, uint vblk, float w) {
  const uint b = vr * kv_row_bytes(p.v_stride) + vblk * KV_BLOCK_BYTES;
  const float ws = w * KV_SCALE(vc, b);
#if KV_TYPE == 8
  [[unroll]] for (uint i = 0; i < 8u; ++i) {
    const uint w = KV_WORD(vc, b + 2u + 4u * i);
    [[unroll]] for (uint k = 0; k < 4u; ++k) vacc[4u * i + k] += ws * float(bitfieldExtract(int(w), int(8u * k), 8));
  }
#else
  [[unroll]] for (uint i = 0; i < 4u; ++i) {
    const uint w = KV_WORD(vc, b + 2u + 4u * i);
    [[unroll]] for (uint k = 0; k < 4u; ++k) {
      const uint e = 4u * i + k, codes = w >> (8u * k);
      vacc[e] += ws * (float(codes & 15u) - 8.0);
      vacc[e + 16u] += ws * (float((codes >> 4) & 15u) - 8.0);
    }
  }
#endif
}
#endif

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
#if BLOCK_VALUES
  const uint vb0 = kvh * p.dv / 32u, n_vblk = (kvh * p.dv + p.dv - 1u) / 32u - vb0 + 1u;
  const uint lanes = 64u / n_vblk, lane = tid / n_vblk, vblk = vb0 + tid % n_vblk;
  float vacc[32];
  [[unroll]] for (uint e = 0; e < 32u; ++e) vacc[e] = 0.0;
#endif
  for (uint c0 = first; c0 < end; c0 += 64) {
    barrier();  // sq written / sc of the previous block read
    const uint kp = c0 + tid;
    float s = -1e30;
    if (kp < end) {
      const uint kr = base + slot(kp), kc0 = kvh * p.dk;
      s = KEY_DOT(kr, kc0, p.dk);
      if (p.softcap > 0.0) s = p.softcap * tanh(s / p.softcap);
    }
    sc[tid] = s;
    barrier();
    const uint nb = min(64, end - c0);
    float mb = m;
    for (uint i = 0; i < nb; ++i) mb = max(mb, sc[i]);
    const float alpha = exp(m - mb);
    l *= alpha;
#if BLOCK_VALUES
    for (uint i = 0; i < nb; ++i) l += exp(sc[i] - mb);
    [[unroll]] for (uint e = 0; e < 32u; ++e) vacc[e] *= alpha;
    if (lane < lanes) {
      for (uint i = lane; i < nb; i += lanes) add_value_block(vacc, base + slot(c0 + i), vblk, exp(sc[i] - mb));
    }
#else
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
#endif
    m = mb;
  }
#if BLOCK_VALUES
  if (lane < lanes) {
    [[unroll]] for (uint e = 0; e < 32u; ++e) vsum[tid * 32u + e] = vacc[e];
  }
  barrier();
  for (uint j = 0; j < NACC; ++j) {
    const uint d = tid + 64 * j, col = kvh * p.dv + d;
    if (d >= p.dv) continue;
    const uint at = (col / 32u - vb0) * 32u + col % 32u;
    acc[j] = 0.0;
    for (uint ln = 0; ln < lanes; ++ln) acc[j] += vsum[ln * n_vblk * 32u + at];
  }
#endif
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
