// embed: token embedding and the 4-stream expansion (reference/embed.h, docs/embed.md).
#include "golden/ops.h"
#include "golden/ops/moe_inputs.h"
#include "golden/ops/scalars.h"
#include "reference/embed.h"
#include "reference/random_tensor.h"
#include "reference/sinkhorn.h"

namespace v4::golden {

std::vector<OpSpec> ops_embed() {
  OpSpec op;
  op.name = "embed";
  op.summary = "table bf16 [V, d], ids i32 [T], n i32 -> R bf16 [T, n, d] (each stream = table[id])";
  op.defaults = {{"T", 8}, {"V", 1000}, {"d", 256}, {"n", kHcMult}};
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t V = param(p, "V"), d = param(p, "d");
    Tensor table = Tensor::make(Fmt::bf16, {V, d});
    weights_bf16({seed, -1, -1}, "embed.weight", V * d, kEmbedExp, table.as<uint16_t>());
    return std::vector<NamedTensor>{{"table", std::move(table)},
                                    {"ids", seeded_token_ids(seed, param(p, "T"), V)},
                                    {"n", scalar_i32(int32_t(param(p, "n")))}};
  };
  op.run = [](const OpInputs& in, Recipe) {
    const Tensor& table = in.get("table", Fmt::bf16);
    const Tensor& ids = in.get("ids", Fmt::i32);
    in.require_rank("table", table, 2);
    in.require_rank("ids", ids, 1);
    const int64_t V = table.shape[0], d = table.shape[1], T = ids.shape[0];
    if (V < 1 || d < 1) in.fail("table", "must be non-empty");
    const int32_t n = in.get_i32_scalar("n");
    if (n < 1) in.fail("n", "must be >= 1");
    for (int64_t t = 0; t < T; ++t)
      if (ids.as<int32_t>()[t] < 0 || ids.as<int32_t>()[t] >= V)
        in.fail("ids", "token " + std::to_string(t) + " has id " + std::to_string(ids.as<int32_t>()[t]) +
                           " outside [0, " + std::to_string(V) + ")");
    Tensor R = Tensor::make(Fmt::bf16, {T, int64_t(n), d});
    embed(table.as<uint16_t>(), V, d, ids.as<int32_t>(), T, n, R.as<uint16_t>());
    return std::vector<NamedTensor>{{"R", std::move(R)}};
  };
  return {op};
}

}  // namespace v4::golden
