// moe_gate: score-based MoE routing of the non-hash layers (v4-model.md §11.1; model.py Gate with
// score_func "sqrtsoftplus"). Per token:
//   a      = f32(x) · f32(W)ᵀ                         fp32 GEMM (f32_gemm, recipe)             [E]
//   sigma  = sqrt(softplus(a))                        pmath::softplus, IEEE sqrt                [E]
//   sel    = topk(sigma + bias, k)                    bias for the SELECTION only; reference/topk.h order
//   w_j    = (sigma[sel_j] / sum_i sigma[sel_i]) · route_scale   sum in list order; division, then multiply
// Shapes: x [T, d] bf16 (the ffn_norm output); W [E, d] bf16 (gate.weight, upcast exactly);
//         bias [E] f32 (null: no bias); weights [T, k] f32; idx [T, k] int32; optional scores [T, E] f32.
// docs/moe_gate.md.
#pragma once
#include <cstdint>

#include "reference/recipe.h"

namespace v4 {

inline constexpr int kMoeTopK = 6;              // n_activated_experts (Flash and Pro)
inline constexpr float kRouteScaleFlash = 1.5f;  // route_scale / routed_scaling_factor
inline constexpr float kRouteScalePro = 2.5f;

// scores [T, E] = sqrt(softplus(f32(x) · f32(W)ᵀ)).
void moe_gate_scores(const uint16_t* x, const uint16_t* w, int64_t T, int64_t d, int64_t E, Recipe r, float* scores);

// The routing weights of one token from its scores [E] and its selected experts sel [k]:
// w_j = fl(fl(scores[sel_j] / s) · route_scale), s = ((scores[sel_0] + scores[sel_1]) + ...) in list order.
void moe_route_weights(const float* scores, const int32_t* sel, int k, float route_scale, float* w);

void moe_gate(const uint16_t* x, const uint16_t* w, const float* bias, int64_t T, int64_t d, int64_t E, int k,
              float route_scale, Recipe r, float* weights, int32_t* idx, float* scores_out = nullptr);

}  // namespace v4
