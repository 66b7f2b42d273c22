// kv_proj: the window KV path (reference/kv_proj.h, docs/kv_proj.md).
#include "golden/ops.h"
#include "golden/ops/attention_inputs.h"
#include "reference/kv_proj.h"

namespace v4::golden {

namespace ai = attn_inputs;

std::vector<OpSpec> ops_kv_proj() {
  OpSpec op;
  op.name = "kv_proj";
  op.summary = "x bf16 [T, d], wkv e4m3fn [c, d] (+scale), kv_norm f32 [c], pos i32 [T], cos, sin, quant, kv_fp8_sim -> kv bf16 [T, c]";
  op.defaults = {{"T", 4}, {"d", 256}, {"c", 192}, {"ratio", 4}, {"quant", 1}, {"kv_fp8_sim", 1}};
  op.has_recipe = true;
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t T = param(p, "T"), d = param(p, "d"), c = param(p, "c");
    std::vector<NamedTensor> v{{"x", ai::bf16_uniform(seed, "x", {T, d}, 1.0f)}};
    ai::push_fp8_weight(v, seed, "wkv", c, d, 1.0f / std::sqrt(float(d)));
    v.push_back({"kv_norm", ai::f32_uniform(seed, "kv_norm", {c}, 0.1f, 1.0f)});
    Tensor pos = Tensor::make(Fmt::i32, {T});
    for (int64_t t = 0; t < T; ++t) pos.as<int32_t>()[t] = int32_t(t);
    v.push_back({"pos", std::move(pos)});
    ai::push_rope_table(v, param(p, "ratio"), T);
    v.push_back({"quant", scalar_i32(param(p, "quant"))});
    v.push_back({"kv_fp8_sim", scalar_i32(param(p, "kv_fp8_sim"))});
    return ai::in_reading_order(std::move(v), {"x", "kv_norm", "wkv", "wkv_scale", "pos", "cos", "sin", "quant", "kv_fp8_sim"});
  };
  op.run = [](const OpInputs& in, Recipe rc) {
    const Tensor& x = ai::bf16_mat_in(in, "x", -1, -1);
    const int64_t T = x.shape[0], d = x.shape[1];
    const float* kn = ai::f32_vec_in(in, "kv_norm", -1);
    const int64_t c = in.get("kv_norm", Fmt::f32).shape[0];
    if (c <= 64 || (c - 64) % 64) in.fail("kv_norm", "head dim must be 64 RoPE dims + a multiple of 64");
    const Fp8Weight w = ai::fp8_weight_in(in, "wkv", c, d);
    const Tensor& pos = in.get("pos", Fmt::i32);
    in.require_rank("pos", pos, 1);
    in.require_dim("pos", pos, 0, T, "one position per token");
    const RopeTable tab = ai::rope_table_in(in);
    for (int64_t t = 0; t < T; ++t)
      if (pos.as<int32_t>()[t] < 0 || pos.as<int32_t>()[t] >= tab.positions) in.fail("pos", "position outside the table");
    const bool quant = in.get_switch("quant");
    const bool sim = in.get_switch("kv_fp8_sim");
    Tensor kv = Tensor::make(Fmt::bf16, {T, c});
    kv_proj(x.as<uint16_t>(), T, w, kn, pos.as<int32_t>(), tab, rc, quant, sim, kv.as<uint16_t>());
    return std::vector<NamedTensor>{{"kv", std::move(kv)}};
  };
  return {op};
}

}  // namespace v4::golden
