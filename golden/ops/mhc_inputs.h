// Inputs shared by the mHC ops (mhc_pre, mhc_head, lm_head): the residual streams R [T, n, d] and the mix
// parameters fn [rows, n*d], base [rows]; seeded so that the mix is O(1) (docs/mhc_pre.md "Seeded inputs");
// for the hc_head collapse also scale [1] and the rank-0 norm_eps, hc_eps.
#pragma once
#include "golden/ops.h"
#include "reference/mhc_pre.h"
#include "golden/ops/scalars.h"
#include "reference/random_tensor.h"

namespace v4::golden {

struct MhcInputs {
  MhcShape shape;
  const Tensor* R;
  const Tensor* fn;
  const Tensor* base;
  const Tensor* scale = nullptr;  // hc_head only: [1]
};

// R: bf16 activations; fn: random_f32 · 2^-12 (the mix of the normalized streams is then about ±1 for
// n·d ≈ 1000); base: random_f32 · 2^-8 (|base| <= 1).
inline std::vector<NamedTensor> mhc_seeded_streams(uint64_t seed, const ShapeParams& p, int64_t rows) {
  const int64_t T = param(p, "T"), n = param(p, "n"), d = param(p, "d");
  return {{"R", random_bf16(seed, "R", {T, n, d})},
          {"fn", random_f32_scaled(seed, "fn", {rows, n * d}, -12)},
          {"base", random_f32_scaled(seed, "base", {rows}, -8)}};
}

// Reads and checks R, fn and base; rows of fn are (2+n)n for mhc_pre (full) or n for mhc_head.
inline MhcInputs mhc_read_streams(const OpInputs& in, bool full) {
  MhcInputs m;
  m.R = &in.get("R", Fmt::bf16);
  in.require_rank("R", *m.R, 3);
  m.shape.T = m.R->shape[0];
  m.shape.n = int(m.R->shape[1]);
  m.shape.d = m.R->shape[2];
  if (m.shape.n < 1 || m.shape.n > kSinkhornMaxN) in.fail("R", "stream count n must be in 1.." + std::to_string(kSinkhornMaxN));
  if (m.shape.d < 1) in.fail("R", "d must be >= 1");
  const int64_t rows = full ? m.shape.mix_width() : m.shape.n;
  m.fn = &in.get("fn", Fmt::f32);
  in.require_rank("fn", *m.fn, 2);
  in.require_dim("fn", *m.fn, 0, rows, full ? "(2+n)*n rows: pre, post, comb" : "n rows");
  in.require_dim("fn", *m.fn, 1, m.shape.width(), "n*d columns (the flattened streams)");
  m.base = &in.get("base", Fmt::f32);
  in.require_rank("base", *m.base, 1);
  in.require_dim("base", *m.base, 0, rows, "one per row of fn");
  return m;
}

// The hc_head collapse (mhc_head, lm_head): R, fn [n, n*d], base [n], then scale [1], norm_eps, hc_eps.
inline std::vector<NamedTensor> mhc_seeded_head(uint64_t seed, const ShapeParams& p) {
  std::vector<NamedTensor> v = mhc_seeded_streams(seed, p, param(p, "n"));
  v.push_back({"scale", random_f32_scaled(seed, "scale", {1}, -8)});
  v.push_back({"norm_eps", scalar_f32(kNormEps)});
  v.push_back({"hc_eps", scalar_f32(kHcEps)});
  return v;
}
inline MhcInputs mhc_read_head(const OpInputs& in) {
  MhcInputs m = mhc_read_streams(in, false);
  m.scale = &in.get("scale", Fmt::f32);
  in.require_rank("scale", *m.scale, 1);
  in.require_dim("scale", *m.scale, 0, 1, "one gating factor");
  m.shape.norm_eps = scalar_f32_input(in, "norm_eps");
  m.shape.hc_eps = scalar_f32_input(in, "hc_eps");
  return m;
}

}  // namespace v4::golden
