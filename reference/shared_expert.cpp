// shared_expert: see shared_expert.h.
#include "reference/shared_expert.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference/act_quant.h"
#include "reference/blocks.h"
#include "reference/gemm.h"

namespace v4 {

void shared_expert_fp8(const uint16_t* x, int64_t T, int64_t d, int64_t I, const ExpertFp8Weights& w, bool clamp,
                       Recipe r, uint16_t* y, ExpertTrace* trace) {
  if (T < 0 || d < kFp8Block || I < kFp8Block || d % kFp8Block || I % kFp8Block)
    throw std::invalid_argument("shared_expert_fp8: d=" + std::to_string(d) + " and I=" + std::to_string(I) +
                                " must be positive multiples of 128");
  if (T == 0) return;
  double gemm = 0;  // wall time of the three GEMM calls, for ExpertTrace::gemm_seconds
  auto timed = [&](auto&& f) {
    const auto a = std::chrono::steady_clock::now();
    f();
    gemm += std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
  };
  std::vector<uint8_t> xq(T * d), xs(T * (d / kFp8Block));  // act_quant(x): [T, d], [T, d/128]
  act_quant(x, T, d, kFp8Block, xq.data(), xs.data());
  std::vector<uint16_t> g(T * I), u(T * I), h(T * I);  // [T, I]
  timed([&] {
    fp8_gemm(xq.data(), xs.data(), w.w1, w.s1, T, I, d, r, g.data());
    fp8_gemm(xq.data(), xs.data(), w.w3, w.s3, T, I, d, r, u.data());
  });
  swiglu(g.data(), u.data(), nullptr, T, I, shared_expert_limit(clamp), h.data());
  std::vector<uint8_t> hq(T * I), hs(T * (I / kFp8Block));  // act_quant(h): [T, I], [T, I/128]
  act_quant(h.data(), T, I, kFp8Block, hq.data(), hs.data());
  timed([&] { fp8_gemm(hq.data(), hs.data(), w.w2, w.s2, T, d, I, r, y); });
  if (trace) {
    if (trace->gate) std::copy(g.begin(), g.end(), trace->gate);
    if (trace->up) std::copy(u.begin(), u.end(), trace->up);
    if (trace->h) std::copy(h.begin(), h.end(), trace->h);
    if (trace->gemm_seconds) *trace->gemm_seconds += gemm;
  }
}

void shared_expert_bf16(const uint16_t* x, int64_t T, int64_t d, int64_t I, const ExpertBf16Weights& w, bool clamp,
                        Recipe r, uint16_t* y, ExpertTrace* trace) {
  expert_ffn_bf16(x, nullptr, T, d, I, w, shared_expert_limit(clamp), r, y, trace);
}

}  // namespace v4
