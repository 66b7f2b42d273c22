// hash_router: MoE routing of the hash layers by token id (reference/hash_router.h, docs/hash_router.md).
#include "golden/ops.h"
#include "golden/ops/moe_inputs.h"
#include "golden/ops/scalars.h"
#include "reference/hash_router.h"
#include "reference/random_tensor.h"

namespace v4::golden {

std::vector<OpSpec> ops_hash_router() {
  OpSpec op;
  op.name = "hash_router";
  op.summary = "x bf16 [T, d], w bf16 [E, d], token_ids i32 [T], tid2eid i32 [V, k], route_scale f32 -> "
               "weights f32 [T, k], idx i32 [T, k] (= tid2eid[token]), scores f32 [T, E]";
  op.defaults = {{"T", 8}, {"d", 256}, {"E", 64}, {"V", 1000}, {"topk", kMoeTopK}};
  op.has_recipe = true;
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t T = param(p, "T"), d = param(p, "d"), E = param(p, "E"), V = param(p, "V");
    Tensor table = Tensor::make(Fmt::i32, {V, param(p, "topk")});
    weights_tid2eid({seed, 0, -1}, V, E, int(param(p, "topk")), table.as<int32_t>());
    return std::vector<NamedTensor>{{"x", seeded_normal_bf16(seed, "x", {T, d}, 0)},
                                    {"w", seeded_gate_weight(seed, E, d)},
                                    {"token_ids", seeded_token_ids(seed, T, V)},
                                    {"tid2eid", std::move(table)},
                                    {"route_scale", scalar_f32(kRouteScaleFlash)}};
  };
  op.run = [](const OpInputs& in, Recipe r) {
    const Tensor& x = in.get("x", Fmt::bf16);
    const Tensor& w = in.get("w", Fmt::bf16);
    in.require_rank("x", x, 2);
    in.require_rank("w", w, 2);
    in.require_dim("w", w, 1, x.shape[1], "d must match x's columns");
    const int64_t T = x.shape[0], d = x.shape[1], E = w.shape[0];
    if (d < 1 || E < 1) in.fail("w", "needs d >= 1 and at least one expert");
    const Tensor& ids = in.get("token_ids", Fmt::i32);
    in.require_rank("token_ids", ids, 1);
    in.require_dim("token_ids", ids, 0, T, "one id per token");
    const Tensor& table = in.get("tid2eid", Fmt::i32);
    in.require_rank("tid2eid", table, 2);
    const int64_t V = table.shape[0], k = table.shape[1];
    if (k < 1 || k > E) in.fail("tid2eid", "row length k must be in 1..E");
    const std::string bad = hash_router_check(ids.as<int32_t>(), table.as<int32_t>(), V, T, E, int(k));
    if (!bad.empty()) in.fail(bad.rfind("token", 0) == 0 ? "token_ids" : "tid2eid", bad);
    const float rs = scalar_f32_input(in, "route_scale");
    Tensor weights = Tensor::make(Fmt::f32, {T, k}), idx = Tensor::make(Fmt::i32, {T, k}),
           scores = Tensor::make(Fmt::f32, {T, E});
    hash_router(x.as<uint16_t>(), w.as<uint16_t>(), ids.as<int32_t>(), table.as<int32_t>(), V, T, d, E, int(k), rs, r,
                weights.as<float>(), idx.as<int32_t>(), scores.as<float>());
    return std::vector<NamedTensor>{{"weights", std::move(weights)}, {"idx", std::move(idx)}, {"scores", std::move(scores)}};
  };
  return {op};
}

}  // namespace v4::golden
