// expert_ffn: one routed MoE expert, SwiGLU with clamp and FP4 weights (v4-model.md §11.2; model.py
// Expert with swiglu_limit = 10, linear() dispatch §2.5). For the T tokens routed to the expert:
//   g = f32(bf16(fp4_gemm(act_quant(x, 128), W1)))        [T, I]
//   u = f32(bf16(fp4_gemm(act_quant(x, 128), W3)))        [T, I]
//   u = clamp(u, -limit, limit); g = min(g, limit)          (limit > 0; the gate is clamped ABOVE only)
//   h = bf16(w · (silu(g) · u))                             fp32: silu, one product, the routing weight
//                                                           w applied BEFORE the down projection
//   y = bf16(fp4_gemm(act_quant(h, 128), W2))              [T, d]
// Quantization simulation off (expert_ffn_bf16): the same with bf16 weights (the dequantized values)
// and bf16_gemm at the three linears (bf16 in, fp32 accumulation, bf16 out), no act_quant.
// Shapes: x [T, d] bf16; route_w [T] f32 (null: no routing weight, the shared expert);
//   FP4: w1, w3 e2m1 packed [I, d/2] with ue8m0 scales [I, d/32]; w2 packed [d, I/2], scales [d, I/32];
//   bf16: w1, w3 [I, d], w2 [d, I]; y [T, d] bf16. d and I multiples of 128 (the FP8 activation block).
// docs/expert_ffn.md.
#pragma once
#include <cstdint>

#include "reference/hd.h"
#include "reference/pmath.h"
#include "reference/recipe.h"

namespace v4 {

inline constexpr float kSwigluLimit = 10.0f;  // swiglu_limit (Flash and Pro)

// One element of the SwiGLU middle (fp32). limit <= 0: no clamp (model.py's `if swiglu_limit > 0`).
// Clamps keep NaN (as torch.clamp). route_w null-equivalent: pass has_w = false.
V4_HD float swiglu_element(float g, float u, float limit, bool has_w, float w) {
  if (limit > 0.0f) {
    if (u > limit) u = limit;
    if (u < -limit) u = -limit;
    if (g > limit) g = limit;
  }
  const float h = pmath::silu(g) * u;
  return has_w ? w * h : h;
}

// h [T, I] bf16 from g, u [T, I] bf16 and route_w [T] (or null).
void swiglu(const uint16_t* g, const uint16_t* u, const float* route_w, int64_t T, int64_t I, float limit, uint16_t* h);

struct ExpertFp4Weights {
  const uint8_t *w1, *s1, *w3, *s3, *w2, *s2;
};
struct ExpertBf16Weights {
  const uint16_t *w1, *w3, *w2;
};
// Optional intermediates (any pointer may be null): gate and up after the bf16 rounding, before the
// clamp, [T, I]; h [T, I]; gemm_seconds accumulates the wall time of the three GEMM calls (benchmarks).
struct ExpertTrace {
  uint16_t* gate = nullptr;
  uint16_t* up = nullptr;
  uint16_t* h = nullptr;
  double* gemm_seconds = nullptr;
};

void expert_ffn_fp4(const uint16_t* x, const float* route_w, int64_t T, int64_t d, int64_t I,
                    const ExpertFp4Weights& w, float limit, Recipe r, uint16_t* y, ExpertTrace* trace = nullptr);
void expert_ffn_bf16(const uint16_t* x, const float* route_w, int64_t T, int64_t d, int64_t I,
                     const ExpertBf16Weights& w, float limit, Recipe r, uint16_t* y, ExpertTrace* trace = nullptr);

}  // namespace v4
