// moe_layer: routing + routed FP4 experts + FP8 shared expert + combine (reference/moe_layer.h,
// docs/moe_layer.md).
#include "golden/ops.h"
#include "golden/ops/expert_inputs.h"
#include "golden/ops/moe_inputs.h"
#include "golden/ops/scalars.h"
#include "reference/hash_router.h"
#include "reference/moe_layer.h"
#include "reference/random_tensor.h"

namespace v4::golden {

std::vector<OpSpec> ops_moe_layer() {
  OpSpec op;
  op.name = "moe_layer";
  op.summary = "x bf16 [T, d], token_ids i32 [T], gate_w bf16 [E, d], gate_bias f32 [E] (hash=0) or tid2eid i32 [V, topk] "
               "(hash=1), experts w1/w3/w2 e2m1x2 [E, ...] + scales, shared sw1/sw3/sw2 e4m3fn + scales, switches -> "
               "out bf16 [T, d], weights, idx, y_routed bf16 [T, topk, d], shared bf16 [T, d]";
  op.defaults = {{"T", 8}, {"d", 256}, {"I", 128}, {"E", 16}, {"V", 100}, {"topk", kMoeTopK}, {"hash", 0}, {"quant", 1}};
  op.has_recipe = true;
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t T = param(p, "T"), d = param(p, "d"), I = param(p, "I"), E = param(p, "E"), V = param(p, "V");
    const int k = int(param(p, "topk"));
    const bool hash = param(p, "hash") != 0;
    std::vector<NamedTensor> v{{"x", seeded_normal_bf16(seed, "x", {T, d}, 0)},
                               {"token_ids", seeded_token_ids(seed, T, V)},
                               {"hash", scalar_i32(int32_t(param(p, "hash")))},
                               {"topk", scalar_i32(k)},
                               {"gate_w", seeded_gate_weight(seed, E, d)}};
    if (hash) {  // only the routing table the run consumes: the seeded file must equal its replay
      Tensor table = Tensor::make(Fmt::i32, {V, int64_t(k)});
      weights_tid2eid({seed, 0, -1}, V, E, k, table.as<int32_t>());
      v.push_back({"tid2eid", std::move(table)});
    } else {
      Tensor bias = Tensor::make(Fmt::f32, {E});
      weights_f32({seed, 3, -1}, "ffn.gate.bias", E, -5, bias.as<float>());
      v.push_back({"gate_bias", std::move(bias)});
    }
    for (auto& t : seeded_fp4_expert(seed, d, I, E)) v.push_back(std::move(t));
    for (auto& t : seeded_fp8_expert(seed, d, I, "s")) v.push_back(std::move(t));
    v.push_back({"route_scale", scalar_f32(kRouteScaleFlash)});
    v.push_back({"swiglu_limit", scalar_f32(kSwigluLimit)});
    v.push_back({"shared_expert_clamp", scalar_i32(1)});
    v.push_back({"quant", scalar_i32(int32_t(param(p, "quant")))});
    return v;
  };
  op.run = [](const OpInputs& in, Recipe r) {
    const ExpertActivations x = read_expert_x(in);
    const int64_t T = x.T, d = x.d;
    const Tensor& ids = in.get("token_ids", Fmt::i32);
    in.require_rank("token_ids", ids, 1);
    in.require_dim("token_ids", ids, 0, T, "one id per token");
    const bool hash = in.get_switch("hash");
    const int32_t k = in.get_i32_scalar("topk");
    const Tensor& gw = in.get("gate_w", Fmt::bf16);
    in.require_rank("gate_w", gw, 2);
    in.require_dim("gate_w", gw, 1, d, "d columns");
    MoeLayerConfig cfg;
    cfg.d = d;
    cfg.E = gw.shape[0];
    cfg.k = k;
    if (k < 1 || k > cfg.E) in.fail("topk", "must be in 1..E");
    MoeRouting routing;
    routing.gate_w = gw.as<uint16_t>();
    routing.token_ids = ids.as<int32_t>();
    if (hash) {
      const Tensor& table = in.get("tid2eid", Fmt::i32);
      in.require_rank("tid2eid", table, 2);
      in.require_dim("tid2eid", table, 1, k, "topk expert ids per vocabulary entry");
      const std::string bad = hash_router_check(ids.as<int32_t>(), table.as<int32_t>(), table.shape[0], T, cfg.E, k);
      if (!bad.empty()) in.fail(bad.rfind("token", 0) == 0 ? "token_ids" : "tid2eid", bad);
      routing.tid2eid = table.as<int32_t>();
      routing.vocab = table.shape[0];
    } else {
      const Tensor& bias = in.get("gate_bias", Fmt::f32);
      in.require_rank("gate_bias", bias, 1);
      in.require_dim("gate_bias", bias, 0, cfg.E, "one per expert");
      routing.gate_bias = bias.as<float>();
    }
    const Fp4ExpertInputs ex = read_fp4_expert(in, "", d, cfg.E);
    const Fp8ExpertInputs sh = read_fp8_expert(in, "s", d);
    if (sh.I != ex.I) in.fail("sw1", "the shared expert's I must equal the routed experts' I");
    cfg.I = ex.I;
    cfg.route_scale = scalar_f32_input(in, "route_scale");
    cfg.swiglu_limit = scalar_f32_input(in, "swiglu_limit");
    cfg.shared_expert_clamp = in.get_switch("shared_expert_clamp");
    cfg.quant = in.get_switch("quant");
    const ExpertFp4Weights w = ex.weights();
    const ExpertSource src = stored_experts(w.w1, w.s1, w.w3, w.s3, w.w2, w.s2, d, cfg.I);
    Tensor out = Tensor::make(Fmt::bf16, {T, d}), weights = Tensor::make(Fmt::f32, {T, int64_t(k)}),
           idx = Tensor::make(Fmt::i32, {T, int64_t(k)}), yr = Tensor::make(Fmt::bf16, {T, int64_t(k), d}),
           ys = Tensor::make(Fmt::bf16, {T, d});
    MoeTrace tr{weights.as<float>(), idx.as<int32_t>(), yr.as<uint16_t>(), ys.as<uint16_t>()};
    moe_layer(x.data(), T, cfg, routing, src, sh.weights(), r, out.as<uint16_t>(), nullptr, &tr);
    return std::vector<NamedTensor>{{"out", std::move(out)},     {"weights", std::move(weights)}, {"idx", std::move(idx)},
                                    {"y_routed", std::move(yr)}, {"shared", std::move(ys)}};
  };
  return {op};
}

}  // namespace v4::golden
