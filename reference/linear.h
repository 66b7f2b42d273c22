// linear: the `linear(x, W)` dispatch of DeepSeek-V4 (v4-model.md §2.5) for the model components, with
// the quantization simulation as a switch, and the GEMM clock of the benchmarks.
//   FP8 weight, quant on : (q, s) = act_quant(x, 128); y = fp8_gemm(q, s, W)      (the release)
//   FP8 weight, quant off: y = bf16_gemm(x, weight_dequant(W))                     (bf16 weights and
//                          bf16 arithmetic at the same place: no activation quantization)
//   bf16 weight          : y = bf16_gemm(x, W);   fp32 weight: y = f32_gemm(x, W)
// Every GEMM goes through reference/gemm.h, so the Recipe applies. Shapes: x [M, K], W [N, K], y [M, N].
#pragma once
#include <cstdint>

#include "reference/recipe.h"

namespace v4 {

// An FP8 weight as in the checkpoint: w e4m3fn codes [out, in], scale ue8m0 codes [ceil(out/128), in/128].
struct Fp8Weight {
  const uint8_t* w;
  const uint8_t* scale;
  int64_t out, in;
};

void linear_fp8(const uint16_t* x, int64_t M, const Fp8Weight& W, Recipe r, bool quant, uint16_t* y);
void linear_bf16(const uint16_t* x, int64_t M, const uint16_t* w, int64_t N, int64_t K, Recipe r, uint16_t* y);
void linear_f32(const float* x, int64_t M, const float* w, int64_t N, int64_t K, Recipe r, float* y);

// Benchmark instrumentation: when enabled, the wall time spent inside the gemm.h calls made through
// this file (and gemm_clock_add) is accumulated. Off by default; never affects results.
void gemm_clock_enable(bool on);
void gemm_clock_reset();
double gemm_clock_seconds();
// RAII timer for other GEMM-shaped calls made by components (e.g. the indexer's score einsum).
struct GemmClockScope {
  GemmClockScope();
  ~GemmClockScope();
  GemmClockScope(const GemmClockScope&) = delete;
  GemmClockScope& operator=(const GemmClockScope&) = delete;
  int64_t start_ns;
};

}  // namespace v4
