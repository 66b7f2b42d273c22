// mtp: see mtp.h. Every step calls the component that defines it; this file only wires them in the
// order of v4-model.md §12 and §18.
#include "reference/mtp.h"

#include <stdexcept>
#include <string>

#include "reference/embed.h"
#include "reference/formats.h"
#include "reference/linear.h"
#include "reference/mhc_post.h"
#include "reference/rmsnorm.h"

namespace v4 {

namespace {

// p < 0: prefill of T tokens; otherwise one decode step (T = 1) at position p.
void mtp_run(const MtpConfig& cfg, const MtpWeights& W, const uint16_t* Hm, const int32_t* ids, int64_t T, int64_t p,
             const RopeTable& table, Recipe rc, AttentionState& st, float* logits, MtpTrace* trace) {
  const int64_t d = cfg.attn.d;
  if (cfg.attn.ratio != 0) throw std::invalid_argument("mtp: the MTP block's attention is SWA-only (ratio 0)");
  if (cfg.moe.d != d || W.e_proj.in != d || W.e_proj.out != d || W.h_proj.in != d || W.h_proj.out != d)
    throw std::invalid_argument("mtp: e_proj, h_proj and the MoE must be d x d with d = " + std::to_string(d));
  MhcShape s = cfg.hc;
  s.T = T;
  s.d = d;
  const int n = s.n;
  const float eps = s.norm_eps;
  // 1-2: the two normalized inputs.
  std::vector<uint16_t> emb(T * d), e(T * d);                           // [T, d]
  embed(W.embed, W.embed_rows, d, ids, T, 1, emb.data());
  rmsnorm(emb.data(), W.enorm, T, d, eps, rc, e.data());
  std::vector<uint16_t> hn(T * n * d);                                   // [T, n, d]
  rmsnorm(Hm, W.hnorm, T * n, d, eps, rc, hn.data());
  // 3: Z = bf16(e_proj(e) broadcast + h_proj(hn)), the bf16 add computed in fp32 and rounded once.
  std::vector<uint16_t> ep(T * d), hp(T * n * d), Z(T * n * d);          // [T, d], [T, n, d], [T, n, d]
  linear_fp8(e.data(), T, W.e_proj, rc, cfg.quant, ep.data());
  linear_fp8(hn.data(), T * n, W.h_proj, rc, cfg.quant, hp.data());
  for (int64_t t = 0; t < T; ++t)
    for (int k = 0; k < n; ++k)
      for (int64_t i = 0; i < d; ++i) {
        const int64_t z = (t * n + k) * d + i;
        Z[z] = bf16_encode(bf16_decode(ep[t * d + i]) + bf16_decode(hp[z]));
      }
  if (trace) trace->z_in = Z;
  // 4: the block. Attention sublayer.
  std::vector<uint16_t> a(T * d), x(T * d), f(T * d);                    // [T, d] each
  std::vector<float> post(T * n), comb(T * n * n);                       // [T, n], [T, n, n]
  mhc_pre(Z.data(), W.hc_attn.fn, W.hc_attn.base, W.hc_attn.scale, s, rc, a.data(), post.data(), comb.data());
  rmsnorm(a.data(), W.attn_norm, T, d, eps, rc, x.data());
  if (p < 0)
    attention_prefill(cfg.attn, W.attn, x.data(), T, table, rc, st, f.data());
  else
    attention_decode(cfg.attn, W.attn, x.data(), p, table, rc, st, f.data());
  mhc_post(f.data(), Z.data(), post.data(), comb.data(), s, rc, Z.data());
  if (trace) trace->z_attn = Z;
  // MoE sublayer (score routing with the gate bias).
  mhc_pre(Z.data(), W.hc_ffn.fn, W.hc_ffn.base, W.hc_ffn.scale, s, rc, a.data(), post.data(), comb.data());
  rmsnorm(a.data(), W.ffn_norm, T, d, eps, rc, x.data());
  MoeRouting routing;
  routing.gate_w = W.gate_w;
  routing.gate_bias = W.gate_bias;
  routing.token_ids = ids;
  moe_layer(x.data(), T, cfg.moe, routing, W.experts, W.shared, rc, f.data());
  mhc_post(f.data(), Z.data(), post.data(), comb.data(), s, rc, Z.data());
  if (trace) trace->z_out = Z;
  // 5: the MTP head with the shared head weight.
  lm_head(Z.data(), W.head, s, rc, logits);
}

}  // namespace

void mtp_prefill(const MtpConfig& cfg, const MtpWeights& W, const uint16_t* Hm, const int32_t* ids, int64_t S,
                 const RopeTable& table, Recipe rc, AttentionState& st, float* logits, MtpTrace* trace) {
  mtp_run(cfg, W, Hm, ids, S, -1, table, rc, st, logits, trace);
}

void mtp_decode(const MtpConfig& cfg, const MtpWeights& W, const uint16_t* Hm, int32_t id, int64_t p,
                const RopeTable& table, Recipe rc, AttentionState& st, float* logits, MtpTrace* trace) {
  if (p < 1) throw std::invalid_argument("mtp_decode: position must be >= 1 (after a prefill)");
  mtp_run(cfg, W, Hm, &id, 1, p, table, rc, st, logits, trace);
}

}  // namespace v4
