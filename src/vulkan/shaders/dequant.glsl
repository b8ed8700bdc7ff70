// Weight rows of any supported GGUF type, read 32 elements at a time ("chunk" c of a row covers
// elements [32c, 32c + 32)). The includer defines WTYPE (the gguf::GgmlType number), enables
// GL_EXT_shader_8bit_storage and GL_EXT_shader_16bit_storage, and includes this file where binding
// 0 (the weights) belongs. Layouts are GGUF's (quant/blocks.h); K-quants are 256-element blocks
// of 8 chunks. F32/F16/BF16 rows may end inside a chunk: elements past n_cols read as 0.
//
// Blocks are read by whole words, not bytes: binding 0 is seen through three views of the same
// buffer (aliases, as Vulkan allows), 32-bit words for the types whose blocks keep a row 4-byte
// aligned (F32, Q4_1 20 bytes, Q5_1 24, Q2_K 84, Q4_K 144, Q5_K 176), 16-bit words for the
// 2-byte-aligned ones (F16, BF16, Q8_0 34, Q4_0 18, Q5_0 22, Q3_K 110, Q6_K 210), two of which
// make a 32-bit word; nibbles and codes are unpacked from whole words. Only MXFP4 (17-byte blocks,
// any alignment) reads bytes. Tensors are bound at offsets aligned to at least 64 bytes and a
// stack's matrices and rows are whole blocks apart, so every block starts at a multiple of its
// type's alignment.
#if WTYPE == 39
layout(binding = 0) readonly buffer W8 { uint8_t wb[]; };
uint byte_at(uint o) { return uint(wb[o]); }
#endif
layout(binding = 0) readonly buffer W16 { uint16_t w16[]; };
layout(binding = 0) readonly buffer W32 { uint w32[]; };

uint u16_at(uint o) { return uint(w16[o >> 1]); }  // o even
uint u32_at(uint o) { return w32[o >> 2]; }         // o a multiple of 4
uint u32_at2(uint o) { return u16_at(o) | (u16_at(o + 2) << 16); }  // o even: two halves
float f16_at(uint o) { return unpackHalf2x16(u16_at(o)).x; }
// Byte k (0..3) of word w, unsigned and as a signed int8.
uint byte_of(uint w, uint k) { return (w >> (8 * k)) & 255u; }
int i8_of(uint w, uint k) { return bitfieldExtract(int(w), int(8 * k), 8); }

