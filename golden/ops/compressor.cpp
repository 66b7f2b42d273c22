// compressor: compressor_hca and compressor_csa prefill (reference/compressor.h, docs/compressor.md).
#include "golden/ops.h"
#include "golden/ops/attention_inputs.h"
#include "reference/compressor.h"
#include "reference/random_tensor.h"

namespace v4::golden {

namespace ai = attn_inputs;

namespace {

OpSpec compressor_op(bool csa) {
  OpSpec op;
  op.name = csa ? "compressor_csa" : "compressor_hca";
  op.summary = csa ? "x bf16 [s, d], wkv, wgate f32 [2c, d], ape f32 [r, 2c], norm f32 [c], cos, sin, sim, rotate i32 -> entries bf16 [s/r, c], kv_state, score_state f32 [2r, 2c]"
                   : "x bf16 [s, d], wkv, wgate f32 [c, d], ape f32 [r, c], norm f32 [c], cos, sin, sim i32 -> entries bf16 [s/r, c], kv_state, score_state f32 [r, c]";
  if (csa)
    op.defaults = {{"s", 22}, {"d", 128}, {"c", 128}, {"r", 4}, {"sim", 1}, {"rotate", 0}};
  else
    op.defaults = {{"s", 260}, {"d", 128}, {"c", 128}, {"r", 128}, {"sim", 1}};
  op.has_recipe = true;  // the fp32 projections and the pooling sums
  op.make_inputs = [csa](uint64_t seed, const ShapeParams& p) {
    const int64_t s = param(p, "s"), d = param(p, "d"), c = param(p, "c"), r = param(p, "r"), w = csa ? 2 * c : c;
    const float sd = 1.0f / std::sqrt(float(d));
    std::vector<NamedTensor> v{{"x", ai::bf16_uniform(seed, "x", {s, d}, 1.0f)},
                               {"wkv", ai::f32_uniform(seed, "wkv", {w, d}, sd)},
                               {"wgate", ai::f32_uniform(seed, "wgate", {w, d}, sd)},
                               {"ape", ai::f32_uniform(seed, "ape", {r, w}, 0.5f)},
                               {"norm", ai::f32_uniform(seed, "norm", {c}, 0.1f, 1.0f)}};
    ai::push_rope_table(v, r, s);
    v.push_back({"sim", scalar_i32(param(p, "sim"))});
    if (csa) v.push_back({"rotate", scalar_i32(param(p, "rotate"))});
    return ai::in_reading_order(std::move(v), {"x", "norm", "wkv", "wgate", "ape", "cos", "sin", "sim", "rotate"});
  };
  op.run = [csa](const OpInputs& in, Recipe rc) {
    const Tensor& x = ai::bf16_mat_in(in, "x", -1, -1);
    const int64_t s = x.shape[0], d = x.shape[1];
    const float* norm = ai::f32_vec_in(in, "norm", -1);
    const int64_t c = in.get("norm", Fmt::f32).shape[0], w = csa ? 2 * c : c;
    const Tensor& wkv = ai::f32_mat_in(in, "wkv", w, d);
    const Tensor& wgate = ai::f32_mat_in(in, "wgate", w, d);
    const Tensor& ape = ai::f32_mat_in(in, "ape", -1, w);
    const int64_t r = ape.shape[0];
    const RopeTable tab = ai::rope_table_in(in);
    const bool sim = in.get_switch("sim"), rotate = csa && in.get_switch("rotate");
    if (r <= 0 || s < r) in.fail("x", "fewer tokens (" + std::to_string(s) + ") than the ratio " + std::to_string(r) + ": no entry");
    if (c <= 64 || (!rotate && (c - 64) % 64) || (rotate && (c & (c - 1))))
      in.fail("norm", "entry width " + std::to_string(c) + " must be 64 + a multiple of 64 (a power of two with rotate)");
    if (tab.positions < s) in.fail("cos", "the table must cover the s positions");
    const CompressorConfig cfg{d, c, r, csa, rotate, sim};
    Tensor e = Tensor::make(Fmt::bf16, {s / r, c}), ks = Tensor::make(Fmt::f32, {cfg.state_rows(), w}),
           ss = Tensor::make(Fmt::f32, {cfg.state_rows(), w});
    compressor_prefill(cfg, {wkv.as<float>(), wgate.as<float>(), ape.as<float>(), norm}, x.as<uint16_t>(), s, tab, rc,
                       e.as<uint16_t>(), ks.as<float>(), ss.as<float>());
    return std::vector<NamedTensor>{{"entries", std::move(e)}, {"kv_state", std::move(ks)}, {"score_state", std::move(ss)}};
  };
  return op;
}

}  // namespace

std::vector<OpSpec> ops_compressor() { return {compressor_op(false), compressor_op(true)}; }

}  // namespace v4::golden
