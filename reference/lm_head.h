// lm_head: the end of the model (v4-model.md §3 items 4-6, §4.4, §18; model.py ParallelHead): collapse the
// n residual streams with hc_head, the final RMSNorm `norm`, and the fp32 logits against the head weight.
//   y = mhc_head(R; fn, base, scale)                 bf16 [d]   (reference/mhc_head.h)
//   x = rmsnorm(y; norm_w, norm_eps)                 bf16 [d]   (reference/rmsnorm.h)
//   logits = f32(x) @ f32(head)ᵀ                     fp32 [V]   (the release loads the bf16 head as fp32:
//                                                               a plain fp32 GEMM, one fp32 output)
// Shapes: R [T, n, d] bf16; fn [n, n·d] f32; base [n] f32; scale [1] f32; norm_w [d] f32 (bf16 values);
//         head [V, d] bf16 codes (the checkpoint storage); logits [T, V] f32; optional y, x [T, d] bf16.
// The release computes only the last position of a chunk; every row here is independent, so any subset
// of positions gives the same bits. The MTP block uses the same function with its own hc_head and norm
// and the shared head weight. docs/lm_head.md.
#pragma once
#include <cstdint>

#include "reference/mhc_pre.h"

namespace v4 {

struct LmHeadWeights {
  const float* hc_fn;    // [n, n·d]
  const float* hc_base;  // [n]
  const float* hc_scale; // [1]
  const float* norm;     // [d]
  const uint16_t* head;  // [V, d] bf16
  int64_t V;
};

// Vocabulary rows of the head upcast to fp32 at a time (memory: kLmHeadChunk·d floats, not V·d; every
// logit column is an independent dot product, so the chunking cannot change a bit).
inline constexpr int64_t kLmHeadChunk = 4096;

void lm_head(const uint16_t* R, const LmHeadWeights& W, const MhcShape& s, Recipe r, float* logits,
             uint16_t* y_out = nullptr, uint16_t* x_out = nullptr);

}  // namespace v4
