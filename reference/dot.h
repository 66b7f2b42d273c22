// Short fp32 dot products inside components (RMS sums of squares, mHC collapses), under a Recipe:
//   canonical / hopper: sequential fp32 fma in ascending index from +0 (design.md §3; these reductions
//                       run on CUDA cores, so hopper has no tensor-core variant of them);
//   exact:              the exact sum of the exact products, rounded once to fp32.
// Strided operands: element i of a is a[i * sa], of b is b[i * sb].
#pragma once
#include <cmath>
#include <cstdint>

#include "reference/exact_acc.h"
#include "reference/recipe.h"

namespace v4 {

inline float dot_f32(const float* a, int64_t sa, const float* b, int64_t sb, int64_t n, Recipe r) {
  if (r == Recipe::exact) {
    ExactAcc acc;
    for (int64_t i = 0; i < n; ++i) acc.add_product(a[i * sa], b[i * sb]);
    return acc.round_to_f32();
  }
  float acc = 0.0f;
  for (int64_t i = 0; i < n; ++i) acc = std::fma(a[i * sa], b[i * sb], acc);
  return acc;
}

}  // namespace v4
