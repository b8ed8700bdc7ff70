#include "util/cpu_features.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace hearth {
namespace {

#if defined(__x86_64__) || defined(__i386__)
unsigned long long read_xcr0() {
  unsigned int eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  bool osxsave = c & (1u << 27);
  bool avx = c & (1u << 28);
  f.fma = c & (1u << 12);
  f.f16c = c & (1u << 29);
  if (!osxsave || !avx) return CpuFeatures{};
  unsigned long long xcr0 = read_xcr0();
  bool ymm_os = (xcr0 & 0x6) == 0x6;
  bool zmm_os = (xcr0 & 0xe6) == 0xe6;
  if (!ymm_os) return CpuFeatures{};
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  f.avx2 = b & (1u << 5);
  f.bmi2 = b & (1u << 8);
  if (zmm_os) {
    f.avx512f = b & (1u << 16);
    f.avx512dq = b & (1u << 17);
    f.avx512bw = b & (1u << 30);
    f.avx512vl = b & (1u << 31);
    f.avx512vnni = c & (1u << 11);
    f.gfni = c & (1u << 8);
    __cpuid_count(7, 1, a, b, c, d);
    f.avx512bf16 = a & (1u << 5);
  }
#endif
  return f;
}

CpuTier max_tier_of(const CpuFeatures& f) {
  bool avx2 = f.avx2 && f.fma && f.f16c && f.bmi2;
  bool avx512 = avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512vnni;
  if (avx512) return CpuTier::avx512;
  if (avx2) return CpuTier::avx2;
  return CpuTier::ref;
}

std::atomic<int> g_tier{-1};

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

CpuTier cpu_max_tier() { return max_tier_of(cpu_features()); }

CpuTier cpu_tier() {
  int t = g_tier.load(std::memory_order_acquire);
  if (t >= 0) return static_cast<CpuTier>(t);
  CpuTier tier = cpu_max_tier();
  CpuTier pinned;
  if (const char* env = std::getenv("HEARTH_CPU"); env && parse_cpu_tier(env, &pinned)) {
    if (pinned < tier) tier = pinned;
  }
  g_tier.store(static_cast<int>(tier), std::memory_order_release);
  return tier;
}

void set_cpu_tier(CpuTier tier) {
  if (tier > cpu_max_tier()) tier = cpu_max_tier();
  g_tier.store(static_cast<int>(tier), std::memory_order_release);
}

const char* cpu_tier_name(CpuTier tier) {
  switch (tier) {
    case CpuTier::ref: return "ref";
    case CpuTier::avx2: return "avx2";
    case CpuTier::avx512: return "avx512";
  }
  return "?";
}

bool parse_cpu_tier(const char* text, CpuTier* out) {
  if (std::strcmp(text, "ref") == 0) *out = CpuTier::ref;
  else if (std::strcmp(text, "avx2") == 0) *out = CpuTier::avx2;
  else if (std::strcmp(text, "avx512") == 0) *out = CpuTier::avx512;
  else return false;
  return true;
}

int cpu_physical_cores() {
  // Count distinct (physical id, core id) pairs; hyper-threads share a core and its FMA units.
  std::ifstream in("/proc/cpuinfo");
  std::set<std::pair<int, int>> cores;
  std::string line;
  int phys = 0;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (line.rfind("physical id", 0) == 0) phys = std::atoi(line.c_str() + colon + 1);
    if (line.rfind("core id", 0) == 0) cores.insert({phys, std::atoi(line.c_str() + colon + 1)});
  }
  int n = static_cast<int>(cores.size());
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  return n > 0 ? n : 1;
}

}  // namespace hearth
