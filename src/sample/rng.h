#pragma once
// The sampler's random numbers: xoshiro256** (Blackman & Vigna, 2018) seeded through splitmix64.
// Written out here rather than taken from <random> so that a seed gives the same numbers, and so
// the same tokens, with every compiler and standard library.

#include <cstdint>

namespace hearth::sample {

// splitmix64 step: advances `state` and returns the next output. Also the seeding function.
uint64_t splitmix64(uint64_t& state);

class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t next_u64();
  // Uniform in [0, 1) with 53 random bits.
  double next_double();

  // A seed from the operating system's entropy (for seed -1).
  static uint64_t random_seed();

 private:
  uint64_t s_[4];
};

}  // namespace hearth::sample
