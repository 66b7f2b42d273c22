// sparse_attention: the core attention of DeepSeek-V4 (v4-model.md §6.4, S2 `sparse_attn`): MQA with one
// shared K = V head, one softmax per (query, head) over the query's index list plus a sink logit that
// enters only the denominator, processed in blocks of 64 list entries in list order with an fp32 running
// max and sum, probabilities rounded to bf16 before the P·V product. docs/sparse_attention.md.
//
// Per query t and head h, m = -inf, l = 0, o[c] = 0 (fp32); for each block of 64 list entries (the last
// padded with -1):
//   z_j   = -inf if idx_j == -1, else fp32(dot(q_h, kv[idx_j])) · scale      (dot: the bf16 MMA, Recipe)
//   m'    = max(m, max_j z_j);  α = exp(m - m');  p_j = exp(z_j - m')
//   l     = fma(l, α, Σ_j p_j)                                              (Σ: reference/reduce.h)
//   o     = fp32(o · α);  o = o + Σ_j bf16(p_j) · kv[idx_j]                 (the bf16 MMA into o, Recipe)
//   m     = m'
// then l = l + exp(sink_h - m), out = bf16(o / l).
// Optional: the inverse RoPE of the output's last 64 dims at the query position (v4-model.md §6.5).
#pragma once
#include <cstdint>

#include "reference/recipe.h"
#include "reference/rope.h"

namespace v4 {

constexpr int kAttnBlock = 64;                                // list entries per block (the kernel's block_I)
inline constexpr float kAttnScaleV4 = float(0.044194173824159216);  // 512^-1/2, passed to the kernel as fp32

// q: bf16 [T, H, c]; kv: bf16 [N, c]; idx: int32 [T, K] with entries in [-1, N); sink: fp32 [H];
// out: bf16 [T, H, c]. derotate (optional): inverse RoPE of out[..., c-64:] at position q_pos[t].
// Throws std::invalid_argument on an index outside [-1, N). Parallel over queries.
void sparse_attention(const uint16_t* q, const uint16_t* kv, int64_t N, const int32_t* idx, int64_t T, int64_t K,
                      int64_t H, int64_t c, const float* sink, float scale, Recipe r, uint16_t* out,
                      const RopeTable* derotate = nullptr, const int32_t* q_pos = nullptr);

}  // namespace v4
