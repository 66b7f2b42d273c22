// moe_gate: score-based MoE routing (reference/moe_gate.h, docs/moe_gate.md).
#include "golden/ops.h"
#include "golden/ops/moe_inputs.h"
#include "golden/ops/scalars.h"
#include "reference/moe_gate.h"
#include "reference/random_tensor.h"

namespace v4::golden {

namespace {

// Reads x [T, d] and the gate weight [E, d]; returns (T, d, E).
struct GateDims {
  int64_t T, d, E;
};
GateDims gate_dims(const OpInputs& in, const Tensor& x, const Tensor& w) {
  in.require_rank("x", x, 2);
  in.require_rank("w", w, 2);
  in.require_dim("w", w, 1, x.shape[1], "d must match x's columns");
  if (x.shape[1] < 1) in.fail("x", "d must be >= 1");
  if (w.shape[0] < 1) in.fail("w", "needs at least one expert");
  return {x.shape[0], x.shape[1], w.shape[0]};
}

}  // namespace

std::vector<OpSpec> ops_moe_gate() {
  OpSpec op;
  op.name = "moe_gate";
  op.summary = "x bf16 [T, d], w bf16 [E, d], bias f32 [E], topk i32, route_scale f32 -> weights f32 [T, topk], "
               "idx i32 [T, topk], scores f32 [T, E] (sqrt(softplus(x w^T))), selection_scores f32 [T, E] (scores + bias: the top-k input)";
  op.defaults = {{"T", 8}, {"d", 256}, {"E", 64}, {"topk", kMoeTopK}};
  op.has_recipe = true;
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t T = param(p, "T"), d = param(p, "d"), E = param(p, "E");
    Tensor bias = Tensor::make(Fmt::f32, {E});
    weights_f32({seed, 3, -1}, "ffn.gate.bias", E, -5, bias.as<float>());
    return std::vector<NamedTensor>{{"x", seeded_normal_bf16(seed, "x", {T, d}, 0)},
                                    {"w", seeded_gate_weight(seed, E, d)},
                                    {"bias", std::move(bias)},
                                    {"topk", scalar_i32(int32_t(param(p, "topk")))},
                                    {"route_scale", scalar_f32(kRouteScaleFlash)}};
  };
  op.run = [](const OpInputs& in, Recipe r) {
    const Tensor& x = in.get("x", Fmt::bf16);
    const Tensor& w = in.get("w", Fmt::bf16);
    const GateDims g = gate_dims(in, x, w);
    const Tensor& bias = in.get("bias", Fmt::f32);
    in.require_rank("bias", bias, 1);
    in.require_dim("bias", bias, 0, g.E, "one per expert");
    const int32_t k = in.get_i32_scalar("topk");
    if (k < 1 || k > g.E) in.fail("topk", "must be in 1..E");
    const float rs = scalar_f32_input(in, "route_scale");
    Tensor weights = Tensor::make(Fmt::f32, {g.T, int64_t(k)}), idx = Tensor::make(Fmt::i32, {g.T, int64_t(k)}),
           scores = Tensor::make(Fmt::f32, {g.T, g.E});
    moe_gate(x.as<uint16_t>(), w.as<uint16_t>(), bias.as<float>(), g.T, g.d, g.E, k, rs, r, weights.as<float>(),
             idx.as<int32_t>(), scores.as<float>());
    // The values the top-k ran on (fl(scores + bias), as in moe_gate), linked from idx so the comparator
    // can tell a selection flip on a tie from a real divergence.
    Tensor sel = Tensor::make(Fmt::f32, {g.T, g.E});
    for (int64_t i = 0; i < g.T * g.E; ++i) sel.as<float>()[i] = scores.as<float>()[i] + bias.as<float>()[i % g.E];
    return std::vector<NamedTensor>{{"weights", std::move(weights)},
                                    {"idx", std::move(idx), {}, {kKindTopkIndices, "/selection_scores", ""}},
                                    {"scores", std::move(scores)},
                                    {"selection_scores", std::move(sel)}};
  };
  return {op};
}

}  // namespace v4::golden
