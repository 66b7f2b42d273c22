// indexer: the lightning indexer's prefill (reference/indexer.h, docs/indexer.md).
#include "golden/ops.h"
#include "golden/ops/attention_inputs.h"
#include "reference/indexer.h"

namespace v4::golden {

namespace ai = attn_inputs;

std::vector<OpSpec> ops_indexer() {
  OpSpec op;
  op.name = "indexer";
  op.summary = "x bf16 [S, d], qr bf16 [S, dc], wq_b e4m3fn [nh*hd, dc] (+scale), weights_proj bf16 [nh, d], comp_wkv/comp_wgate f32 [2hd, d], comp_ape [4, 2hd], comp_norm [hd], cos, sin, topk, quant, fp4_sim -> idx i32 [S, min(topk, S/4)], kcache bf16 [S/4, hd], score f32 [S, S/4]";
  op.defaults = {{"S", 24}, {"d", 128}, {"dc", 128}, {"nh", 4}, {"hd", 128}, {"topk", 4}, {"quant", 1}, {"fp4_sim", 1}};
  op.has_recipe = true;
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t S = param(p, "S"), d = param(p, "d"), dc = param(p, "dc"), nh = param(p, "nh"), hd = param(p, "hd");
    const float sd = 1.0f / std::sqrt(float(d));
    std::vector<NamedTensor> v{{"x", ai::bf16_uniform(seed, "x", {S, d}, 1.0f)}, {"qr", ai::bf16_uniform(seed, "qr", {S, dc}, 1.0f)}};
    ai::push_fp8_weight(v, seed, "wq_b", nh * hd, dc, 1.0f / std::sqrt(float(dc)));
    v.push_back({"weights_proj", ai::bf16_uniform(seed, "weights_proj", {nh, d}, sd)});
    v.push_back({"comp_wkv", ai::f32_uniform(seed, "comp_wkv", {2 * hd, d}, sd)});
    v.push_back({"comp_wgate", ai::f32_uniform(seed, "comp_wgate", {2 * hd, d}, sd)});
    v.push_back({"comp_ape", ai::f32_uniform(seed, "comp_ape", {4, 2 * hd}, 0.5f)});
    v.push_back({"comp_norm", ai::f32_uniform(seed, "comp_norm", {hd}, 0.1f, 1.0f)});
    ai::push_rope_table(v, 4, S);
    v.push_back({"topk", scalar_i32(param(p, "topk"))});
    v.push_back({"quant", scalar_i32(param(p, "quant"))});
    v.push_back({"fp4_sim", scalar_i32(param(p, "fp4_sim"))});
    return ai::in_reading_order(std::move(v), {"x", "qr", "weights_proj", "comp_norm", "wq_b", "wq_b_scale", "comp_wkv", "comp_wgate", "comp_ape", "cos", "sin", "topk", "quant", "fp4_sim"});
  };
  op.run = [](const OpInputs& in, Recipe rc) {
    const Tensor& x = ai::bf16_mat_in(in, "x", -1, -1);
    const int64_t S = x.shape[0], d = x.shape[1];
    const Tensor& qr = ai::bf16_mat_in(in, "qr", S, -1);
    const int64_t dc = qr.shape[1];
    const Tensor& wp = ai::bf16_mat_in(in, "weights_proj", -1, d);
    const int64_t nh = wp.shape[0];
    const float* cnorm = ai::f32_vec_in(in, "comp_norm", -1);
    const int64_t hd = in.get("comp_norm", Fmt::f32).shape[0];
    if (hd <= 64 || (hd & (hd - 1))) in.fail("comp_norm", "index head dim must be a power of two above 64");
    const Fp8Weight wq_b = ai::fp8_weight_in(in, "wq_b", nh * hd, dc);
    const Tensor& cwkv = ai::f32_mat_in(in, "comp_wkv", 2 * hd, d);
    const Tensor& cwg = ai::f32_mat_in(in, "comp_wgate", 2 * hd, d);
    const Tensor& cape = ai::f32_mat_in(in, "comp_ape", 4, 2 * hd);
    const RopeTable tab = ai::rope_table_in(in);
    if (tab.positions < S) in.fail("cos", "the table must cover the S positions");
    const int64_t topk = in.get_i32_scalar("topk");
    if (topk <= 0) in.fail("topk", "must be positive");
    if (S < 4) in.fail("x", "fewer than 4 tokens: no compressed entry to select");
    const IndexerConfig cfg{d, dc, nh, hd, topk, 4, in.get_switch("quant"), in.get_switch("fp4_sim")};
    const IndexerWeights W{wq_b, wp.as<uint16_t>(), {cwkv.as<float>(), cwg.as<float>(), cape.as<float>(), cnorm}};
    const int64_t n = S / 4, K = indexer_prefill_width(topk, S, 4);
    const CompressorConfig cc = cfg.compressor();
    Tensor idx = Tensor::make(Fmt::i32, {S, K}), kc = Tensor::make(Fmt::bf16, {n, hd});
    std::vector<float> ks(static_cast<size_t>(cc.state_rows() * cc.width())), ss(ks.size());
    IndexerTrace tr;
    indexer_prefill(cfg, W, x.as<uint16_t>(), qr.as<uint16_t>(), S, tab, rc, S, idx.as<int32_t>(), kc.as<uint16_t>(),
                    ks.data(), ss.data(), &tr);
    Tensor score = Tensor::make(Fmt::f32, {S, n});
    std::copy(tr.score.begin(), tr.score.end(), score.as<float>());
    return std::vector<NamedTensor>{{"idx", std::move(idx)}, {"kcache", std::move(kc)}, {"score", std::move(score)}};
  };
  return {op};
}

}  // namespace v4::golden
