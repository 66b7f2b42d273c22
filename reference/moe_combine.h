// moe_combine: the MoE output of a token from its routed experts' outputs and the shared expert's
// (v4-model.md §11.3; model.py MoE.forward). Accumulation order matters and is fixed by the release's
// loop over experts: y = 0 (fp32); for e = 0, 1, ..., E-1 in ASCENDING EXPERT ID, y += f32(y_e) for the
// tokens routed to e; then y += f32(shared); out = bf16(y). So each token's sum is
// ((0 + y_{e_a}) + y_{e_b}) + ... + shared with e_a < e_b < ..., not in top-k order.
// Shapes: y_routed [T, k, d] bf16 (slot j = output of expert idx[t][j], already weighted by the routing
// weight inside the expert); idx [T, k] int32 (distinct per token); shared [T, d] bf16 (null: none);
// out [T, d] bf16.
#pragma once
#include <cstdint>

namespace v4 {

void moe_combine(const uint16_t* y_routed, const int32_t* idx, const uint16_t* shared, int64_t T, int k, int64_t d,
                 uint16_t* out);

}  // namespace v4
