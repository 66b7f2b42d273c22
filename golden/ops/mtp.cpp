// mtp: the depth-1 MTP block (reference/mtp.h, docs/mtp.md): input norms and projections, one SWA-only
// block with a score-routed MoE, the MTP head; a prefill chunk followed by decode steps.
#include <cmath>

#include "golden/ops.h"
#include "golden/ops/attention_inputs.h"
#include "golden/ops/expert_inputs.h"
#include "golden/ops/moe_inputs.h"
#include "golden/ops/scalars.h"
#include "reference/mtp.h"
#include "reference/random_tensor.h"

namespace v4::golden {

namespace ai = attn_inputs;

namespace {

// The mHC parameters of one sublayer, named prefix_fn [rows, n·d], prefix_base [rows], prefix_scale [srows].
void push_mhc(std::vector<NamedTensor>& v, uint64_t seed, const std::string& pre, int64_t rows, int64_t nd,
              int64_t srows) {
  v.push_back({pre + "_fn", random_f32_scaled(seed, pre + "_fn", {rows, nd}, -12)});
  v.push_back({pre + "_base", random_f32_scaled(seed, pre + "_base", {rows}, -8)});
  v.push_back({pre + "_scale", random_f32_scaled(seed, pre + "_scale", {srows}, -8)});
}
MhcParams read_mhc(const OpInputs& in, const std::string& pre, int64_t rows, int64_t nd, int64_t srows) {
  return {ai::f32_mat_in(in, pre + "_fn", rows, nd).as<float>(), ai::f32_vec_in(in, pre + "_base", rows),
          ai::f32_vec_in(in, pre + "_scale", srows)};
}

}  // namespace

std::vector<OpSpec> ops_mtp() {
  OpSpec op;
  op.name = "mtp";
  op.summary = "Hm bf16 [T, n, d], ids i32 [T], embed bf16 [V, d], switches, enorm/hnorm, e_proj/h_proj e4m3fn [d, d], "
               "hc_attn_*, attn_norm, SWA attention weights, hc_ffn_*, ffn_norm, MoE weights, hc_head_*, norm, head bf16 "
               "[V, d] -> logits f32 [T, V] (rows 0..prefill-1 from the prefill, the rest one decode step each), z_in, "
               "z_out bf16 [T, n, d]";
  op.defaults = {{"T", 12}, {"prefill", 8}, {"n", kHcMult}, {"d", 256}, {"H", 2}, {"c", 128}, {"dc", 128}, {"g", 1},
                 {"R", 128}, {"win", 8}, {"I", 128}, {"E", 8}, {"topk", 2}, {"V", 64}, {"quant", 1}};
  op.has_recipe = true;
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t T = param(p, "T"), n = param(p, "n"), d = param(p, "d"), I = param(p, "I"), E = param(p, "E"),
                  V = param(p, "V");
    const float sd = 1.0f / std::sqrt(float(d));
    const int64_t mw = (2 + n) * n;
    std::vector<NamedTensor> v{{"Hm", random_bf16(seed, "Hm", {T, n, d})},
                               {"ids", seeded_token_ids(seed, T, V)},
                               {"embed", ai::bf16_uniform(seed, "embed", {V, d}, 0.072f)}};
    for (const char* k : {"prefill", "win", "quant", "topk"}) v.push_back({k, scalar_i32(int32_t(param(p, k)))});
    v.push_back({"kv_fp8_sim", scalar_i32(1)});
    v.push_back({"shared_expert_clamp", scalar_i32(1)});
    v.push_back({"iters", scalar_i32(kHcSinkhornIters)});
    v.push_back({"route_scale", scalar_f32(kRouteScaleFlash)});
    v.push_back({"swiglu_limit", scalar_f32(kSwigluLimit)});
    v.push_back({"norm_eps", scalar_f32(kNormEps)});
    v.push_back({"hc_eps", scalar_f32(kHcEps)});
    v.push_back({"enorm", ai::f32_uniform(seed, "enorm", {d}, 0.1f, 1.0f)});
    v.push_back({"hnorm", ai::f32_uniform(seed, "hnorm", {d}, 0.1f, 1.0f)});
    ai::push_fp8_weight(v, seed, "e_proj", d, d, sd);
    ai::push_fp8_weight(v, seed, "h_proj", d, d, sd);
    push_mhc(v, seed, "hc_attn", mw, n * d, 3);
    v.push_back({"attn_norm", ai::f32_uniform(seed, "attn_norm", {d}, 0.1f, 1.0f)});
    ai::push_attention_core(v, seed, p);
    ai::push_rope_table(v, 0, T);
    push_mhc(v, seed, "hc_ffn", mw, n * d, 3);
    v.push_back({"ffn_norm", ai::f32_uniform(seed, "ffn_norm", {d}, 0.1f, 1.0f)});
    v.push_back({"gate_w", seeded_gate_weight(seed, E, d)});
    Tensor bias = Tensor::make(Fmt::f32, {E});
    weights_f32({seed, 3, -1}, "ffn.gate.bias", E, -5, bias.as<float>());
    v.push_back({"gate_bias", std::move(bias)});
    for (auto& t : seeded_fp4_expert(seed, d, I, E)) v.push_back(std::move(t));
    for (auto& t : seeded_fp8_expert(seed, d, I, "s")) v.push_back(std::move(t));
    push_mhc(v, seed, "hc_head", n, n * d, 1);
    v.push_back({"norm", ai::f32_uniform(seed, "norm", {d}, 0.1f, 1.0f)});
    v.push_back({"head", ai::bf16_uniform(seed, "head", {V, d}, sd)});
    return v;
  };
  op.run = [](const OpInputs& in, Recipe rc) {
    const Tensor& Hm = in.get("Hm", Fmt::bf16);
    in.require_rank("Hm", Hm, 3);
    const int64_t T = Hm.shape[0], n = Hm.shape[1], d = Hm.shape[2];
    if (n < 1 || n > kSinkhornMaxN) in.fail("Hm", "stream count n must be in 1.." + std::to_string(kSinkhornMaxN));
    if (d < kFp8Block || d % kFp8Block) in.fail("Hm", "d must be a positive multiple of 128");
    const Tensor& ids = in.get("ids", Fmt::i32);
    in.require_rank("ids", ids, 1);
    in.require_dim("ids", ids, 0, T, "one token id per position");
    const Tensor& emb = ai::bf16_mat_in(in, "embed", -1, d);
    for (int64_t t = 0; t < T; ++t)
      if (ids.as<int32_t>()[t] < 0 || ids.as<int32_t>()[t] >= emb.shape[0]) in.fail("ids", "token id outside the embedding");
    MtpConfig cfg;
    const int64_t S = in.get_i32_scalar("prefill");
    if (S < 1 || S > T) in.fail("prefill", "must be in [1, T]");
    cfg.attn = AttentionConfig{};
    cfg.attn.d = d;
    cfg.attn.ratio = 0;
    cfg.attn.win = in.get_i32_scalar("win");
    if (cfg.attn.win <= 0) in.fail("win", "must be positive");
    cfg.quant = cfg.attn.quant = cfg.moe.quant = in.get_switch("quant");
    cfg.moe.k = int(in.get_i32_scalar("topk"));
    cfg.attn.kv_fp8_sim = in.get_switch("kv_fp8_sim");
    cfg.moe.shared_expert_clamp = in.get_switch("shared_expert_clamp");
    cfg.hc.n = int(n);
    cfg.hc.iters = int(in.get_i32_scalar("iters"));
    if (cfg.hc.iters < 1) in.fail("iters", "must be >= 1");
    cfg.moe.route_scale = scalar_f32_input(in, "route_scale");
    cfg.moe.swiglu_limit = scalar_f32_input(in, "swiglu_limit");
    cfg.hc.norm_eps = scalar_f32_input(in, "norm_eps");
    cfg.hc.hc_eps = scalar_f32_input(in, "hc_eps");
    const int64_t mw = (2 + n) * n;
    MtpWeights W;
    W.embed = emb.as<uint16_t>();
    W.embed_rows = emb.shape[0];
    W.enorm = ai::f32_vec_in(in, "enorm", d);
    W.hnorm = ai::f32_vec_in(in, "hnorm", d);
    W.e_proj = ai::fp8_weight_in(in, "e_proj", d, d);
    W.h_proj = ai::fp8_weight_in(in, "h_proj", d, d);
    W.hc_attn = read_mhc(in, "hc_attn", mw, n * d, 3);
    W.attn_norm = ai::f32_vec_in(in, "attn_norm", d);
    ai::read_attention_core(in, cfg.attn, W.attn);  // the SWA-only layer's weights, as attention_swa reads them
    const RopeTable tab = ai::rope_table_in(in);
    if (tab.positions < T) in.fail("cos", "the table must cover the T positions");
    W.hc_ffn = read_mhc(in, "hc_ffn", mw, n * d, 3);
    W.ffn_norm = ai::f32_vec_in(in, "ffn_norm", d);
    const Tensor& gw = ai::bf16_mat_in(in, "gate_w", -1, d);
    cfg.moe.d = d;
    cfg.moe.E = gw.shape[0];
    if (cfg.moe.k < 1 || cfg.moe.k > cfg.moe.E) in.fail("topk", "must be in 1..E");
    W.gate_w = gw.as<uint16_t>();
    W.gate_bias = ai::f32_vec_in(in, "gate_bias", cfg.moe.E);
    const Fp4ExpertInputs ex = read_fp4_expert(in, "", d, cfg.moe.E);
    const Fp8ExpertInputs sh = read_fp8_expert(in, "s", d);
    if (sh.I != ex.I) in.fail("sw1", "the shared expert's I must equal the routed experts' I");
    cfg.moe.I = ex.I;
    const ExpertFp4Weights w = ex.weights();
    W.experts = stored_experts(w.w1, w.s1, w.w3, w.s3, w.w2, w.s2, d, cfg.moe.I);
    W.shared = sh.weights();
    const MhcParams hh = read_mhc(in, "hc_head", n, n * d, 1);
    const float* norm = ai::f32_vec_in(in, "norm", d);
    const Tensor& head = ai::bf16_mat_in(in, "head", -1, d);
    const int64_t V = head.shape[0];
    W.head = {hh.fn, hh.base, hh.scale, norm, head.as<uint16_t>(), V};

    AttentionState st = attention_state_init(cfg.attn, T);
    Tensor logits = Tensor::make(Fmt::f32, {T, V}), z_in = Tensor::make(Fmt::bf16, {T, n, d}),
           z_out = Tensor::make(Fmt::bf16, {T, n, d});
    const int64_t nd = n * d;
    MtpTrace tr;
    mtp_prefill(cfg, W, Hm.as<uint16_t>(), ids.as<int32_t>(), S, tab, rc, st, logits.as<float>(), &tr);
    std::copy(tr.z_in.begin(), tr.z_in.end(), z_in.as<uint16_t>());
    std::copy(tr.z_out.begin(), tr.z_out.end(), z_out.as<uint16_t>());
    for (int64_t p = S; p < T; ++p) {
      mtp_decode(cfg, W, Hm.as<uint16_t>() + p * nd, ids.as<int32_t>()[p], p, tab, rc, st, logits.as<float>() + p * V, &tr);
      std::copy(tr.z_in.begin(), tr.z_in.end(), z_in.as<uint16_t>() + p * nd);
      std::copy(tr.z_out.begin(), tr.z_out.end(), z_out.as<uint16_t>() + p * nd);
    }
    return std::vector<NamedTensor>{{"logits", std::move(logits)}, {"z_in", std::move(z_in)}, {"z_out", std::move(z_out)}};
  };
  return {op};
}

}  // namespace v4::golden
