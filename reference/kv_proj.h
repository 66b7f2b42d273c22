// kv_proj: the window KV path of the V4 attention (v4-model.md §6.2): the single shared key/value vector
// of each token, serving as key and value for all H query heads.
//   kv = kv_norm( wkv(x) )               FP8 linear [T, d] -> [T, c], then weighted RMSNorm (bf16)
//   RoPE on kv[c-64 : c] at the token's position
//   FP8 simulation of kv[0 : c-64] in blocks of 64 (act_quant(.., 64, inplace)), the RoPE dims stay bf16
// Switches: quant (FP8 linear vs bf16 weights, linear.h); kv_fp8_sim (real e4m3 round trip, the later
// release; off = the earlier release, whose in-place cast to bf16 makes the simulation the identity).
// docs/kv_proj.md.
#pragma once
#include <cstdint>

#include "reference/linear.h"
#include "reference/recipe.h"
#include "reference/rope.h"

namespace v4 {

// The FP8 round trip of the non-RoPE dims of KV rows (bf16 codes [rows, c], in place): each row's
// elements [0, c - rope_dim) in blocks of 64 -> bf16(e4m3(x / s) · s), s the ue8m0 block scale. Also the
// attention compressor's output simulation (v4-model.md §7 step 3).
void kv_fp8_sim(uint16_t* kv, int64_t rows, int64_t c, int rope_dim);

// x: bf16 [T, d]; wkv: FP8 [c, d]; kv_norm: fp32 [c]; pos: int32 [T]; kv: bf16 [T, c] (out).
void kv_proj(const uint16_t* x, int64_t T, const Fp8Weight& wkv, const float* kv_norm, const int32_t* pos,
             const RopeTable& table, Recipe r, bool quant, bool kv_fp8_sim_on, uint16_t* kv);

}  // namespace v4
