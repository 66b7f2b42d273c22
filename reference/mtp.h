// mtp: the depth-1 multi-token-prediction block of DeepSeek-V4 (v4-model.md §12, §1.4; model.py MTPBlock).
// From the main model's final hc state Hm (the last Block's output, before hc_head) and the ids of the
// tokens one step ahead, per position t:
//   1. e  = enorm(embed[ids[t]])                           bf16 [d]      (shared embedding, RMSNorm)
//   2. hn = hnorm(Hm[t])                                   bf16 [n, d]   (RMSNorm of each stream)
//   3. Z  = bf16(f32(e_proj(e)) + f32(h_proj(hn)_k))       bf16 [n, d]   (two FP8 linears d→d; e_proj's
//                                                                        output broadcast over the n streams)
//   4. one Block (§4, §18) with SWA-only attention (ratio 0, θ = 10⁴, its own window cache) and a
//      score-routed MoE (bias, FP4 experts, FP8 shared expert):
//        a, post, comb = mhc_pre(Z; hc_attn); Z = mhc_post(attn(attn_norm(a)), Z, post, comb)
//        m, post, comb = mhc_pre(Z; hc_ffn);  Z = mhc_post(moe(ffn_norm(m)), Z, post, comb)
//   5. logits = lm_head(Z; mtp.hc_head_*, mtp.norm, the shared head.weight)       f32 [V]
// Token alignment is the caller's: the release pairs Hm at t with the embedding of token t+1 to predict
// t+2 (§12); ids[t] here is whatever token is embedded with Hm[t].
// Shapes: Hm [T, n, d] bf16; ids [T] int32; logits [T, V] f32. Every step is per token except the
// attention, whose prefill/decode protocol is attention_layer's. docs/mtp.md.
#pragma once
#include <cstdint>
#include <vector>

#include "reference/attention_layer.h"
#include "reference/lm_head.h"
#include "reference/mhc_pre.h"
#include "reference/moe_layer.h"

namespace v4 {

struct MtpConfig {
  AttentionConfig attn;  // ratio must be 0 (SWA-only)
  MoeLayerConfig moe;    // score routing (the MTP block has a gate bias, no hash table)
  MhcShape hc;           // n, iters, norm_eps (also the RMSNorm eps), hc_eps; T and d are set per call
  bool quant = true;     // e_proj / h_proj as FP8 (off: bf16 dequantized weights, as linear_fp8)
};

// The mHC parameters of one sublayer: fn [(2+n)n, n·d], base [(2+n)n], scale [3].
struct MhcParams {
  const float *fn, *base, *scale;
};

struct MtpWeights {
  const uint16_t* embed = nullptr;  // [V_embed, d] bf16, the main model's embedding
  int64_t embed_rows = 0;
  const float* enorm = nullptr;     // [d]
  const float* hnorm = nullptr;     // [d]
  Fp8Weight e_proj{}, h_proj{};     // [d, d]
  MhcParams hc_attn{}, hc_ffn{};
  const float* attn_norm = nullptr;  // [d]
  const float* ffn_norm = nullptr;   // [d]
  AttentionWeights attn{};
  const uint16_t* gate_w = nullptr;  // [E, d] bf16
  const float* gate_bias = nullptr;  // [E]
  ExpertSource experts;
  ExpertFp8Weights shared{};
  LmHeadWeights head{};  // mtp.hc_head_fn/base/scale, mtp.norm, the shared head.weight [V, d]
};

// Optional intermediates, [T, n, d] bf16 each: Z after the input projections (step 3), after the
// attention sublayer, and after the block (step 4).
struct MtpTrace {
  std::vector<uint16_t> z_in, z_attn, z_out;
};

// A prefill chunk of S tokens at positions 0..S-1 (resets st: attention_state_init(cfg.attn, max_seq)).
void mtp_prefill(const MtpConfig& cfg, const MtpWeights& W, const uint16_t* Hm, const int32_t* ids, int64_t S,
                 const RopeTable& table, Recipe rc, AttentionState& st, float* logits, MtpTrace* trace = nullptr);
// One decode step at position p (after a prefill of p tokens and decode steps up to p-1): Hm [n, d].
void mtp_decode(const MtpConfig& cfg, const MtpWeights& W, const uint16_t* Hm, int32_t id, int64_t p,
                const RopeTable& table, Recipe rc, AttentionState& st, float* logits, MtpTrace* trace = nullptr);

}  // namespace v4
