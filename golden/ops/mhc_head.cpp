// mhc_head: final collapse of the residual streams (reference/mhc_head.h, docs/mhc_head.md).
#include "golden/ops.h"
#include "golden/ops/mhc_inputs.h"
#include "reference/mhc_head.h"
#include "reference/random_tensor.h"

namespace v4::golden {

std::vector<OpSpec> ops_mhc_head() {
  OpSpec op;
  op.name = "mhc_head";
  op.summary = "R bf16 [T, n, d], fn f32 [n, n*d], base f32 [n], scale f32 [1], norm_eps, hc_eps -> y bf16 [T, d], pre f32 [T, n], mix f32 [T, n]";
  op.defaults = {{"T", 4}, {"n", kHcMult}, {"d", 256}};
  op.has_recipe = true;
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    return mhc_seeded_head(seed, p);
  };
  op.run = [](const OpInputs& in, Recipe r) {
    const MhcInputs m = mhc_read_head(in);
    const MhcShape& s = m.shape;
    Tensor y = Tensor::make(Fmt::bf16, {s.T, s.d}), pre = Tensor::make(Fmt::f32, {s.T, int64_t(s.n)}),
           mix = Tensor::make(Fmt::f32, {s.T, int64_t(s.n)});
    mhc_head(m.R->as<uint16_t>(), m.fn->as<float>(), m.base->as<float>(), m.scale->as<float>(), s, r, y.as<uint16_t>(),
             pre.as<float>(), mix.as<float>());
    return std::vector<NamedTensor>{{"y", std::move(y)}, {"pre", std::move(pre)}, {"mix", std::move(mix)}};
  };
  return {op};
}

}  // namespace v4::golden
