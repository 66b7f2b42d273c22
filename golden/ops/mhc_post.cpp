// mhc_post: hyper-connection post step (reference/mhc_post.h, docs/mhc_post.md).
#include "golden/ops.h"
#include "reference/mhc_post.h"
#include "reference/random_tensor.h"

namespace v4::golden {

std::vector<OpSpec> ops_mhc_post() {
  OpSpec op;
  op.name = "mhc_post";
  op.summary = "f bf16 [T, d], R bf16 [T, n, d], post f32 [T, n], comb f32 [T, n, n] -> y bf16 [T, n, d] (sum over the source stream j of comb[j][k])";
  op.defaults = {{"T", 4}, {"n", kHcMult}, {"d", 256}};
  op.has_recipe = true;
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t T = param(p, "T"), n = param(p, "n"), d = param(p, "d");
    return std::vector<NamedTensor>{{"f", random_bf16(seed, "f", {T, d})},
                                    {"R", random_bf16(seed, "R", {T, n, d})},
                                    {"post", random_f32_scaled(seed, "post", {T, n}, -8)},
                                    {"comb", random_f32_scaled(seed, "comb", {T, n, n}, -9)}};
  };
  op.run = [](const OpInputs& in, Recipe r) {
    const Tensor& f = in.get("f", Fmt::bf16);
    const Tensor& R = in.get("R", Fmt::bf16);
    const Tensor& post = in.get("post", Fmt::f32);
    const Tensor& comb = in.get("comb", Fmt::f32);
    in.require_rank("R", R, 3);
    MhcShape s;
    s.T = R.shape[0];
    s.n = int(R.shape[1]);
    s.d = R.shape[2];
    if (s.n < 1 || s.n > kSinkhornMaxN) in.fail("R", "stream count n must be in 1.." + std::to_string(kSinkhornMaxN));
    if (s.d < 1) in.fail("R", "d must be >= 1");
    in.require_rank("f", f, 2);
    in.require_dim("f", f, 0, s.T, "one row per token of R");
    in.require_dim("f", f, 1, s.d, "d as in R");
    in.require_rank("post", post, 2);
    in.require_dim("post", post, 0, s.T, "one row per token");
    in.require_dim("post", post, 1, s.n, "one per stream");
    in.require_rank("comb", comb, 3);
    in.require_dim("comb", comb, 0, s.T, "one matrix per token");
    in.require_dim("comb", comb, 1, s.n, "n x n");
    in.require_dim("comb", comb, 2, s.n, "n x n");
    Tensor y = Tensor::make(Fmt::bf16, R.shape);
    mhc_post(f.as<uint16_t>(), R.as<uint16_t>(), post.as<float>(), comb.as<float>(), s, r, y.as<uint16_t>());
    return std::vector<NamedTensor>{{"y", std::move(y)}};
  };
  return {op};
}

}  // namespace v4::golden
