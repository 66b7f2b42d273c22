// mhc_pre: the hyper-connection "pre" step of every sublayer (v4-model.md §4.1; model.py Block.hc_pre
// and kernel hc_split_sinkhorn). Per token, from the n residual streams R (n = hc_mult = 4):
//   1. X = f32(R) flattened stream-major, X = [R_0 | R_1 | ... | R_{n-1}]          [n·d]
//   2. rho = rsqrt(sum(X²) / (n·d) + norm_eps)
//   3. mix = (X · fnᵀ) · rho                 (GEMM on the un-normalized X, scaled after)   [m], m = (2+n)·n
//   4. pre_k  = sigmoid(mix[k]·scale[0] + base[k]) + hc_eps
//      post_k = 2 · sigmoid(mix[n+k]·scale[1] + base[n+k])
//      comb   = sinkhorn(L), L[j][k] = mix[2n + n·j + k]·scale[2] + base[2n + n·j + k]
//   5. x = bf16(sum_k pre_k · X_k)                                                  [d]
// Rounding points and reduction orders: docs/mhc_pre.md. The recipe applies to the mix GEMM
// (reference/gemm.h f32_gemm), the sum of squares and the collapse (reference/reduce.h).
// Shapes: R [T, n, d] bf16; fn [m, n·d] f32; base [m] f32; scale [3] f32;
//         x [T, d] bf16; post [T, n] f32; comb [T, n, n] f32; optional pre [T, n] f32, mix [T, m] f32.
#pragma once
#include <cstdint>

#include "reference/recipe.h"
#include "reference/sinkhorn.h"

namespace v4 {

inline constexpr float kNormEps = 1e-6f;  // norm_eps (Flash and Pro): the RMS eps of mHC and RMSNorm

struct MhcShape {
  int64_t T = 0;  // tokens
  int n = kHcMult;
  int64_t d = 0;  // hidden size
  int iters = kHcSinkhornIters;
  float norm_eps = kNormEps;
  float hc_eps = kHcEps;
  int64_t width() const { return int64_t(n) * d; }
  int64_t mix_width() const { return int64_t(2 + n) * n; }
};

// Steps 1-3 for `rows` outputs of fn (m for mhc_pre, n for mhc_head): mix [T, rows]. Tokens are
// processed in chunks, so memory stays at one chunk of f32(R) whatever T is.
void mhc_mix(const uint16_t* R, const float* fn, int64_t rows, const MhcShape& s, Recipe r, float* mix);
// Step 5: x[t] = bf16(sum_k pre[t][k] · f32(R[t][k])), the sum over k in ascending order.
void mhc_collapse(const uint16_t* R, const float* pre, const MhcShape& s, Recipe r, uint16_t* x);

void mhc_pre(const uint16_t* R, const float* fn, const float* base, const float* scale, const MhcShape& s, Recipe r,
             uint16_t* x, float* post, float* comb, float* pre_out = nullptr, float* mix_out = nullptr);

}  // namespace v4
