// rope: the RoPE tables of V4 and the interleaved partial rotation (reference/rope.h, docs/rope.md).
#include "golden/ops.h"
#include "golden/ops/attention_inputs.h"
#include "reference/random_tensor.h"
#include "reference/rope.h"

namespace v4::golden {

namespace ai = attn_inputs;

namespace {

OpSpec rope_table_op() {
  OpSpec op;
  op.name = "rope_table";
  op.summary = "ratio i32 (0: theta 1e4 plain; else theta 1.6e5 + YaRN), positions i32 -> inv_freq f32 [32], cos, sin f32 [positions, 32]";
  op.defaults = {{"positions", 64}, {"ratio", 4}};
  op.make_inputs = [](uint64_t, const ShapeParams& p) {
    return std::vector<NamedTensor>{{"ratio", scalar_i32(param(p, "ratio"))},
                                    {"positions", scalar_i32(param(p, "positions"))}};
  };
  op.run = [](const OpInputs& in, Recipe) {
    const int64_t ratio = in.get_i32_scalar("ratio"), P = in.get_i32_scalar("positions");
    if (ratio < 0) in.fail("ratio", "negative");
    if (P <= 0) in.fail("positions", "must be positive");
    const RopeParams rp = rope_params_for_ratio(int(ratio));
    Tensor inv = Tensor::make(Fmt::f32, {rp.dim / 2}), c = Tensor::make(Fmt::f32, {P, rp.dim / 2}),
           s = Tensor::make(Fmt::f32, {P, rp.dim / 2});
    rope_inv_freq(rp, inv.as<float>());
    rope_table(rp, P, c.as<float>(), s.as<float>());
    return std::vector<NamedTensor>{{"inv_freq", std::move(inv)}, {"cos", std::move(c)}, {"sin", std::move(s)}};
  };
  return op;
}

OpSpec rope_op() {
  OpSpec op;
  op.name = "rope";
  op.summary = "x bf16 [T, n], pos i32 [T], cos, sin f32 [P, 32], inverse i32 -> y bf16 [T, n] (last 64 dims rotated, interleaved pairs)";
  op.defaults = {{"T", 8}, {"n", 192}, {"P", 64}, {"ratio", 4}, {"inverse", 0}};
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t T = param(p, "T"), P = param(p, "P");
    std::vector<NamedTensor> v{{"x", random_bf16(seed, "x", {T, param(p, "n")})}};
    Tensor pos = Tensor::make(Fmt::i32, {T});
    for (int64_t t = 0; t < T; ++t) pos.as<int32_t>()[t] = int32_t((t * 7 + 3) % P);
    v.push_back({"pos", std::move(pos)});
    ai::push_rope_table(v, param(p, "ratio"), P);
    v.push_back({"inverse", scalar_i32(param(p, "inverse"))});
    return v;
  };
  op.run = [](const OpInputs& in, Recipe) {
    const Tensor& x = in.get("x", Fmt::bf16);
    in.require_rank("x", x, 2);
    const Tensor& pos = in.get("pos", Fmt::i32);
    in.require_rank("pos", pos, 1);
    in.require_dim("pos", pos, 0, x.shape[0], "one position per row of x");
    const RopeTable tab = ai::rope_table_in(in);
    const bool inverse = in.get_switch("inverse");
    if (x.shape[1] < 64) in.fail("x", "rows shorter than the 64 rotated dims");
    for (int64_t t = 0; t < x.shape[0]; ++t)
      if (pos.as<int32_t>()[t] < 0 || pos.as<int32_t>()[t] >= tab.positions) in.fail("pos", "position outside the table");
    Tensor y = x;
    rope_apply(y.as<uint16_t>(), x.shape[0], x.shape[1], pos.as<int32_t>(), 1, tab, inverse);
    return std::vector<NamedTensor>{{"y", std::move(y)}};
  };
  return op;
}

}  // namespace

std::vector<OpSpec> ops_rope() { return {rope_table_op(), rope_op()}; }

}  // namespace v4::golden
