// shared_expert: the always-on MoE expert with FP8 weights (v4-model.md §11.2, §0.1; model.py
// MoE.shared_experts). Same structure as expert_ffn with fp8_gemm at the three linears and no routing
// weight:  g, u = f32(bf16(fp8_gemm(act_quant(x), W1/W3))); clamp; h = bf16(silu(g)·u);
//          y = bf16(fp8_gemm(act_quant(h), W2)).
// Switch shared_expert_clamp: on (default) = the later official release, swiglu_limit 10 as the routed
// experts; off = the earlier release, which built the shared expert without swiglu_limit.
// Quantization simulation off: bf16 weights (the dequantized values) and bf16_gemm (expert_ffn_bf16
// with no routing weight).
// Shapes: x [T, d] bf16; w1, w3 e4m3 [I, d] with ue8m0 scales [ceil(I/128), d/128]; w2 e4m3 [d, I] with
// scales [ceil(d/128), I/128]; y [T, d] bf16. docs/shared_expert.md.
#pragma once
#include <cstdint>

#include "reference/expert_ffn.h"

namespace v4 {

struct ExpertFp8Weights {
  const uint8_t *w1, *s1, *w3, *s3, *w2, *s2;
};

inline float shared_expert_limit(bool clamp) { return clamp ? kSwigluLimit : 0.0f; }

void shared_expert_fp8(const uint16_t* x, int64_t T, int64_t d, int64_t I, const ExpertFp8Weights& w, bool clamp,
                       Recipe r, uint16_t* y, ExpertTrace* trace = nullptr);
void shared_expert_bf16(const uint16_t* x, int64_t T, int64_t d, int64_t I, const ExpertBf16Weights& w, bool clamp,
                        Recipe r, uint16_t* y, ExpertTrace* trace = nullptr);

}  // namespace v4
