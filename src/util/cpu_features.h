#pragma once
// What the CPU can run, read once from CPUID and XGETBV. Kernel dispatch picks a tier from it;
// HEARTH_CPU=ref|avx2|avx512 pins a lower tier (tests use it to run every tier).

namespace hearth {

enum class CpuTier { ref = 0, avx2 = 1, avx512 = 2 };

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false, bmi2 = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512vnni = false, avx512bf16 = false;
  bool gfni = false;  // GF2P8AFFINEQB (bit permutations per byte): an extra, not part of a tier
};

const CpuFeatures& cpu_features();

// Highest tier this CPU supports.
CpuTier cpu_max_tier();

// The tier in force: cpu_max_tier(), lowered by HEARTH_CPU or set_cpu_tier(). Asking for a tier
// the CPU lacks gives the highest one it has.
CpuTier cpu_tier();
void set_cpu_tier(CpuTier tier);

const char* cpu_tier_name(CpuTier tier);
// Parses "ref", "avx2", "avx512"; returns false on anything else.
bool parse_cpu_tier(const char* text, CpuTier* out);

// Physical cores (the default thread count), at least 1.
int cpu_physical_cores();

}  // namespace hearth
