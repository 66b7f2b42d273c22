// hash_router: MoE routing of the hash layers 0..n_hash_layers-1 (v4-model.md §11.1; model.py Gate with
// tid2eid). The selection is a fixed table lookup, sel = tid2eid[token_id] (a checkpoint tensor: the
// table is the hash), independent of the scores; the weights still come from the gate's scores:
//   sigma = sqrt(softplus(f32(x) · f32(W)ᵀ)) (moe_gate_scores), w_j = (sigma[sel_j] / sum) · route_scale
// with the sum in the table's order (moe_route_weights). No bias.
// Shapes: x [T, d] bf16; W [E, d] bf16; token_ids [T] int32; tid2eid [V, k] int32;
//         weights [T, k] f32; idx [T, k] int32; optional scores [T, E] f32.
// Throws std::invalid_argument for a token id outside [0, V), a table entry outside [0, E), or a token
// whose k experts are not distinct (PyTorch's indexed `y[idx] += ...` would drop one of them).
#pragma once
#include <cstdint>

#include "reference/moe_gate.h"

namespace v4 {

inline constexpr int kHashLayers = 3;  // n_hash_layers: layers 0, 1, 2 route by token id

void hash_router(const uint16_t* x, const uint16_t* w, const int32_t* token_ids, const int32_t* tid2eid, int64_t V,
                 int64_t T, int64_t d, int64_t E, int k, float route_scale, Recipe r, float* weights, int32_t* idx,
                 float* scores_out = nullptr);

// The table checks alone (also used by the op to name the bad dataset): empty string if valid.
std::string hash_router_check(const int32_t* token_ids, const int32_t* tid2eid, int64_t V, int64_t T, int64_t E, int k);

}  // namespace v4
