// sinkhorn: the mHC residual-mixing matrix "comb" from its logits (v4-model.md §4.1 step 4, the
// official kernel hc_split_sinkhorn), exactly in the release's order, per token, fp32:
//   1. row softmax:      M[j][k] = exp(L[j][k] - max_k L[j][.]) / (sum_k exp(.)) + eps
//   2. column normalize: M[j][k] = M[j][k] / (sum_j M[j][k] + eps)
//   3. iters - 1 times:  row normalize M[j][k] /= (sum_k M[j][k] + eps), then column normalize (2).
// Every sum is sequential in ascending index from the first term; every normalization is an IEEE
// division (not a multiply by a reciprocal); exp is pmath::exp. docs/sinkhorn.md.
// Shapes: logits, comb [T, n, n] fp32, n = hc_mult (4 in V4), row j = source stream, column k = target.
#pragma once
#include <cstdint>

#include "reference/hd.h"
#include "reference/pmath.h"

namespace v4 {

inline constexpr int kHcMult = 4;            // hc_mult: residual streams (Flash and Pro)
inline constexpr int kHcSinkhornIters = 20;  // hc_sinkhorn_iters
inline constexpr float kHcEps = 1e-6f;       // hc_eps
inline constexpr int kSinkhornMaxN = 16;     // bound of the per-token scratch below

// One matrix: m [n, n] in place, logits in, comb out. n <= kSinkhornMaxN, iters >= 1.
V4_HD void sinkhorn_matrix(float* m, int n, int iters, float eps) {
  float sum[kSinkhornMaxN];
  for (int j = 0; j < n; ++j) {  // 1. row softmax + eps
    float* row = m + j * n;
    float mx = row[0];
    for (int k = 1; k < n; ++k) mx = row[k] > mx ? row[k] : mx;
    float s = 0.0f;
    for (int k = 0; k < n; ++k) {
      row[k] = pmath::exp(row[k] - mx);
      s = k == 0 ? row[k] : s + row[k];
    }
    for (int k = 0; k < n; ++k) row[k] = row[k] / s + eps;
  }
  for (int it = 0; it < iters; ++it) {
    if (it > 0) {  // 3. row normalization (rounds 2 .. iters)
      for (int j = 0; j < n; ++j) {
        float s = m[j * n];
        for (int k = 1; k < n; ++k) s = s + m[j * n + k];
        const float den = s + eps;
        for (int k = 0; k < n; ++k) m[j * n + k] = m[j * n + k] / den;
      }
    }
    for (int k = 0; k < n; ++k) {  // 2. column normalization
      float s = m[k];
      for (int j = 1; j < n; ++j) s = s + m[j * n + k];
      sum[k] = s + eps;
    }
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < n; ++k) m[j * n + k] = m[j * n + k] / sum[k];
  }
}

// All tokens: comb[t] = sinkhorn(logits[t]). Tokens are independent (parallel over t).
// Throws std::invalid_argument for n outside 1..kSinkhornMaxN or iters < 1.
void sinkhorn(const float* logits, int64_t T, int n, int iters, float eps, float* comb);

}  // namespace v4
