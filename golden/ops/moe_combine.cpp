// moe_combine: routed + shared expert outputs in ascending expert id (reference/moe_combine.h, docs/moe_combine.md).
#include "golden/ops.h"
#include "golden/ops/moe_inputs.h"
#include "reference/moe_combine.h"
#include "reference/moe_gate.h"

namespace v4::golden {

std::vector<OpSpec> ops_moe_combine() {
  OpSpec op;
  op.name = "moe_combine";
  op.summary = "y_routed bf16 [T, k, d], idx i32 [T, k] (distinct per token), shared bf16 [T, d] -> out bf16 [T, d]";
  op.defaults = {{"T", 8}, {"topk", kMoeTopK}, {"d", 256}, {"E", 64}};
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t T = param(p, "T"), k = param(p, "topk"), d = param(p, "d");
    return std::vector<NamedTensor>{{"y_routed", seeded_normal_bf16(seed, "y_routed", {T, k, d}, -2)},
                                    {"idx", seeded_distinct_ids(seed, "idx", T, param(p, "E"), int(k))},
                                    {"shared", seeded_normal_bf16(seed, "shared", {T, d}, -1)}};
  };
  op.run = [](const OpInputs& in, Recipe) {
    const Tensor& y = in.get("y_routed", Fmt::bf16);
    const Tensor& idx = in.get("idx", Fmt::i32);
    const Tensor& sh = in.get("shared", Fmt::bf16);
    in.require_rank("y_routed", y, 3);
    const int64_t T = y.shape[0], k = y.shape[1], d = y.shape[2];
    in.require_rank("idx", idx, 2);
    in.require_dim("idx", idx, 0, T, "one row per token");
    in.require_dim("idx", idx, 1, k, "one id per slot of y_routed");
    in.require_rank("shared", sh, 2);
    in.require_dim("shared", sh, 0, T, "one row per token");
    in.require_dim("shared", sh, 1, d, "d as in y_routed");
    const int32_t* ip = idx.as<int32_t>();
    for (int64_t t = 0; t < T; ++t)
      for (int64_t j = 0; j < k; ++j) {
        if (ip[t * k + j] < 0) in.fail("idx", "token " + std::to_string(t) + ": negative expert id");
        for (int64_t i = 0; i < j; ++i)
          if (ip[t * k + i] == ip[t * k + j])
            in.fail("idx", "token " + std::to_string(t) + " lists expert " + std::to_string(ip[t * k + j]) + " twice");
      }
    if (k > 64) in.fail("idx", "at most 64 experts per token");
    Tensor out = Tensor::make(Fmt::bf16, {T, d});
    moe_combine(y.as<uint16_t>(), ip, sh.as<uint16_t>(), T, int(k), d, out.as<uint16_t>());
    return std::vector<NamedTensor>{{"out", std::move(out)}};
  };
  return {op};
}

}  // namespace v4::golden
