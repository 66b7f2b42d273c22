// mhc_pre: hyper-connection pre step (reference/mhc_pre.h, docs/mhc_pre.md).
#include "golden/ops.h"
#include "golden/ops/mhc_inputs.h"
#include "golden/ops/scalars.h"
#include "reference/mhc_pre.h"
#include "reference/random_tensor.h"

namespace v4::golden {

std::vector<OpSpec> ops_mhc_pre() {
  OpSpec op;
  op.name = "mhc_pre";
  op.summary = "R bf16 [T, n, d], fn f32 [(2+n)n, n*d], base f32 [(2+n)n], scale f32 [3], iters, norm_eps, hc_eps -> "
               "x bf16 [T, d], post f32 [T, n], comb f32 [T, n, n], pre f32 [T, n], mix f32 [T, (2+n)n]";
  op.defaults = {{"T", 4}, {"n", kHcMult}, {"d", 256}, {"iters", kHcSinkhornIters}};
  op.has_recipe = true;
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t n = param(p, "n");
    std::vector<NamedTensor> v = mhc_seeded_streams(seed, p, (2 + n) * n);
    v.push_back({"scale", random_f32_scaled(seed, "scale", {3}, -8)});
    v.push_back({"iters", scalar_i32(int32_t(param(p, "iters")))});
    v.push_back({"norm_eps", scalar_f32(kNormEps)});
    v.push_back({"hc_eps", scalar_f32(kHcEps)});
    return v;
  };
  op.run = [](const OpInputs& in, Recipe r) {
    const MhcInputs m = mhc_read_streams(in, true);
    const Tensor& scale = in.get("scale", Fmt::f32);
    in.require_rank("scale", scale, 1);
    in.require_dim("scale", scale, 0, 3, "(alpha_pre, alpha_post, alpha_res)");
    MhcShape s = m.shape;
    s.iters = in.get_i32_scalar("iters");
    if (s.iters < 1) in.fail("iters", "must be >= 1");
    s.norm_eps = scalar_f32_input(in, "norm_eps");
    s.hc_eps = scalar_f32_input(in, "hc_eps");
    const int64_t n = s.n, mw = s.mix_width();
    Tensor x = Tensor::make(Fmt::bf16, {s.T, s.d}), post = Tensor::make(Fmt::f32, {s.T, n}),
           comb = Tensor::make(Fmt::f32, {s.T, n, n}), pre = Tensor::make(Fmt::f32, {s.T, n}),
           mix = Tensor::make(Fmt::f32, {s.T, mw});
    mhc_pre(m.R->as<uint16_t>(), m.fn->as<float>(), m.base->as<float>(), scale.as<float>(), s, r, x.as<uint16_t>(),
            post.as<float>(), comb.as<float>(), pre.as<float>(), mix.as<float>());
    return std::vector<NamedTensor>{{"x", std::move(x)},     {"post", std::move(post)}, {"comb", std::move(comb)},
                                    {"pre", std::move(pre)}, {"mix", std::move(mix)}};
  };
  return {op};
}

}  // namespace v4::golden
