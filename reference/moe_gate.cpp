// moe_gate: see moe_gate.h.
#include "reference/moe_gate.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "reference/formats.h"
#include "reference/gemm.h"
#include "reference/pmath.h"
#include "reference/topk.h"

namespace v4 {

void moe_gate_scores(const uint16_t* x, const uint16_t* w, int64_t T, int64_t d, int64_t E, Recipe r, float* scores) {
  if (T < 0 || d < 1 || E < 1)
    throw std::invalid_argument("moe_gate: bad shape T=" + std::to_string(T) + " d=" + std::to_string(d) +
                                " E=" + std::to_string(E));
  std::vector<float> xf(T * d), wf(E * d);  // exact upcasts: [T, d], [E, d]
  for (int64_t i = 0; i < T * d; ++i) xf[i] = bf16_decode(x[i]);
  for (int64_t i = 0; i < E * d; ++i) wf[i] = bf16_decode(w[i]);
  f32_gemm(xf.data(), wf.data(), T, E, d, r, scores);  // a [T, E]
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < T * E; ++i) scores[i] = pmath::sqrt(pmath::softplus(scores[i]));
}

void moe_route_weights(const float* scores, const int32_t* sel, int k, float route_scale, float* w) {
  float s = scores[sel[0]];
  for (int j = 1; j < k; ++j) s = s + scores[sel[j]];
  for (int j = 0; j < k; ++j) w[j] = (scores[sel[j]] / s) * route_scale;
}

void moe_gate(const uint16_t* x, const uint16_t* w, const float* bias, int64_t T, int64_t d, int64_t E, int k,
              float route_scale, Recipe r, float* weights, int32_t* idx, float* scores_out) {
  if (k < 1 || k > E)
    throw std::invalid_argument("moe_gate: top-k " + std::to_string(k) + " must be in 1.." + std::to_string(E));
  std::vector<float> local(scores_out ? 0 : T * E);
  float* scores = scores_out ? scores_out : local.data();  // [T, E]
  moe_gate_scores(x, w, T, d, E, r, scores);
#pragma omp parallel
  {
    std::vector<float> biased(E);  // [E] selection scores of one token
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; ++t) {
      const float* st = scores + t * E;
      for (int64_t e = 0; e < E; ++e) biased[e] = bias ? st[e] + bias[e] : st[e];
      topk_select(biased.data(), E, k, idx + t * k);
      moe_route_weights(st, idx + t * k, k, route_scale, weights + t * k);
    }
  }
}

}  // namespace v4
