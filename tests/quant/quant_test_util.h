#pragma once
// Helpers shared by the quant tests: random data, and quantize / dequantize through the table.

#include <cstdint>
#include <random>
#include <vector>

#include "quant/type_traits.h"

namespace hearth::quant::testing {

std::vector<float> random_normal(int64_t n, float sigma, uint32_t seed);

// Bytes of n elements of type t, quantized with the given tier's from_float.
std::vector<uint8_t> quantize(GgmlType t, const std::vector<float>& x, CpuTier tier = CpuTier::ref);
std::vector<float> dequantize(GgmlType t, const std::vector<uint8_t>& q, int64_t n,
                              CpuTier tier = CpuTier::ref);

double rms(const std::vector<float>& x);
double rmse(const std::vector<float>& a, const std::vector<float>& b);
double dot_double(const std::vector<float>& a, const std::vector<float>& b);
double abs_dot_double(const std::vector<float>& a, const std::vector<float>& b);

// Every tier this machine can run, ref first.
std::vector<CpuTier> available_tiers();

}  // namespace hearth::quant::testing
