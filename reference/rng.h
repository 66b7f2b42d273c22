// Counter-based random numbers: value = f(seed, stream, index), no state, so any element of any tensor
// can be regenerated independently, in any order, on host or device (design.md §5: weights described by
// their RNG recipe). The mixer is SplitMix64's finaliser applied to a Weyl-sequence position; streams are
// told apart by hashing their name (FNV-1a 64).
#pragma once
#include "reference/hd.h"

namespace v4 {

V4_HD uint64_t rng_mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// rng_u64 in two halves, for loops over one stream: the per-(seed, stream) key once, then one mix per
// element. rng_at(rng_key(seed, stream), index) == rng_u64(seed, stream, index).
V4_HD uint64_t rng_key(uint64_t seed, uint64_t stream) { return rng_mix64(seed ^ rng_mix64(stream + 0x9E3779B97F4A7C15ull)); }
V4_HD uint64_t rng_at(uint64_t key, uint64_t index) { return rng_mix64(key + index * 0x9E3779B97F4A7C15ull); }

V4_HD uint64_t rng_u64(uint64_t seed, uint64_t stream, uint64_t index) { return rng_at(rng_key(seed, stream), index); }

// FNV-1a 64 of a NUL-terminated name: the stream id of a named tensor.
V4_HD uint64_t rng_stream_id(const char* name) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (; *name; ++name) h = (h ^ uint8_t(*name)) * 0x100000001B3ull;
  return h;
}

// Uniform float32 in [0, 1) with 24 random bits (exact: k * 2^-24).
V4_HD float rng_uniform(uint64_t seed, uint64_t stream, uint64_t index) {
  return float(uint32_t(rng_u64(seed, stream, index) >> 40)) * 0x1p-24f;
}

}  // namespace v4
