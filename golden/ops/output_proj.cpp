// output_proj: grouped wo_a then wo_b (reference/output_proj.h, docs/output_proj.md).
#include "golden/ops.h"
#include "golden/ops/attention_inputs.h"
#include "reference/output_proj.h"

namespace v4::golden {

namespace ai = attn_inputs;

std::vector<OpSpec> ops_output_proj() {
  OpSpec op;
  op.name = "output_proj";
  op.summary = "o bf16 [T, H*c], wo_a bf16 [g*R, H*c/g], wo_b e4m3fn [d, g*R] (+scale), g, quant -> u bf16 [T, g*R], y bf16 [T, d]";
  op.defaults = {{"T", 4}, {"Hc", 512}, {"g", 2}, {"R", 128}, {"d", 256}, {"quant", 1}};
  op.has_recipe = true;
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t T = param(p, "T"), Hc = param(p, "Hc"), g = param(p, "g"), R = param(p, "R"), d = param(p, "d");
    std::vector<NamedTensor> v{{"o", ai::bf16_uniform(seed, "o", {T, Hc}, 1.0f)},
                               {"wo_a", ai::bf16_uniform(seed, "wo_a", {g * R, Hc / g}, 1.0f / std::sqrt(float(Hc / g)))}};
    ai::push_fp8_weight(v, seed, "wo_b", d, g * R, 1.0f / std::sqrt(float(g * R)));
    v.push_back({"g", scalar_i32(g)});
    v.push_back({"quant", scalar_i32(param(p, "quant"))});
    return ai::in_reading_order(std::move(v), {"o", "g", "wo_a", "wo_b", "wo_b_scale", "quant"});
  };
  op.run = [](const OpInputs& in, Recipe rc) {
    const Tensor& o = ai::bf16_mat_in(in, "o", -1, -1);
    const int64_t T = o.shape[0], Hc = o.shape[1], g = in.get_i32_scalar("g");
    if (g <= 0 || Hc % g) in.fail("g", "must divide H*c = " + std::to_string(Hc));
    const Tensor& wa = ai::bf16_mat_in(in, "wo_a", -1, Hc / g);
    if (wa.shape[0] % g) in.fail("wo_a", "rows must be g*R");
    const int64_t R = wa.shape[0] / g;
    const Fp8Weight wb = ai::fp8_weight_in(in, "wo_b", -1, g * R);
    Tensor u = Tensor::make(Fmt::bf16, {T, g * R}), y = Tensor::make(Fmt::bf16, {T, wb.out});
    output_proj(o.as<uint16_t>(), T, Hc, g, wa.as<uint16_t>(), R, wb, rc, in.get_switch("quant"), y.as<uint16_t>(),
                u.as<uint16_t>());
    return std::vector<NamedTensor>{{"u", std::move(u)}, {"y", std::move(y)}};
  };
  return {op};
}

}  // namespace v4::golden