#if WTYPE == 39
// MXFP4's E2M1 code (bit 3 the sign) -> twice its value (quant/fp4.h kFp4Doubled).
const float kFp4Doubled[16] = float[16](0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
#endif

// Byte i (0..11) of a K-quant's 12 packed scale bytes, held as three words.
uint scale_byte(uvec3 s, uint i) { return byte_of(s[i >> 2], i & 3u); }

// Q4_K / Q5_K: the 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes.
void k_scale_min(uvec3 s, uint j, out uint sc, out uint mn) {
  if (j < 4) {
    sc = scale_byte(s, j) & 63u;
    mn = scale_byte(s, j + 4) & 63u;
  } else {
    sc = (scale_byte(s, j + 4) & 15u) | ((scale_byte(s, j - 4) >> 6) << 4);
    mn = (scale_byte(s, j + 4) >> 4) | ((scale_byte(s, j) >> 6) << 4);
  }
}

void dequant32(uint row, uint c, uint n_cols, inout float v[32]) {
#if WTYPE == 0  // F32
  for (uint i = 0; i < 32; ++i) {
    uint e = c * 32 + i;
    v[i] = e < n_cols ? uintBitsToFloat(u32_at(row + 4 * e)) : 0.0;
  }
#elif WTYPE == 1  // F16
  for (uint i = 0; i < 32; ++i) {
    uint e = c * 32 + i;
    v[i] = e < n_cols ? f16_at(row + 2 * e) : 0.0;
  }
#elif WTYPE == 30  // BF16
  for (uint i = 0; i < 32; ++i) {
    uint e = c * 32 + i;
    v[i] = e < n_cols ? uintBitsToFloat(u16_at(row + 2 * e) << 16) : 0.0;
  }
#elif WTYPE == 8  // Q8_0: f16 d, int8 q[32] (2-byte aligned: codes 4 a word from two halves)
  uint b = row + c * 34;
  float d = f16_at(b);
  for (uint i = 0; i < 8; ++i) {
    uint w = u32_at2(b + 2 + 4 * i);
    for (uint k = 0; k < 4; ++k) v[4 * i + k] = d * float(i8_of(w, k));
  }
#elif WTYPE == 2  // Q4_0: f16 d, q[16] nibbles (low: 0..15, high: 16..31), offset 8
  uint b = row + c * 18;
  float d = f16_at(b);
  for (uint i = 0; i < 4; ++i) {
    uint w = u32_at2(b + 2 + 4 * i);  // bytes 4i..4i+3: elements 4i+k (low), 4i+k+16 (high)
    for (uint k = 0; k < 4; ++k) {
      v[4 * i + k] = d * (float((w >> (8 * k)) & 15u) - 8.0);
      v[4 * i + k + 16] = d * (float((w >> (8 * k + 4)) & 15u) - 8.0);
    }
  }
#elif WTYPE == 3  // Q4_1: f16 d, f16 m, q[16] (4-byte aligned)
  uint b = row + c * 20;
  vec2 dm = unpackHalf2x16(u32_at(b));
  for (uint i = 0; i < 4; ++i) {
    uint w = u32_at(b + 4 + 4 * i);
    for (uint k = 0; k < 4; ++k) {
      v[4 * i + k] = dm.x * float((w >> (8 * k)) & 15u) + dm.y;
      v[4 * i + k + 16] = dm.x * float((w >> (8 * k + 4)) & 15u) + dm.y;
    }
  }
#elif WTYPE == 6 || WTYPE == 7  // Q5_0: f16 d, qh[4], q[16]; Q5_1: f16 d, f16 m, qh[4], q[16]
#if WTYPE == 6  // 2-byte aligned
  uint b = row + c * 22;
  float d = f16_at(b), m = -16.0 * d;
  uint qh = u32_at2(b + 2);
#define Q5_WORD(i) u32_at2(b + 6 + 4 * (i))
#else  // 4-byte aligned
  uint b = row + c * 24;
  vec2 dm = unpackHalf2x16(u32_at(b));
  float d = dm.x, m = dm.y;
  uint qh = u32_at(b + 4);
#define Q5_WORD(i) u32_at(b + 8 + 4 * (i))
#endif
  for (uint i = 0; i < 4; ++i) {
    uint w = Q5_WORD(i);
    for (uint k = 0; k < 4; ++k) {
      uint e = 4 * i + k, q = byte_of(w, k);
      uint x0 = (q & 15u) | (((qh >> e) << 4) & 16u);
      uint x1 = (q >> 4) | ((qh >> (e + 12)) & 16u);
      v[e] = d * float(x0) + m;
      v[e + 16] = d * float(x1) + m;
    }
  }
#undef Q5_WORD
#elif WTYPE == 12  // Q4_K: f16 d, f16 dmin, scales[12] (6-bit scale/min per 32), q[128]
  uint b = row + (c / 8) * 144;
  uint j = c % 8;
  vec2 dm = unpackHalf2x16(u32_at(b));
  uint sc, mn;
  k_scale_min(uvec3(u32_at(b + 4), u32_at(b + 8), u32_at(b + 12)), j, sc, mn);
  float dl = dm.x * float(sc), ml = dm.y * float(mn);
  uint q = b + 16 + (j / 2) * 32;
  uint shift = (j % 2) * 4;
  for (uint i = 0; i < 8; ++i) {
    uint w = u32_at(q + 4 * i) >> shift;
    for (uint k = 0; k < 4; ++k) v[4 * i + k] = dl * float((w >> (8 * k)) & 15u) - ml;
  }
#elif WTYPE == 14  // Q6_K: ql[128], qh[64], int8 scales[16], f16 d (2-byte aligned)
  uint b = row + (c / 8) * 210;
  uint j = c % 8;
  uint half_ = j / 4, quarter = j % 4;
  float d = f16_at(b + 208);
  uint ql = b + half_ * 64 + (quarter & 1u) * 32;
  uint qh = b + 128 + half_ * 32;
  uint lshift = quarter >= 2 ? 4 : 0;
  uint hshift = quarter * 2;
  // The chunk's two scales (elements 0..15, 16..31) are neighbouring bytes at an even offset.
  uint s2 = u16_at(b + 192 + half_ * 8 + quarter * 2);
  float d0 = d * float(i8_of(s2, 0)), d1 = d * float(i8_of(s2, 1));
  for (uint i = 0; i < 8; ++i) {
    uint wl = u32_at2(ql + 4 * i) >> lshift, wh = u32_at2(qh + 4 * i) >> hshift;
    for (uint k = 0; k < 4; ++k) {
      int q = int(((wl >> (8 * k)) & 15u) | (((wh >> (8 * k)) & 3u) << 4)) - 32;
      v[4 * i + k] = (i < 4 ? d0 : d1) * float(q);
    }
  }
#elif WTYPE == 13  // Q5_K: f16 d, f16 dmin, scales[12], qh[32], q[128]
  uint b = row + (c / 8) * 176;
  uint j = c % 8;
  vec2 dm = unpackHalf2x16(u32_at(b));
  uint sc, mn;
  k_scale_min(uvec3(u32_at(b + 4), u32_at(b + 8), u32_at(b + 12)), j, sc, mn);
  float dl = dm.x * float(sc), ml = dm.y * float(mn);
  uint q = b + 48 + (j / 2) * 32;
  uint shift = (j % 2) * 4;
  for (uint i = 0; i < 8; ++i) {
    uint w = u32_at(q + 4 * i) >> shift, h = u32_at(b + 16 + 4 * i) >> j;
    for (uint k = 0; k < 4; ++k) {
      uint x = ((w >> (8 * k)) & 15u) | (((h >> (8 * k)) & 1u) << 4);
      v[4 * i + k] = dl * float(x) - ml;
    }
  }
#elif WTYPE == 11  // Q3_K: hmask[32], q[64] (2 bits), scales[12] (16 x 6 bits, offset 32), f16 d
  uint b = row + (c / 8) * 110;  // 2-byte aligned
  uint j = c % 8;
  uint h = j / 4, k2 = j % 4;
  float d = f16_at(b + 108);
  uvec3 s = uvec3(u32_at2(b + 96), u32_at2(b + 100), u32_at2(b + 104));
  for (uint g = 0; g < 2; ++g) {
    // Scale 2 k2 + g of half h: 6 bits, low 4 from scales[0..7] (nibbles), high 2 from
    // scales[8..11].
    uint idx = h * 8 + 2 * k2 + g;
    uint lo = (idx < 8) ? (scale_byte(s, idx) & 15u) : (scale_byte(s, idx - 8) >> 4);
    uint hi = (scale_byte(s, 8 + idx % 4) >> (2 * (idx / 4))) & 3u;
    float dl = d * (float(lo | (hi << 4)) - 32.0);
    for (uint i = 0; i < 4; ++i) {
      uint l = g * 16 + 4 * i;
      uint wq = u32_at2(b + 32 + h * 32 + l) >> (2 * k2), wm = u32_at2(b + l) >> (4 * h + k2);
      for (uint k = 0; k < 4; ++k) {
        int q = int((wq >> (8 * k)) & 3u) - (((wm >> (8 * k)) & 1u) != 0u ? 0 : 4);
        v[l + k] = dl * float(q);
      }
    }
  }
#elif WTYPE == 10  // Q2_K: scales[16] (4-bit scale, 4-bit min), q[64] (2 bits), f16 d, f16 dmin
  uint b = row + (c / 8) * 84;  // 4-byte aligned
  uint j = c % 8;
  uint h = j / 4, k2 = j % 4;
  vec2 dm = unpackHalf2x16(u32_at(b + 80));
  // The chunk's two scale bytes h*8 + 2 k2 (+1) share a word (an even byte index).
  uint s2 = u32_at(b + h * 8 + (k2 / 2) * 4) >> (16 * (k2 % 2));
  for (uint g = 0; g < 2; ++g) {
    uint sc = byte_of(s2, g);
    float dl = dm.x * float(sc & 15u), ml = dm.y * float(sc >> 4);
    for (uint i = 0; i < 4; ++i) {
      uint l = g * 16 + 4 * i;
      uint w = u32_at(b + 16 + h * 32 + l) >> (2 * k2);
      for (uint k = 0; k < 4; ++k) v[l + k] = dl * float((w >> (8 * k)) & 3u) - ml;
    }
  }
#elif WTYPE == 39  // MXFP4: E8M0 exponent e, q[16] E2M1 nibbles (low: 0..15, high: 16..31)
  // quant/fp4.h: codes doubled to integers, the scale halved to 2^(e - 128) to compensate (exact:
  // a power of two times a small integer, as the CPU's reference). e < 2: the subnormals.
  // 17-byte blocks may start at any byte: read byte by byte.
  uint b = row + c * 17;
  uint e = byte_at(b);
  float d = uintBitsToFloat(e < 2u ? (0x00200000u << e) : ((e - 1u) << 23));
  for (uint i = 0; i < 16; ++i) {
    uint q = byte_at(b + 1 + i);
    v[i] = d * kFp4Doubled[q & 15u];
    v[i + 16] = d * kFp4Doubled[q >> 4];
  }
#else
#error unsupported WTYPE
#endif
}
