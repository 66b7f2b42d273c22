// mhc_head: the final collapse of the n residual streams before the last RMSNorm and the LM head
// (v4-model.md §4.4; model.py ParallelHead.hc_head; also used by MTP). Steps 1-3 of mhc_pre with
// n output rows, then, with no Sinkhorn and no post step:
//   pre_k = sigmoid(mix[k] · scale[0] + base[k]) + hc_eps,   y = bf16(sum_k pre_k · f32(R_k))
// Shapes: R [T, n, d] bf16; fn [n, n·d] f32; base [n] f32; scale [1] f32; y [T, d] bf16;
//         optional pre [T, n] f32, mix [T, n] f32.
#pragma once
#include <cstdint>

#include "reference/mhc_pre.h"

namespace v4 {

void mhc_head(const uint16_t* R, const float* fn, const float* base, const float* scale, const MhcShape& s, Recipe r,
              uint16_t* y, float* pre_out = nullptr, float* mix_out = nullptr);

}  // namespace v4
