// mhc_pre: see mhc_pre.h.
#include "reference/mhc_pre.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference/reduce.h"
#include "reference/formats.h"
#include "reference/gemm.h"
#include "reference/pmath.h"

namespace v4 {

namespace {

constexpr int64_t kTokenChunk = 64;  // tokens of f32(R) held at once by mhc_mix

void check(const char* fn, const MhcShape& s) {
  if (s.T < 0 || s.d <= 0 || s.n < 1 || s.n > kSinkhornMaxN || s.iters < 1)
    throw std::invalid_argument(std::string(fn) + ": bad shape T=" + std::to_string(s.T) + " n=" +
                                std::to_string(s.n) + " d=" + std::to_string(s.d) + " iters=" + std::to_string(s.iters));
}

}  // namespace

void mhc_mix(const uint16_t* R, const float* fn, int64_t rows, const MhcShape& s, Recipe r, float* mix) {
  check("mhc_mix", s);
  const int64_t W = s.width();
  const float width_f = float(W);  // mean = sum / (n·d): a division, as torch's mean
  std::vector<float> X(std::min(s.T, kTokenChunk) * W);  // [chunk, n·d]
  std::vector<float> rho(std::min(s.T, kTokenChunk));
  for (int64_t t0 = 0; t0 < s.T; t0 += kTokenChunk) {
    const int64_t tc = std::min(kTokenChunk, s.T - t0);
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < tc; ++t) {
      float* xt = X.data() + t * W;
      for (int64_t i = 0; i < W; ++i) xt[i] = bf16_decode(R[(t0 + t) * W + i]);
      const float ss = reduce_dot_f32(xt, xt, W, r);
      rho[t] = pmath::rsqrt(ss / width_f + s.norm_eps);
    }
    float* out = mix + t0 * rows;  // [tc, rows]
    f32_gemm(X.data(), fn, tc, rows, W, r, out);
    for (int64_t t = 0; t < tc; ++t)
      for (int64_t i = 0; i < rows; ++i) out[t * rows + i] = out[t * rows + i] * rho[t];
  }
}

void mhc_collapse(const uint16_t* R, const float* pre, const MhcShape& s, Recipe r, uint16_t* x) {
  check("mhc_collapse", s);
  const int n = s.n;
  const int64_t d = s.d;
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < s.T; ++t) {
    const uint16_t* Rt = R + t * n * d;  // [n, d]
    float col[kSinkhornMaxN];
    for (int64_t i = 0; i < d; ++i) {
      for (int k = 0; k < n; ++k) col[k] = bf16_decode(Rt[k * d + i]);
      x[t * d + i] = bf16_encode(reduce_dot_f32(pre + t * n, col, n, r));
    }
  }
}

void mhc_pre(const uint16_t* R, const float* fn, const float* base, const float* scale, const MhcShape& s, Recipe r,
             uint16_t* x, float* post, float* comb, float* pre_out, float* mix_out) {
  check("mhc_pre", s);
  const int n = s.n;
  const int64_t m = s.mix_width();
  std::vector<float> mix_local(mix_out ? 0 : s.T * m), pre_local(pre_out ? 0 : s.T * n);
  float* mix = mix_out ? mix_out : mix_local.data();  // [T, m]
  float* pre = pre_out ? pre_out : pre_local.data();  // [T, n]
  mhc_mix(R, fn, m, s, r, mix);
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < s.T; ++t) {
    const float* mt = mix + t * m;
    for (int k = 0; k < n; ++k) {
      pre[t * n + k] = pmath::sigmoid(mt[k] * scale[0] + base[k]) + s.hc_eps;
      post[t * n + k] = 2.0f * pmath::sigmoid(mt[n + k] * scale[1] + base[n + k]);
    }
    float* ct = comb + t * n * n;  // [n, n], logits first, then sinkhorn in place
    for (int64_t i = 0; i < int64_t(n) * n; ++i) ct[i] = mt[2 * n + i] * scale[2] + base[2 * n + i];
    sinkhorn_matrix(ct, n, s.iters, s.hc_eps);
  }
  mhc_collapse(R, pre, s, r, x);
}

}  // namespace v4
