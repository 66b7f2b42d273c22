// The fp32 reductions of the model components (sums and dot products outside the GEMMs: RMS norms,
// softmax sums, pooled sums, index-score head sums) under a Recipe (design.md §3):
//   canonical, hopper: sequential fp32 in ascending index order from +0; a sum adds with one RN add per
//                      term, a dot product is a chain of fused multiply-adds acc = fma(a_i, b_i, acc);
//   exact:             the exact value rounded once to fp32 (RNE).
// hopper equals canonical here: these reductions run on CUDA cores, not tensor cores.
#pragma once
#include <cmath>
#include <cstdint>

#include "reference/exact_acc.h"
#include "reference/recipe.h"

namespace v4 {

// Σ_i v[i·stride], i = 0 .. n-1.
inline float reduce_sum_f32(const float* v, int64_t n, int64_t stride, Recipe r) {
  if (r == Recipe::exact) {
    ExactAcc acc;
    for (int64_t i = 0; i < n; ++i) acc.add_float(v[i * stride]);
    return acc.round_to_f32();
  }
  float acc = 0.0f;
  for (int64_t i = 0; i < n; ++i) acc += v[i * stride];
  return acc;
}

// Σ_i a[i]·b[i], i = 0 .. n-1.
inline float reduce_dot_f32(const float* a, const float* b, int64_t n, Recipe r) {
  if (r == Recipe::exact) {
    ExactAcc acc;
    for (int64_t i = 0; i < n; ++i) acc.add_product(a[i], b[i]);
    return acc.round_to_f32();
  }
  float acc = 0.0f;
  for (int64_t i = 0; i < n; ++i) acc = std::fma(a[i], b[i], acc);
  return acc;
}

}  // namespace v4
