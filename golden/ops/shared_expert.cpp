// shared_expert: the FP8 shared expert with the shared_expert_clamp switch (reference/shared_expert.h,
// docs/shared_expert.md).
#include "golden/ops.h"
#include "golden/ops/expert_inputs.h"
#include "golden/ops/moe_inputs.h"
#include "golden/ops/scalars.h"
#include "reference/random_tensor.h"
#include "reference/shared_expert.h"

namespace v4::golden {

std::vector<OpSpec> ops_shared_expert() {
  OpSpec op;
  op.name = "shared_expert";
  op.summary = "x bf16 [T, d], w1/w3 e4m3fn [I, d] + ue8m0 [I/128, d/128], w2 e4m3fn [d, I] + ue8m0 [d/128, I/128], "
               "shared_expert_clamp i32, quant i32 -> y bf16 [T, d], gate/up/h bf16 [T, I]";
  op.defaults = {{"T", 4}, {"d", 256}, {"I", 256}, {"quant", 1}, {"clamp", 1}};
  op.has_recipe = true;
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t T = param(p, "T"), d = param(p, "d"), I = param(p, "I");
    std::vector<NamedTensor> v{{"x", seeded_normal_bf16(seed, "x", {T, d}, 0)}};
    for (auto& t : seeded_fp8_expert(seed, d, I)) v.push_back(std::move(t));
    v.push_back({"shared_expert_clamp", scalar_i32(int32_t(param(p, "clamp")))});
    v.push_back({"quant", scalar_i32(int32_t(param(p, "quant")))});
    return v;
  };
  op.run = [](const OpInputs& in, Recipe r) {
    const ExpertActivations x = read_expert_x(in);
    const int64_t T = x.T, d = x.d;
    const Fp8ExpertInputs w = read_fp8_expert(in, "", d);
    const bool clamp = in.get_switch("shared_expert_clamp");
    const bool quant = in.get_switch("quant");
    const int64_t I = w.I;
    ExpertOutputs out(T, d, I);
    ExpertTrace tr = out.trace();
    if (quant) {
      shared_expert_fp8(x.data(), T, d, I, w.weights(), clamp, r, out.y.as<uint16_t>(), &tr);
    } else {
      const DequantizedExpert b(w.weights(), d, I);
      shared_expert_bf16(x.data(), T, d, I, b.weights(), clamp, r, out.y.as<uint16_t>(), &tr);
    }
    return out.take();
  };
  return {op};
}

}  // namespace v4::golden
