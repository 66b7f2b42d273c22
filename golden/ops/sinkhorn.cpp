// sinkhorn: the mHC comb matrix from its logits (reference/sinkhorn.h, docs/sinkhorn.md).
#include "golden/ops.h"
#include "golden/ops/scalars.h"
#include "reference/random_tensor.h"
#include "reference/sinkhorn.h"

namespace v4::golden {

std::vector<OpSpec> ops_sinkhorn() {
  OpSpec op;
  op.name = "sinkhorn";
  op.summary = "logits f32 [T, n, n], iters i32, eps f32 -> comb f32 [T, n, n] (row softmax + eps, then column/row passes)";
  op.defaults = {{"T", 8}, {"n", kHcMult}, {"iters", kHcSinkhornIters}};
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t T = param(p, "T"), n = param(p, "n");
    return std::vector<NamedTensor>{{"logits", random_f32_scaled(seed, "logits", {T, n, n}, -6)},
                                    {"iters", scalar_i32(int32_t(param(p, "iters")))},
                                    {"eps", scalar_f32(kHcEps)}};
  };
  op.run = [](const OpInputs& in, Recipe) {
    const Tensor& L = in.get("logits", Fmt::f32);
    in.require_rank("logits", L, 3);
    const int64_t T = L.shape[0], n = L.shape[1];
    if (n < 1 || n > kSinkhornMaxN) in.fail("logits", "n must be in 1.." + std::to_string(kSinkhornMaxN));
    in.require_dim("logits", L, 2, n, "the matrix must be square");
    const int32_t iters = in.get_i32_scalar("iters");
    if (iters < 1) in.fail("iters", "must be >= 1");
    const float eps = scalar_f32_input(in, "eps");
    Tensor comb = Tensor::make(Fmt::f32, L.shape);
    sinkhorn(L.as<float>(), T, int(n), iters, eps, comb.as<float>());
    return std::vector<NamedTensor>{{"comb", std::move(comb)}};
  };
  return {op};
}

}  // namespace v4::golden
