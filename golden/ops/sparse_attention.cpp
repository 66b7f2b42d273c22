// sparse_attention: the V4 core attention (reference/sparse_attention.h, docs/sparse_attention.md).
#include "golden/ops.h"
#include "golden/ops/attention_inputs.h"
#include "reference/rng.h"
#include "reference/sparse_attention.h"

namespace v4::golden {

namespace ai = attn_inputs;

std::vector<OpSpec> ops_sparse_attention() {
  OpSpec op;
  op.name = "sparse_attention";
  op.summary = "q bf16 [T, H, c], kv bf16 [N, c], idx i32 [T, K] (-1 masked), sink f32 [H], scale f32 -> out bf16 [T, H, c]";
  op.defaults = {{"T", 4}, {"H", 4}, {"c", 128}, {"N", 96}, {"K", 80}};
  op.has_recipe = true;  // QK and PV products
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t T = param(p, "T"), H = param(p, "H"), c = param(p, "c"), N = param(p, "N"), K = param(p, "K");
    std::vector<NamedTensor> v;
    v.push_back({"q", ai::bf16_uniform(seed, "q", {T, H, c}, 1.0f)});
    v.push_back({"kv", ai::bf16_uniform(seed, "kv", {N, c}, 1.0f)});
    Tensor idx = Tensor::make(Fmt::i32, {T, K});
    const uint64_t st = rng_stream_id("idx");
    for (int64_t i = 0; i < T * K; ++i) {  // entry 0 of each row valid; about 1 in 8 masked
      const uint64_t u = rng_u64(seed, st, uint64_t(i));
      idx.as<int32_t>()[i] = (i % K != 0 && (u & 7) == 0) ? -1 : int32_t((u >> 8) % uint64_t(N));
    }
    v.push_back({"idx", std::move(idx)});
    v.push_back({"sink", ai::f32_uniform(seed, "sink", {H}, 1.0f, 0.0f, false)});
    v.push_back({"scale", scalar_f32(float(1.0 / std::sqrt(double(c))))});
    return v;
  };
  op.run = [](const OpInputs& in, Recipe r) {
    const Tensor& q = in.get("q", Fmt::bf16);
    in.require_rank("q", q, 3);
    const int64_t T = q.shape[0], H = q.shape[1], c = q.shape[2];
    const Tensor& kv = ai::bf16_mat_in(in, "kv", -1, c);
    const Tensor& idx = in.get("idx", Fmt::i32);
    in.require_rank("idx", idx, 2);
    in.require_dim("idx", idx, 0, T, "one list per query");
    const float* sink = ai::f32_vec_in(in, "sink", H);
    const float scale = in.get_f32_scalar("scale");
    const int64_t N = kv.shape[0], K = idx.shape[1];
    for (int64_t i = 0; i < T * K; ++i)
      if (idx.as<int32_t>()[i] < -1 || idx.as<int32_t>()[i] >= N) in.fail("idx", "entry outside [-1, N)");
    Tensor out = Tensor::make(Fmt::bf16, {T, H, c});
    sparse_attention(q.as<uint16_t>(), kv.as<uint16_t>(), N, idx.as<int32_t>(), T, K, H, c, sink, scale, r,
                     out.as<uint16_t>());
    return std::vector<NamedTensor>{{"out", std::move(out)}};
  };
  return {op};
}

}  // namespace v4::golden
