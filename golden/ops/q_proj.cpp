// q_proj: the query path (reference/q_proj.h, docs/q_proj.md).
#include "golden/ops.h"
#include "golden/ops/attention_inputs.h"
#include "reference/q_proj.h"

namespace v4::golden {

namespace ai = attn_inputs;

std::vector<OpSpec> ops_q_proj() {
  OpSpec op;
  op.name = "q_proj";
  op.summary = "x bf16 [T, d], wq_a e4m3fn [dc, d] (+scale), q_norm f32 [dc], wq_b e4m3fn [H*c, dc] (+scale), pos i32 [T], cos, sin, H, quant -> qr bf16 [T, dc], q bf16 [T, H, c]";
  op.defaults = {{"T", 4}, {"d", 256}, {"dc", 128}, {"H", 2}, {"c", 128}, {"ratio", 4}, {"quant", 1}};
  op.has_recipe = true;
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t T = param(p, "T"), d = param(p, "d"), dc = param(p, "dc"), H = param(p, "H"), c = param(p, "c");
    std::vector<NamedTensor> v{{"x", ai::bf16_uniform(seed, "x", {T, d}, 1.0f)}};
    ai::push_fp8_weight(v, seed, "wq_a", dc, d, 1.0f / std::sqrt(float(d)));
    v.push_back({"q_norm", ai::f32_uniform(seed, "q_norm", {dc}, 0.1f, 1.0f)});
    ai::push_fp8_weight(v, seed, "wq_b", H * c, dc, 1.0f / std::sqrt(float(dc)));
    Tensor pos = Tensor::make(Fmt::i32, {T});
    for (int64_t t = 0; t < T; ++t) pos.as<int32_t>()[t] = int32_t(t);
    v.push_back({"pos", std::move(pos)});
    ai::push_rope_table(v, param(p, "ratio"), T);
    v.push_back({"H", scalar_i32(H)});
    v.push_back({"quant", scalar_i32(param(p, "quant"))});
    return ai::in_reading_order(std::move(v), {"x", "q_norm", "wq_a", "wq_a_scale", "H", "wq_b", "wq_b_scale", "pos", "cos", "sin", "quant"});
  };
  op.run = [](const OpInputs& in, Recipe rc) {
    const Tensor& x = ai::bf16_mat_in(in, "x", -1, -1);
    const int64_t T = x.shape[0], d = x.shape[1];
    const float* qn = ai::f32_vec_in(in, "q_norm", -1);
    const int64_t dc = in.get("q_norm", Fmt::f32).shape[0];
    const Fp8Weight wa = ai::fp8_weight_in(in, "wq_a", dc, d);
    const int64_t H = in.get_i32_scalar("H");
    if (H <= 0) in.fail("H", "must be positive");
    const Fp8Weight wb = ai::fp8_weight_in(in, "wq_b", -1, dc);
    if (wb.out % H || wb.out / H <= 64) in.fail("wq_b", "rows must be H times a head dim above 64");
    const Tensor& pos = in.get("pos", Fmt::i32);
    in.require_rank("pos", pos, 1);
    in.require_dim("pos", pos, 0, T, "one position per token");
    const RopeTable tab = ai::rope_table_in(in);
    for (int64_t t = 0; t < T; ++t)
      if (pos.as<int32_t>()[t] < 0 || pos.as<int32_t>()[t] >= tab.positions) in.fail("pos", "position outside the table");
    Tensor qr = Tensor::make(Fmt::bf16, {T, dc}), q = Tensor::make(Fmt::bf16, {T, H, wb.out / H});
    q_proj(x.as<uint16_t>(), T, wa, qn, wb, H, pos.as<int32_t>(), tab, rc, in.get_switch("quant"), qr.as<uint16_t>(),
           q.as<uint16_t>());
    return std::vector<NamedTensor>{{"qr", std::move(qr)}, {"q", std::move(q)}};
  };
  return {op};
}

}  // namespace v4::golden
