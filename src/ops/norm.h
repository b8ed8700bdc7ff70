#pragma once
// RMSNorm: out = x / sqrt(mean(x^2) + eps) * w, row by row. The sum of squares is kept in double
// so the result does not depend on summation order more than the last float rounding.

#include <cstdint>

namespace hearth::ops {

// x, out: [n_rows, n]; w: [n] (may be null: no scale). out may alias x. Runs the tier's vector
// kernel (activation_kernels.h); many rows are split over the global thread pool (one row never
// is, so a pool task may call it for one row).
void rmsnorm(const float* x, const float* w, int64_t n_rows, int64_t n, float eps, float* out);

// The specification: everything in double, one row at a time.
void rmsnorm_ref(const float* x, const float* w, int64_t n_rows, int64_t n, float eps, float* out);

// LayerNorm (BERT): out = (x - mean(x)) / sqrt(var(x) + eps) * w + b, row by row, with the
// variance of the centred values (the two-pass form ggml_norm uses, which keeps precision when
// the mean is large). w and b may be null (no scale, no shift). out may alias x. Many rows are
// split over the global thread pool; one row never is.
void layernorm(const float* x, const float* w, const float* b, int64_t n_rows, int64_t n,
               float eps, float* out);

// The specification: everything in double, one row at a time.
void layernorm_ref(const float* x, const float* w, const float* b, int64_t n_rows, int64_t n,
                   float eps, float* out);

}  // namespace hearth::ops
