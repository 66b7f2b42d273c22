// rmsnorm: the weighted RMSNorm of DeepSeek-V4 (v4-model.md §2.9; attn_norm, ffn_norm, q_norm, kv_norm,
// the compressor norms, the final norm). Per row, in this order (normalize, scale, cast):
//   ms = fp32(Σ_i x_i² / n)            x_i = fp32(bf16 input); Σ by reduce_dot_f32(x, x) (reference/reduce.h)
//   r  = rsqrt(fp32(ms + eps))          pmath::rsqrt, correctly rounded
//   y_i = bf16( fp32( w_i · fp32(x_i · r) ) )
// Shapes: x bf16 codes [rows, n], w fp32 [n] (the bf16 checkpoint value upcast), y bf16 codes [rows, n].
// Rows are independent (batch invariant); OpenMP over rows only. docs/rmsnorm.md.
#pragma once
#include <cstdint>

#include "reference/recipe.h"

namespace v4 {

constexpr float kRmsNormEps = 1e-6f;  // norm_eps of V4-Flash/Pro (v4-model.md §17 item 10: not V4.1's 1e-20)

void rmsnorm(const uint16_t* x, const float* w, int64_t rows, int64_t n, float eps, Recipe r, uint16_t* y);

}  // namespace v4
