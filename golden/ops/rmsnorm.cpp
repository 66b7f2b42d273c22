// rmsnorm: weighted RMSNorm (reference/rmsnorm.h, docs/rmsnorm.md).
#include "golden/ops.h"
#include "golden/ops/attention_inputs.h"
#include "reference/random_tensor.h"
#include "reference/rmsnorm.h"

namespace v4::golden {

namespace ai = attn_inputs;

std::vector<OpSpec> ops_rmsnorm() {
  OpSpec op;
  op.name = "rmsnorm";
  op.summary = "x bf16 [.., n], w f32 [n], eps f32 scalar -> y bf16 [.., n] = bf16(w * (x * rsqrt(mean(x^2) + eps)))";
  op.defaults = {{"rows", 4}, {"n", 512}};
  op.has_recipe = true;  // the sum of squares: sequential (canonical, hopper) or exact
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    return std::vector<NamedTensor>{{"x", random_bf16(seed, "x", {param(p, "rows"), param(p, "n")})},
                                    {"w", ai::f32_uniform(seed, "w", {param(p, "n")}, 0.1f, 1.0f)},
                                    {"eps", scalar_f32(kRmsNormEps)}};
  };
  op.run = [](const OpInputs& in, Recipe r) {
    const Tensor& x = in.get("x", Fmt::bf16);
    auto [rows, n] = in.rows_last("x", x);
    const float* w = ai::f32_vec_in(in, "w", n);
    const float eps = in.get_f32_scalar("eps");
    Tensor y = Tensor::make(Fmt::bf16, x.shape);
    rmsnorm(x.as<uint16_t>(), w, rows, n, eps, r, y.as<uint16_t>());
    return std::vector<NamedTensor>{{"y", std::move(y)}};
  };
  return {op};
}

}  // namespace v4::golden
