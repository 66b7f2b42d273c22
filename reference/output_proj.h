// output_proj: the grouped output projection of the V4 attention (v4-model.md §6.6).
//   o [T, H, c] is split into g groups of D_g = H·c/g consecutive dims (group j = heads j·H/g .. (j+1)·H/g-1);
//   u[t, j, :] = bf16(o_j[t] · wo_a_jᵀ)   wo_a bf16 [g·R, D_g] viewed [g, R, D_g] (bf16 GEMM, one rounding)
//   y = wo_b(concat_j u[t, j])             FP8 linear [T, g·R] -> [T, d]
// wo_a is bf16 (convert.py dequantizes the checkpoint's FP8 wo_a). Switch: quant (wo_b, linear.h).
// docs/output_proj.md.
#pragma once
#include <cstdint>

#include "reference/linear.h"
#include "reference/recipe.h"

namespace v4 {

// o bf16 [T, H·c]; wo_a bf16 [g·R, H·c/g]; wo_b FP8 [d, g·R]; y bf16 [T, d]; u (optional) bf16 [T, g·R].
void output_proj(const uint16_t* o, int64_t T, int64_t Hc, int64_t g, const uint16_t* wo_a, int64_t R,
                 const Fp8Weight& wo_b, Recipe r, bool quant, uint16_t* y, uint16_t* u = nullptr);

}  // namespace v4
