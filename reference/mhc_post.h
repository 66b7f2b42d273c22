// mhc_post: the hyper-connection "post" step after every sublayer (v4-model.md §4.3; model.py
// Block.hc_post). Per token and target stream k (n = hc_mult = 4 streams):
//   R'_k = bf16( post_k · f32(f) + sum_j comb[j][k] · f32(R_j) )
// The contraction runs over the FIRST index of comb, the source stream j (report notation B = combᵀ).
// Canonical order: one (n+1)-term fp32 dot product, sequential fma from +0 over the terms
// post_k·f, comb[0][k]·R_0, ..., comb[n-1][k]·R_{n-1} (Recipe::exact: exact, rounded once), then bf16.
// Shapes: f [T, d] bf16 (the sublayer output); R [T, n, d] bf16; post [T, n] f32; comb [T, n, n] f32;
//         out [T, n, d] bf16. out may alias R (each position reads all of R before writing).
#pragma once
#include <cstdint>

#include "reference/mhc_pre.h"

namespace v4 {

void mhc_post(const uint16_t* f, const uint16_t* R, const float* post, const float* comb, const MhcShape& s, Recipe r,
              uint16_t* out);

}  // namespace v4
