// expert_ffn: see expert_ffn.h. The FP8 shared expert (shared_expert.cpp) reuses swiglu and the
// bf16 path; only the quantized linears differ.
#include "reference/expert_ffn.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference/act_quant.h"
#include "reference/blocks.h"
#include "reference/formats.h"
#include "reference/gemm.h"

namespace v4 {

namespace {

void check(const char* fn, int64_t T, int64_t d, int64_t I) {
  if (T < 0 || d < kFp8Block || I < kFp8Block || d % kFp8Block || I % kFp8Block)
    throw std::invalid_argument(std::string(fn) + ": d=" + std::to_string(d) + " and I=" + std::to_string(I) +
                                " must be positive multiples of 128");
}

// Times f() into *acc when acc is set.
template <class F>
void timed(double* acc, F&& f) {
  if (!acc) return f();
  const auto t0 = std::chrono::steady_clock::now();
  f();
  *acc += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void copy_out(uint16_t* dst, const std::vector<uint16_t>& src) {
  if (dst) std::copy(src.begin(), src.end(), dst);
}

}  // namespace

void swiglu(const uint16_t* g, const uint16_t* u, const float* route_w, int64_t T, int64_t I, float limit, uint16_t* h) {
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < I; ++i)
      h[t * I + i] = bf16_encode(swiglu_element(bf16_decode(g[t * I + i]), bf16_decode(u[t * I + i]), limit,
                                                route_w != nullptr, route_w ? route_w[t] : 0.0f));
}

void expert_ffn_fp4(const uint16_t* x, const float* route_w, int64_t T, int64_t d, int64_t I,
                    const ExpertFp4Weights& w, float limit, Recipe r, uint16_t* y, ExpertTrace* trace) {
  check("expert_ffn_fp4", T, d, I);
  if (T == 0) return;
  double* gs = trace ? trace->gemm_seconds : nullptr;
  std::vector<uint8_t> xq(T * d), xs(T * (d / kFp8Block));  // act_quant(x): [T, d] e4m3, [T, d/128] ue8m0
  act_quant(x, T, d, kFp8Block, xq.data(), xs.data());
  std::vector<uint16_t> g(T * I), u(T * I), h(T * I);  // [T, I]
  timed(gs, [&] {
    fp4_gemm(xq.data(), xs.data(), w.w1, w.s1, T, I, d, r, g.data());
    fp4_gemm(xq.data(), xs.data(), w.w3, w.s3, T, I, d, r, u.data());
  });
  swiglu(g.data(), u.data(), route_w, T, I, limit, h.data());
  std::vector<uint8_t> hq(T * I), hs(T * (I / kFp8Block));  // act_quant(h): [T, I], [T, I/128]
  act_quant(h.data(), T, I, kFp8Block, hq.data(), hs.data());
  timed(gs, [&] { fp4_gemm(hq.data(), hs.data(), w.w2, w.s2, T, d, I, r, y); });
  if (trace) {
    copy_out(trace->gate, g);
    copy_out(trace->up, u);
    copy_out(trace->h, h);
  }
}

void expert_ffn_bf16(const uint16_t* x, const float* route_w, int64_t T, int64_t d, int64_t I,
                     const ExpertBf16Weights& w, float limit, Recipe r, uint16_t* y, ExpertTrace* trace) {
  check("expert_ffn_bf16", T, d, I);
  if (T == 0) return;
  double* gs = trace ? trace->gemm_seconds : nullptr;
  std::vector<uint16_t> g(T * I), u(T * I), h(T * I);  // [T, I]
  timed(gs, [&] {
    bf16_gemm(x, w.w1, T, I, d, r, g.data());
    bf16_gemm(x, w.w3, T, I, d, r, u.data());
  });
  swiglu(g.data(), u.data(), route_w, T, I, limit, h.data());
  timed(gs, [&] { bf16_gemm(h.data(), w.w2, T, d, I, r, y); });
  if (trace) {
    copy_out(trace->gate, g);
    copy_out(trace->up, u);
    copy_out(trace->h, h);
  }
}

}  // namespace v4
