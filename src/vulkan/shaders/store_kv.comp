#version 450
// cache row (seq[t] * n_ctx + pos[t]) = src row t ([n, width] F32) in the cache's type KV_TYPE
// (0 F32, 1 F16, 8 Q8_0, 2 Q4_0: the gguf::GgmlType numbers); in a ring cache (ring > 0,
// n_ctx = ring) the row is seq[t] * ring + pos[t] % ring. One workgroup row (y) per src row.
// The cache is written by whole 32-bit words; 16-bit stores only for a half word another row
// shares (byte stores are slow on GPUs, and need 8-bit storage):
// - F32: one invocation per element.
// - F16 (quant::f32_to_fp16 in integers, as the CPU's store): an even width has word-aligned
//   rows, one invocation per pair of elements writes them as one word; an odd width, one
//   invocation per element by 16-bit stores.
// - Q8_0/Q4_0 (width a multiple of 32): blocks quantized as the CPU backend's store does
//   (quant::traits(type).from_float, src/quant/ref/legacy_ref.cc), bit for bit (kv_quant.glsl:
//   divisions correctly rounded, f16 rounding in integers). A block is 34 or 18 bytes, an odd
//   number of 16-bit halves, so a pair of blocks (68 or 36 bytes) is whole words when it starts
//   on a word. Row r starts at byte r * row_bytes, on a word or half way into one (row_bytes is
//   even): a row that starts half way has its first block done alone (a lone leading half, then
//   whole words), then pairs; a row with an odd count of blocks left ends with a lone block (whole
//   words, then a lone trailing half). One invocation per such unit of one or two blocks.
#extension GL_EXT_shader_16bit_storage : require
layout(local_size_x = 64) in;
layout(binding = 0) readonly buffer S { float src[]; };
layout(binding = 1) readonly buffer R { int rows[]; };  // pos[n] then seq[n], from rows_off
#if KV_TYPE == 0
layout(binding = 2) writeonly buffer D { float dst[]; };
#else
// The cache aliased as words and as halves (16-bit stores only where a row shares a word).
layout(binding = 2) writeonly buffer D32 { uint dst32[]; };
layout(binding = 2) writeonly buffer D16 { uint16_t dst16[]; };
#include "f16_bits.glsl"
#endif
#if KV_TYPE == 8 || KV_TYPE == 2
#include "kv_quant.glsl"
#endif
layout(push_constant) uniform P { uint width, n_ctx, n, rows_off, ring; } p;

#if KV_TYPE == 8 || KV_TYPE == 2
// A unit's halves go out in order: an even-placed half waits for its odd partner and the two
// are stored as one word; only the unit's first half (when odd-placed) and its last (when
// even-placed) are stored alone, as halves: their words' other halves belong to the row before
// or after, which another invocation (or nobody, this pass) writes.
uint at_half, first_half, pending;
void put_half(uint h) {
  if ((at_half & 1u) == 0u) {
    pending = h;
  } else if (at_half == first_half) {
    dst16[at_half] = uint16_t(h);
  } else {
    dst32[at_half >> 1] = pending | (h << 16);
  }
  ++at_half;
}
#endif

void main() {
  const uint e = gl_GlobalInvocationID.x, t = gl_WorkGroupID.y;
  if (t >= p.n) return;
  const uint pos = uint(rows[p.rows_off + t]);
  const uint r = uint(rows[p.rows_off + p.n + t]) * p.n_ctx + (p.ring > 0 ? pos % p.ring : pos);
#if KV_TYPE == 0
  if (e >= p.width) return;
  dst[r * p.width + e] = src[t * p.width + e];
#elif KV_TYPE == 1
  if ((p.width & 1u) == 0u) {
    if (e >= p.width / 2) return;
    const uint s = t * p.width + 2 * e;
    dst32[r * (p.width / 2) + e] = f32_to_f16_bits(src[s]) | (f32_to_f16_bits(src[s + 1]) << 16);
  } else {
    if (e >= p.width) return;
    dst16[r * p.width + e] = uint16_t(f32_to_f16_bits(src[t * p.width + e]));
  }
#else
  const uint nb = p.width / 32, block_halves = KV_BLOCK_BYTES / 2;
  const uint row_half = r * nb * block_halves, lead = row_half & 1u;
  // Unit e: blocks [2e - lead, 2e + 2 - lead) within the row (unit 0 of a leading row: block 0).
  if (e >= (nb + lead + 1) / 2) return;
  const uint first = e == 0 ? 0 : 2 * e - lead, end = min(2 * e + 2 - lead, nb);
  first_half = row_half + first * block_halves;
  at_half = first_half;
  pending = 0u;
  for (uint b = first; b < end; ++b) {
    float x[32];
    for (uint i = 0; i < 32; ++i) x[i] = src[t * p.width + b * 32 + i];
    uint code[32];
    put_half(quantize_block(x, code));
#if KV_TYPE == 8
    for (uint i = 0; i < 32; i += 2) put_half(code[i] | (code[i + 1] << 8));
#else
    // Byte j holds element j (low nibble) and element j + 16 (high).
    for (uint i = 0; i < 16; i += 2) {
      put_half(code[i] | (code[i + 16] << 4) | (code[i + 1] << 8) | (code[i + 17] << 12));
    }
#endif
  }
  if ((at_half & 1u) != 0u) dst16[at_half - 1] = uint16_t(pending);
#endif
}
