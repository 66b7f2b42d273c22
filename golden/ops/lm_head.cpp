// lm_head: hc_head collapse, final RMSNorm and fp32 logits (reference/lm_head.h, docs/lm_head.md).
#include "golden/ops.h"
#include "golden/ops/attention_inputs.h"
#include "golden/ops/mhc_inputs.h"
#include "reference/lm_head.h"
#include "reference/random_tensor.h"

namespace v4::golden {

std::vector<OpSpec> ops_lm_head() {
  OpSpec op;
  op.name = "lm_head";
  op.summary = "R bf16 [T, n, d], fn f32 [n, n*d], base f32 [n], scale f32 [1], norm f32 [d], head bf16 [V, d], norm_eps, hc_eps -> logits f32 [T, V], y bf16 [T, d], x bf16 [T, d]";
  op.defaults = {{"T", 4}, {"n", kHcMult}, {"d", 256}, {"V", 512}};
  op.has_recipe = true;  // the hc_head mix and collapse, the norm's sum of squares, the logits GEMM
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t d = param(p, "d");
    std::vector<NamedTensor> v = mhc_seeded_head(seed, p);
    // norm: bf16 values near 1 (a trained RMSNorm weight); head: sd d^-1/2 so that a logit of the unit-RMS
    // normed x is about N(0, 1).
    v.push_back({"norm", attn_inputs::f32_uniform(seed, "norm", {d}, 0.1f, 1.0f)});
    v.push_back({"head", attn_inputs::bf16_uniform(seed, "head", {param(p, "V"), d}, float(1 / std::sqrt(double(d))))});
    return v;
  };
  op.run = [](const OpInputs& in, Recipe r) {
    const MhcInputs m = mhc_read_head(in);
    const MhcShape& s = m.shape;
    const float* norm = attn_inputs::f32_vec_in(in, "norm", s.d);
    const Tensor& head = in.get("head", Fmt::bf16);
    in.require_rank("head", head, 2);
    in.require_dim("head", head, 1, s.d, "d columns (the hidden size of R)");
    const int64_t V = head.shape[0];
    Tensor logits = Tensor::make(Fmt::f32, {s.T, V}), y = Tensor::make(Fmt::bf16, {s.T, s.d}),
           x = Tensor::make(Fmt::bf16, {s.T, s.d});
    const LmHeadWeights W{m.fn->as<float>(), m.base->as<float>(), m.scale->as<float>(), norm, head.as<uint16_t>(), V};
    lm_head(m.R->as<uint16_t>(), W, s, r, logits.as<float>(), y.as<uint16_t>(), x.as<uint16_t>());
    return std::vector<NamedTensor>{{"logits", std::move(logits)}, {"y", std::move(y)}, {"x", std::move(x)}};
  };
  return {op};
}

}  // namespace v4::golden
