// attention_layer: one attention sublayer of each type, a prefill chunk followed by decode steps
// (reference/attention_layer.h, docs/attention_layer.md): attention_swa, attention_csa, attention_hca.
#include "golden/ops.h"
#include "golden/ops/attention_inputs.h"
#include "reference/attention_layer.h"

namespace v4::golden {

namespace ai = attn_inputs;

namespace {

OpSpec attention_op(const char* name, int64_t ratio) {
  OpSpec op;
  op.name = name;
  op.summary = std::string("x bf16 [T, d] and the layer weights (") +
               (ratio == 0 ? "SWA-only" : ratio == 4 ? "CSA: + comp_* [2c, d], idx_*" : "HCA: + comp_* [c, d]") +
               "), ratio, win, topk, prefill, quant, kv_fp8_sim, index_fp4_sim, cos, sin -> y bf16 [T, d] (rows 0..prefill-1 "
               "from the prefill, the rest one decode step each), o bf16 [T, H, c], kv_cache bf16 (final layer cache)";
  op.defaults = {{"T", ratio == 128 ? 140 : 24}, {"prefill", ratio == 128 ? 130 : 16}, {"d", 256}, {"H", 2}, {"c", 128},
                 {"dc", 128}, {"g", 1}, {"R", 128}, {"win", 8}, {"nI", 2}, {"cI", 128}, {"topk", 4}, {"quant", 1},
                 {"kv_fp8_sim", 1}, {"index_fp4_sim", 1}};
  op.has_recipe = true;
  op.make_inputs = [ratio](uint64_t seed, const ShapeParams& p) {
    const int64_t T = param(p, "T"), d = param(p, "d"), c = param(p, "c"), dc = param(p, "dc"), nI = param(p, "nI"),
                  cI = param(p, "cI");
    const float sd = 1.0f / std::sqrt(float(d)), sdc = 1.0f / std::sqrt(float(dc));
    std::vector<NamedTensor> v{{"x", ai::bf16_uniform(seed, "x", {T, d}, 1.0f)}};
    ai::push_attention_core(v, seed, p);
    if (ratio) {
      const int64_t w = ratio == 4 ? 2 * c : c;
      v.push_back({"comp_wkv", ai::f32_uniform(seed, "comp_wkv", {w, d}, sd)});
      v.push_back({"comp_wgate", ai::f32_uniform(seed, "comp_wgate", {w, d}, sd)});
      v.push_back({"comp_ape", ai::f32_uniform(seed, "comp_ape", {ratio, w}, 0.5f)});
      v.push_back({"comp_norm", ai::f32_uniform(seed, "comp_norm", {c}, 0.1f, 1.0f)});
    }
    if (ratio == 4) {
      ai::push_fp8_weight(v, seed, "idx_wq_b", nI * cI, dc, sdc);
      v.push_back({"idx_weights_proj", ai::bf16_uniform(seed, "idx_weights_proj", {nI, d}, sd)});
      v.push_back({"idx_comp_wkv", ai::f32_uniform(seed, "idx_comp_wkv", {2 * cI, d}, sd)});
      v.push_back({"idx_comp_wgate", ai::f32_uniform(seed, "idx_comp_wgate", {2 * cI, d}, sd)});
      v.push_back({"idx_comp_ape", ai::f32_uniform(seed, "idx_comp_ape", {4, 2 * cI}, 0.5f)});
      v.push_back({"idx_comp_norm", ai::f32_uniform(seed, "idx_comp_norm", {cI}, 0.1f, 1.0f)});
    }
    ai::push_rope_table(v, ratio, T);
    for (const char* k : {"win", "topk", "prefill", "quant", "kv_fp8_sim", "index_fp4_sim"}) v.push_back({k, scalar_i32(param(p, k))});
    v.push_back({"ratio", scalar_i32(ratio)});
    return ai::in_reading_order(std::move(v), {"x", "ratio", "win", "topk", "quant", "kv_fp8_sim", "index_fp4_sim", "prefill", "q_norm", "kv_norm", "attn_sink", "wq_a", "wq_a_scale", "wq_b", "wq_b_scale", "wkv", "wkv_scale", "wo_a", "wo_b", "wo_b_scale", "comp_wkv", "comp_wgate", "comp_ape", "comp_norm", "idx_weights_proj", "idx_comp_norm", "idx_wq_b", "idx_wq_b_scale", "idx_comp_wkv", "idx_comp_wgate", "idx_comp_ape", "cos", "sin"});
  };
  op.run = [](const OpInputs& in, Recipe rc) {
    const Tensor& x = ai::bf16_mat_in(in, "x", -1, -1);
    const int64_t T = x.shape[0], d = x.shape[1];
    AttentionConfig cfg{};
    cfg.d = d;
    cfg.ratio = in.get_i32_scalar("ratio");
    cfg.win = in.get_i32_scalar("win");
    cfg.topk = in.get_i32_scalar("topk");
    cfg.quant = in.get_switch("quant");
    cfg.kv_fp8_sim = in.get_switch("kv_fp8_sim");
    cfg.index_fp4_sim = in.get_switch("index_fp4_sim");
    const int64_t S = in.get_i32_scalar("prefill");
    if (cfg.ratio < 0) in.fail("ratio", "negative");
    if (cfg.win <= 0) in.fail("win", "must be positive");
    if (S < 1 || S > T) in.fail("prefill", "must be in [1, T]");
    AttentionWeights W{};
    ai::read_attention_core(in, cfg, W);
    const int64_t w = cfg.ratio == 4 ? 2 * cfg.c : cfg.c;
    if (cfg.ratio) {
      W.comp = {ai::f32_mat_in(in, "comp_wkv", w, d).as<float>(), ai::f32_mat_in(in, "comp_wgate", w, d).as<float>(),
                ai::f32_mat_in(in, "comp_ape", cfg.ratio, w).as<float>(), ai::f32_vec_in(in, "comp_norm", cfg.c)};
    }
    if (cfg.ratio == 4) {
      const Tensor& wp = ai::bf16_mat_in(in, "idx_weights_proj", -1, d);
      cfg.nI = wp.shape[0];
      const float* inorm = ai::f32_vec_in(in, "idx_comp_norm", -1);
      cfg.cI = in.get("idx_comp_norm", Fmt::f32).shape[0];
      if (cfg.cI <= 64 || (cfg.cI & (cfg.cI - 1))) in.fail("idx_comp_norm", "index head dim must be a power of two above 64");
      if (cfg.topk <= 0) in.fail("topk", "must be positive");
      W.index = {ai::fp8_weight_in(in, "idx_wq_b", cfg.nI * cfg.cI, cfg.dc), wp.as<uint16_t>(),
                 {ai::f32_mat_in(in, "idx_comp_wkv", 2 * cfg.cI, d).as<float>(),
                  ai::f32_mat_in(in, "idx_comp_wgate", 2 * cfg.cI, d).as<float>(),
                  ai::f32_mat_in(in, "idx_comp_ape", 4, 2 * cfg.cI).as<float>(), inorm}};
    }
    const RopeTable tab = ai::rope_table_in(in);
    if (tab.positions < T) in.fail("cos", "the table must cover the T positions");
    AttentionState st = attention_state_init(cfg, T);
    Tensor y = Tensor::make(Fmt::bf16, {T, d}), o = Tensor::make(Fmt::bf16, {T, cfg.H, cfg.c});
    const int64_t Hc = cfg.H * cfg.c;
    AttentionTrace tr;
    attention_prefill(cfg, W, x.as<uint16_t>(), S, tab, rc, st, y.as<uint16_t>(), &tr);
    std::copy(tr.o.begin(), tr.o.end(), o.as<uint16_t>());
    for (int64_t p = S; p < T; ++p) {
      attention_decode(cfg, W, x.as<uint16_t>() + p * d, p, tab, rc, st, y.as<uint16_t>() + p * d, &tr);
      std::copy(tr.o.begin(), tr.o.end(), o.as<uint16_t>() + p * Hc);
    }
    const int64_t rows = cfg.win + (cfg.ratio ? T / cfg.ratio : 0);
    Tensor kv = Tensor::make(Fmt::bf16, {rows, cfg.c});
    std::copy(st.kv.begin(), st.kv.begin() + rows * cfg.c, kv.as<uint16_t>());
    return std::vector<NamedTensor>{{"y", std::move(y)}, {"o", std::move(o)}, {"kv_cache", std::move(kv)}};
  };
  return op;
}

}  // namespace

std::vector<OpSpec> ops_attention_layer() {
  return {attention_op("attention_swa", 0), attention_op("attention_csa", 4), attention_op("attention_hca", 128)};
}

}  // namespace v4::golden
