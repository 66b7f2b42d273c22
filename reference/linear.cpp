// linear: see linear.h.
#include "reference/linear.h"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference/act_quant.h"
#include "reference/blocks.h"
#include "reference/gemm.h"
#include "reference/weight_dequant.h"

namespace v4 {

namespace {
std::atomic<bool> g_clock_on{false};
std::atomic<int64_t> g_clock_ns{0};
int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void gemm_clock_enable(bool on) { g_clock_on = on; }
void gemm_clock_reset() { g_clock_ns = 0; }
double gemm_clock_seconds() { return double(g_clock_ns.load()) * 1e-9; }
GemmClockScope::GemmClockScope() : start_ns(g_clock_on ? now_ns() : 0) {}
GemmClockScope::~GemmClockScope() {
  if (g_clock_on) g_clock_ns += now_ns() - start_ns;
}

void linear_fp8(const uint16_t* x, int64_t M, const Fp8Weight& W, Recipe r, bool quant, uint16_t* y) {
  if (M == 0) return;
  if (quant) {
    if (W.in % kFp8Block != 0)
      throw std::invalid_argument("linear_fp8: in=" + std::to_string(W.in) + " is not a multiple of 128");
    std::vector<uint8_t> q(static_cast<size_t>(M * W.in)), s(static_cast<size_t>(M * (W.in / kFp8Block)));  // [M, K], [M, K/128]
    act_quant(x, M, W.in, kFp8Block, q.data(), s.data());
    GemmClockScope clock;
    fp8_gemm(q.data(), s.data(), W.w, W.scale, M, W.out, W.in, r, y);
  } else {
    std::vector<uint16_t> wb(static_cast<size_t>(W.out * W.in));  // [N, K] the dequantized bf16 weight
    weight_dequant_fp8(W.w, W.scale, W.out, W.in, wb.data());
    GemmClockScope clock;
    bf16_gemm(x, wb.data(), M, W.out, W.in, r, y);
  }
}

void linear_bf16(const uint16_t* x, int64_t M, const uint16_t* w, int64_t N, int64_t K, Recipe r, uint16_t* y) {
  GemmClockScope clock;
  bf16_gemm(x, w, M, N, K, r, y);
}

void linear_f32(const float* x, int64_t M, const float* w, int64_t N, int64_t K, Recipe r, float* y) {
  GemmClockScope clock;
  f32_gemm(x, w, M, N, K, r, y);
}

}  // namespace v4
