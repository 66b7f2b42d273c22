// lm_head: see lm_head.h.
#include "reference/lm_head.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference/formats.h"
#include "reference/gemm.h"
#include "reference/mhc_head.h"
#include "reference/rmsnorm.h"

namespace v4 {

void lm_head(const uint16_t* R, const LmHeadWeights& W, const MhcShape& s, Recipe r, float* logits,
             uint16_t* y_out, uint16_t* x_out) {
  if (s.T < 0 || s.d < 1 || W.V < 0)
    throw std::invalid_argument("lm_head: bad shape T=" + std::to_string(s.T) + " d=" + std::to_string(s.d) +
                                " V=" + std::to_string(W.V));
  const int64_t T = s.T, d = s.d, V = W.V;
  std::vector<uint16_t> y_local(y_out ? 0 : T * d), x_local(x_out ? 0 : T * d);
  uint16_t* y = y_out ? y_out : y_local.data();  // [T, d] the collapsed streams
  uint16_t* x = x_out ? x_out : x_local.data();  // [T, d] after the final norm
  mhc_head(R, W.hc_fn, W.hc_base, W.hc_scale, s, r, y);
  rmsnorm(y, W.norm, T, d, s.norm_eps, r, x);
  std::vector<float> xf(static_cast<size_t>(T * d));  // [T, d] f32(x)
  for (int64_t i = 0; i < T * d; ++i) xf[i] = bf16_decode(x[i]);
  const int64_t chunk = std::min(V, kLmHeadChunk);
  std::vector<float> hf(static_cast<size_t>(chunk * d));  // [chunk, d] f32(head rows)
  std::vector<float> part(static_cast<size_t>(T * chunk));  // [T, chunk]
  for (int64_t v0 = 0; v0 < V; v0 += chunk) {
    const int64_t nv = std::min(chunk, V - v0);
    float* h = hf.data();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < nv * d; ++i) h[i] = bf16_decode(W.head[v0 * d + i]);  // independent elements
    f32_gemm(xf.data(), hf.data(), T, nv, d, r, part.data());
    for (int64_t t = 0; t < T; ++t) std::copy_n(&part[t * nv], nv, &logits[t * V + v0]);
  }
}

}  // namespace v4
