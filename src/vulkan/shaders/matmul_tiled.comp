#version 450
// y [n_tok, n_rows] = x [n_tok, n_cols] W^T for a weight type (WTYPE, dequant.glsl), tiled for
// prompts: a workgroup computes 64 rows x TT tokens. Per chunk of 32 columns each of its 64
// invocations dequantizes one row's 32 weights into shared memory, the tile's TT x 32 inputs are
// staged beside them, and invocation (i, j) of an 8 x 8 grid accumulates rows i, i + 8, .., i + 56
// of tokens j, j + 8, ... So W is read once per TT tokens and x once per 64 rows, where
// matmul.comp (one row, 8 tokens a workgroup) reads W once per 8 tokens and x once per row.
// TT (tokens per tile, a multiple of 8) is a specialization constant: the host picks it per pass.
//
// EXPERTS (matmul_id_tiled_*): the mixture-of-experts product, y [n_slots, rows] with slot s =
// x_row(s) W_{ids[s]}^T (matmul_id.comp's contract). group_by_expert.comp has listed each
// expert's slots and list_expert_tiles.comp the work items (expert e, first slot t0 of a tile of
// TT of e's slots) and the indirect dispatch: workgroup (row tile, item) multiplies expert e's 64
// rows with slots t0 .. t0 + TT of e's list, so an expert's weights are read once per TT of its
// tokens instead of once per slot, and only tiles that hold slots are launched. Items past the
// dispatched count (capped at the device's limit) are taken in turn.
//
// No subgroup operations (lavapipe's subgroup is 8, NVIDIA's 32, AMD's 64). Loop iterations per
// invocation ~100 per chunk of 32 columns and tile: lavapipe (65,535 at most) could run rows of up
// to ~20k columns; the backend takes this shader on GPUs, where no such limit applies.
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_control_flow_attributes : enable
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint TT = 32;
layout(binding = 1) readonly buffer X { float x[]; };
#if EXPERTS
// count[n_expert], first[n_expert], the slots grouped by expert (group_by_expert.comp), then the
// indirect command, the item count and the work items (list_expert_tiles.comp).
layout(binding = 2) readonly buffer Groups { uint groups[]; };
layout(binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint n_cols, n_rows, n_slots, row_bytes, k, x_per_slot, n_expert; } p;
#else
layout(binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint n_cols, n_rows, n_tok, row_bytes, w_off, tiles_per_z; } p;
#endif
#include "dequant.glsl"  // binding 0: the weights
const uint kNone = 0xffffffffu;
// Rows of 33: invocations reading the same column of different rows hit different banks.
shared float ws[64 * 33];
shared float xs[TT * 33];
// The x row each of the tile's token columns reads and the y row it writes (kNone: no token).
shared uint x_row[TT], y_row[TT];

// The tile of rows [r0, r0 + 64) of the matrix at byte w_base and the tokens in x_row / y_row.
void product_tile(uint w_base, uint r0) {
  const uint tid = gl_LocalInvocationID.x, ti = tid % 8, tj = tid / 8;
  float acc[8][TT / 8];
  [[unroll]] for (uint i = 0; i < 8; ++i) {
    [[unroll]] for (uint j = 0; j < TT / 8; ++j) acc[i][j] = 0.0;
  }
  const uint n_chunks = (p.n_cols + 31) / 32;
  for (uint c = 0; c < n_chunks; ++c) {
    const uint n = min(32, p.n_cols - c * 32);
    barrier();  // the previous chunk's tiles are read (and, before the first, x_row is written)
    float v[32];
    if (r0 + tid < p.n_rows) {
      dequant32(w_base + (r0 + tid) * p.row_bytes, c, p.n_cols, v);
    } else {
      [[unroll]] for (uint k = 0; k < 32; ++k) v[k] = 0.0;
    }
    [[unroll]] for (uint k = 0; k < 32; ++k) ws[tid * 33 + k] = k < n ? v[k] : 0.0;
    for (uint e = tid; e < TT * 32; e += 64) {
      const uint t = e / 32, k = e % 32, xr = x_row[t];
      xs[t * 33 + k] = xr != kNone && k < n ? x[xr * p.n_cols + c * 32 + k] : 0.0;
    }
    barrier();
    for (uint k = 0; k < 32; ++k) {
      float a[8];
      [[unroll]] for (uint i = 0; i < 8; ++i) a[i] = ws[(ti + 8 * i) * 33 + k];
      [[unroll]] for (uint j = 0; j < TT / 8; ++j) {
        const float b = xs[(tj + 8 * j) * 33 + k];
        [[unroll]] for (uint i = 0; i < 8; ++i) acc[i][j] += a[i] * b;
      }
    }
  }
  [[unroll]] for (uint i = 0; i < 8; ++i) {
    const uint r = r0 + ti + 8 * i;
    [[unroll]] for (uint j = 0; j < TT / 8; ++j) {
      const uint yr = y_row[tj + 8 * j];
      if (r < p.n_rows && yr != kNone) y[yr * p.n_rows + r] = acc[i][j];
    }
  }
}

void main() {
  const uint tid = gl_LocalInvocationID.x;
#if EXPERTS
  const uint r0 = gl_WorkGroupID.x * 64;
  if (r0 >= p.n_rows) return;  // a stack narrower than the call's widest (the whole workgroup)
  // The work list after the grouping: the command (3 words), the item count, the items.
  const uint tail = 2 * p.n_expert + p.n_slots, n_items = groups[tail + 3];
  for (uint item = gl_WorkGroupID.y; item < n_items; item += gl_NumWorkGroups.y) {
    const uint e = groups[tail + 4 + 2 * item], t0 = groups[tail + 5 + 2 * item];
    const uint count = groups[e], first = 2 * p.n_expert + groups[p.n_expert + e];
    barrier();  // the previous tile's y_row is read
    for (uint t = tid; t < TT; t += 64) {
      const uint s = t0 + t < count ? groups[first + t0 + t] : kNone;
      y_row[t] = s;
      x_row[t] = s == kNone ? kNone : p.x_per_slot != 0 ? s : s / p.k;
    }
    product_tile(e * p.n_rows * p.row_bytes, r0);
  }
#else
  const uint t0 = gl_WorkGroupID.y * TT;
  for (uint t = tid; t < TT; t += 64) x_row[t] = y_row[t] = t0 + t < p.n_tok ? t0 + t : kNone;
  product_tile(p.w_off, (gl_WorkGroupID.x + gl_WorkGroupID.z * p.tiles_per_z) * 64);
#endif
}
