// q_proj: the query path of the V4 attention (v4-model.md §6.1).
//   qr = q_norm( wq_a(x) )          FP8 linear [T, d] -> [T, dc], weighted RMSNorm (bf16); the q LoRA
//                                   output, also the indexer's input
//   q  = wq_b(qr)                   FP8 linear -> [T, H·c], viewed [T, H, c]
//   per-head RMS in bf16 arithmetic (q_head_rms_bf16), then RoPE on q[t, h, c-64 : c] at position pos[t]
// Switch: quant (FP8 linears vs bf16 weights, linear.h). docs/q_proj.md.
#pragma once
#include <cstdint>

#include "reference/linear.h"
#include "reference/recipe.h"
#include "reference/rope.h"

namespace v4 {

// The unweighted per-head RMS normalisation of a bf16 tensor, evaluated in bf16 arithmetic as PyTorch
// does on a bf16 tensor (`q *= rsqrt(q.square().mean(-1, keepdim=True) + eps)`), in place on bf16 codes
// [rows, c]:  sq_i = bf16(q_i²);  m = bf16(fp32(Σ_i sq_i) / c);  e = bf16(m + eps);
//             s = bf16(rsqrt(e));  q_i = bf16(q_i · s).      Σ: reference/reduce.h.
void q_head_rms_bf16(uint16_t* q, int64_t rows, int64_t c, float eps, Recipe r);

// x: bf16 [T, d]; wq_a: FP8 [dc, d]; q_norm: fp32 [dc]; wq_b: FP8 [H·c, dc]; pos: int32 [T].
// Out: qr bf16 [T, dc]; q bf16 [T, H, c] with c = wq_b.out / H.
void q_proj(const uint16_t* x, int64_t T, const Fp8Weight& wq_a, const float* q_norm, const Fp8Weight& wq_b,
            int64_t H, const int32_t* pos, const RopeTable& table, Recipe r, bool quant, uint16_t* qr, uint16_t* q);

}  // namespace v4
