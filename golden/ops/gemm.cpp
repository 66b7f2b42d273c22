// The GEMM recipes as ops: fp8_gemm, fp4_gemm, bf16_gemm, f32_gemm (reference/gemm.h, docs/gemm.md).
#include "golden/ops.h"

#include <algorithm>

#include "reference/blocks.h"
#include "reference/gemm.h"
#include "reference/random_tensor.h"

namespace v4::golden {

namespace {

// GEMMs: C[M, N] = A[M, K] . B[N, K]^T.
struct GemmDims {
  int64_t M, N, K;
};
GemmDims gemm_dims(const OpInputs& in, const Tensor& a, const Tensor& b) {
  in.require_rank("a", a, 2);
  in.require_rank("b", b, 2);
  in.require_dim("b", b, 1, a.shape[1], "K must match a's columns");
  return {a.shape[0], b.shape[0], a.shape[1]};
}

OpSpec fp8_gemm_op(bool fp4) {
  OpSpec op;
  op.name = fp4 ? "fp4_gemm" : "fp8_gemm";
  op.summary = fp4 ? "a e4m3fn [M,K], a_scale ue8m0 [M,K/128], b e2m1x2 [N,K], b_scale ue8m0 [N,K/32] -> c bf16 [M,N]"
                   : "a e4m3fn [M,K], a_scale ue8m0 [M,K/128], b e4m3fn [N,K], b_scale ue8m0 [ceil(N/128),K/128] -> c bf16 [M,N]";
  op.defaults = {{"M", 64}, {"N", 128}, {"K", 256}};
  if (!fp4) op.defaults["uniform_scales"] = 0;  // 1: one scale code per tensor (per-tensor-scaled kernels, cuBLASLt)
  op.has_recipe = true;
  op.make_inputs = [fp4](uint64_t seed, const ShapeParams& p) {
    const int64_t M = param(p, "M"), N = param(p, "N"), K = param(p, "K");
    std::vector<NamedTensor> v;
    v.push_back({"a", random_e4m3(seed, "a", {M, K}), {"/a_scale", {1, kFp8Block}}});
    v.push_back({"a_scale", random_ue8m0(seed, "a_scale", {M, ceil_div(K, kFp8Block)})});
    if (!fp4 && param(p, "uniform_scales")) {
      v.push_back({"b", random_e4m3(seed, "b", {N, K}), {"/b_scale", {kFp8Block, kFp8Block}}});
      v.push_back({"b_scale", random_ue8m0(seed, "b_scale", {ceil_div(N, kFp8Block), ceil_div(K, kFp8Block)})});
      for (size_t i : {size_t(1), size_t(3)})  // every code of a scale tensor becomes its first code
        std::fill(v[i].t.data.begin(), v[i].t.data.end(), v[i].t.data.empty() ? 0 : v[i].t.data[0]);
      return v;
    }
    if (fp4) {
      v.push_back({"b", random_e2m1x2(seed, "b", {N, K}), {"/b_scale", {1, 32}}});
      v.push_back({"b_scale", random_ue8m0(seed, "b_scale", {N, ceil_div(K, kFp4Block)})});
    } else {
      v.push_back({"b", random_e4m3(seed, "b", {N, K}), {"/b_scale", {kFp8Block, kFp8Block}}});
      v.push_back({"b_scale", random_ue8m0(seed, "b_scale", {ceil_div(N, kFp8Block), ceil_div(K, kFp8Block)})});
    }
    return v;
  };
  op.run = [fp4](const OpInputs& in, Recipe r) {
    const Tensor& a = in.get("a", Fmt::e4m3fn);
    const Tensor& as = in.get("a_scale", Fmt::ue8m0);
    const Tensor& b = in.get("b", fp4 ? Fmt::e2m1x2 : Fmt::e4m3fn);
    const Tensor& bs = in.get("b_scale", Fmt::ue8m0);
    const GemmDims d = gemm_dims(in, a, b);
    if (d.K % kFp8Block) in.fail("a", "K = " + std::to_string(d.K) + " is not a multiple of " + std::to_string(kFp8Block));
    in.require_rank("a_scale", as, 2);
    in.require_rank("b_scale", bs, 2);
    in.require_dim("a_scale", as, 0, d.M, "one row per row of a");
    in.require_dim("a_scale", as, 1, d.K / kFp8Block, "one scale per 128 K");
    in.require_dim("b_scale", bs, 0, fp4 ? d.N : ceil_div(d.N, kFp8Block), fp4 ? "one row per row of b" : "one row per 128 rows of b");
    in.require_dim("b_scale", bs, 1, fp4 ? d.K / kFp4Block : d.K / kFp8Block, fp4 ? "one scale per 32 K" : "one scale per 128 K");
    Tensor c = Tensor::make(Fmt::bf16, {d.M, d.N});
    (fp4 ? fp4_gemm : fp8_gemm)(a.as<uint8_t>(), as.as<uint8_t>(), b.as<uint8_t>(), bs.as<uint8_t>(), d.M, d.N, d.K, r,
                                c.as<uint16_t>());
    return std::vector<NamedTensor>{{"c", std::move(c)}};
  };
  return op;
}

OpSpec plain_gemm_op(Fmt fmt) {
  OpSpec op;
  const bool bf = fmt == Fmt::bf16;
  op.name = bf ? "bf16_gemm" : "f32_gemm";
  op.summary = bf ? "a bf16 [M,K], b bf16 [N,K] -> c bf16 [M,N]" : "a f32 [M,K], b f32 [N,K] -> c f32 [M,N]";
  op.defaults = {{"M", 64}, {"N", 128}, {"K", 256}};
  op.has_recipe = true;
  op.make_inputs = [bf](uint64_t seed, const ShapeParams& p) {
    const int64_t M = param(p, "M"), N = param(p, "N"), K = param(p, "K");
    auto gen = bf ? random_bf16 : random_f32;
    return std::vector<NamedTensor>{{"a", gen(seed, "a", {M, K})}, {"b", gen(seed, "b", {N, K})}};
  };
  op.run = [fmt, bf](const OpInputs& in, Recipe r) {
    const Tensor& a = in.get("a", fmt);
    const Tensor& b = in.get("b", fmt);
    const GemmDims d = gemm_dims(in, a, b);
    Tensor c = Tensor::make(fmt, {d.M, d.N});
    if (bf)
      bf16_gemm(a.as<uint16_t>(), b.as<uint16_t>(), d.M, d.N, d.K, r, c.as<uint16_t>());
    else
      f32_gemm(a.as<float>(), b.as<float>(), d.M, d.N, d.K, r, c.as<float>());
    return std::vector<NamedTensor>{{"c", std::move(c)}};
  };
  return op;
}

}  // namespace

std::vector<OpSpec> ops_gemm() {
  return {fp8_gemm_op(false), fp8_gemm_op(true), plain_gemm_op(Fmt::bf16), plain_gemm_op(Fmt::f32)};
}

}  // namespace v4::golden
