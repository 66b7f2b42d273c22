// expert_ffn: one routed expert, SwiGLU with clamp, FP4 weights (reference/expert_ffn.h, docs/expert_ffn.md).
#include "golden/ops.h"
#include "golden/ops/expert_inputs.h"
#include "golden/ops/moe_inputs.h"
#include "golden/ops/scalars.h"
#include "reference/expert_ffn.h"
#include "reference/random_tensor.h"
#include "reference/weight_dequant.h"

namespace v4::golden {

std::vector<OpSpec> ops_expert_ffn() {
  OpSpec op;
  op.name = "expert_ffn";
  op.summary = "x bf16 [T, d], route_w f32 [T], w1/w3 e2m1x2 [I, d] + ue8m0 [I, d/32], w2 e2m1x2 [d, I] + ue8m0 [d, I/32], "
               "swiglu_limit f32, quant i32 -> y bf16 [T, d], gate/up/h bf16 [T, I]";
  op.defaults = {{"T", 4}, {"d", 256}, {"I", 256}, {"quant", 1}};
  op.has_recipe = true;
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t T = param(p, "T"), d = param(p, "d"), I = param(p, "I");
    Tensor rw = seeded_normal_f32(seed, "route_w", {T}, -4);
    for (int64_t t = 0; t < T; ++t) rw.as<float>()[t] += 0.25f;  // about 1.5/6, a typical top-6 weight
    std::vector<NamedTensor> v{{"x", seeded_normal_bf16(seed, "x", {T, d}, 0)}, {"route_w", std::move(rw)}};
    for (auto& t : seeded_fp4_expert(seed, d, I)) v.push_back(std::move(t));
    v.push_back({"swiglu_limit", scalar_f32(kSwigluLimit)});
    v.push_back({"quant", scalar_i32(int32_t(param(p, "quant")))});
    return v;
  };
  op.run = [](const OpInputs& in, Recipe r) {
    const ExpertActivations x = read_expert_x(in);
    const int64_t T = x.T, d = x.d;
    const Tensor& rw = in.get("route_w", Fmt::f32);
    in.require_rank("route_w", rw, 1);
    in.require_dim("route_w", rw, 0, T, "one routing weight per token");
    const Fp4ExpertInputs w = read_fp4_expert(in, "", d);
    const float limit = scalar_f32_input(in, "swiglu_limit");
    const bool quant = in.get_switch("quant");
    const int64_t I = w.I;
    ExpertOutputs out(T, d, I);
    ExpertTrace tr = out.trace();
    if (quant) {
      expert_ffn_fp4(x.data(), rw.as<float>(), T, d, I, w.weights(), limit, r, out.y.as<uint16_t>(), &tr);
    } else {
      const DequantizedExpert b(w.weights(), d, I);
      expert_ffn_bf16(x.data(), rw.as<float>(), T, d, I, b.weights(), limit, r, out.y.as<uint16_t>(), &tr);
    }
    return out.take();
  };
  return {op};
}

}  // namespace v4::golden
