// shared_expert against double precision on the dequantized FP8 weights, stage by stage (as
// test_expert_ffn.cpp), and the release switch: with shared_expert_clamp on, gate values above 10 are
// clamped and up values clamped to ±10; off (the earlier release), neither is.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "reference/act_quant.h"
#include "reference/shared_expert.h"
#include "reference/weight_dequant.h"
#include "reference/weights.h"
#include "tests/support/moe_support.h"

using namespace v4;
using namespace v4::testsupport;

namespace {

struct Shared {
  int64_t T = 0, d = 0, I = 0;
  std::vector<uint8_t> w1, s1, w3, s3, w2, s2;
  std::vector<uint16_t> d1, d3, d2;
  ExpertFp8Weights fp8() const { return {w1.data(), s1.data(), w3.data(), s3.data(), w2.data(), s2.data()}; }
};

Shared make_shared(int64_t T, int64_t d, int64_t I) {
  Shared x;
  x.T = T;
  x.d = d;
  x.I = I;
  auto fp8 = [&](const char* name, int64_t N, int64_t K, std::vector<uint8_t>& w, std::vector<uint8_t>& s,
                 std::vector<uint16_t>& deq) {
    w.resize(N * K);
    s.resize(((N + 127) / 128) * (K / 128));
    deq.resize(N * K);
    weights_fp8({99, 4, -1}, name, N, K, w.data(), s.data());
    weight_dequant_fp8(w.data(), s.data(), N, K, deq.data());
  };
  fp8("ffn.shared_experts.w1", I, d, x.w1, x.s1, x.d1);
  fp8("ffn.shared_experts.w3", I, d, x.w3, x.s3, x.d3);
  fp8("ffn.shared_experts.w2", d, I, x.w2, x.s2, x.d2);
  return x;
}

std::vector<double> quantized(const std::vector<uint16_t>& a, int64_t T, int64_t n) {
  std::vector<uint8_t> q(T * n), s(T * n / 128);
  act_quant(a.data(), T, n, 128, q.data(), s.data());
  std::vector<double> v(T * n);
  for (int64_t i = 0; i < T * n; ++i) v[i] = double(fp8_e4m3_decode(q[i])) * ue8m0_decode(s[(i / n) * (n / 128) + (i % n) / 128]);
  return v;
}

void dot_rows(const std::vector<double>& A, const std::vector<uint16_t>& B, int64_t T, int64_t N, int64_t K,
              std::vector<double>& c, std::vector<double>& mag) {
  c.assign(T * N, 0.0);
  mag.assign(T * N, 0.0);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) {
        const double p = A[t * K + k] * bf(B[n * K + k]);
        c[t * N + n] += p;
        mag[t * N + n] += std::abs(p);
      }
}

// FP8 canonical: each 128-block partial rounded once to fp32 (u·|terms|), each promotion fma once
// (u·|acc|): |acc - exact| <= u·(1 + K/128)·sum|terms|.
double fp8_bound(int64_t K, double mag) { return 1.001 * kU32 * (1.0 + double(K) / 128) * mag; }

double swiglu_exact(double g, double u, double limit) {
  if (limit > 0) {
    u = std::min(std::max(u, -limit), limit);
    g = std::min(g, limit);
  }
  return (g / (1 + std::exp(-g))) * u;
}

}  // namespace

TEST(SharedExpert, Fp8StagesMatchDoublePrecisionAndTheClampSwitch) {
  const Shared e = make_shared(6, 256, 256);
  // Activations large enough (sd 24) that some gate and up values leave [-10, 10].
  const auto x = normal_bf16(size_t(e.T * e.d), 24.0f, 5);
  for (bool clamp : {true, false}) {
    std::vector<uint16_t> g(e.T * e.I), u(e.T * e.I), h(e.T * e.I), y(e.T * e.d);
    ExpertTrace tr{g.data(), u.data(), h.data()};
    shared_expert_fp8(x.data(), e.T, e.d, e.I, e.fp8(), clamp, Recipe::canonical, y.data(), &tr);
    std::vector<double> c, mag;
    const auto xq = quantized(x, e.T, e.d);
    dot_rows(xq, e.d1, e.T, e.I, e.d, c, mag);
    for (int64_t i = 0; i < e.T * e.I; ++i) ASSERT_TRUE(bf16_within(g[i], c[i], fp8_bound(e.d, mag[i]))) << i;
    dot_rows(xq, e.d3, e.T, e.I, e.d, c, mag);
    for (int64_t i = 0; i < e.T * e.I; ++i) ASSERT_TRUE(bf16_within(u[i], c[i], fp8_bound(e.d, mag[i]))) << i;
    int beyond = 0;
    for (int64_t i = 0; i < e.T * e.I; ++i) {
      beyond += bf(g[i]) > 10 || std::abs(bf(u[i])) > 10;
      const double hh = swiglu_exact(bf(g[i]), bf(u[i]), clamp ? 10.0 : 0.0);
      ASSERT_TRUE(bf16_within(h[i], hh, 2.01 * kU32 * std::abs(hh))) << "clamp " << clamp << " h " << i;
    }
    EXPECT_GT(beyond, 20) << "the case must exercise the clamp";
    dot_rows(quantized(h, e.T, e.I), e.d2, e.T, e.d, e.I, c, mag);
    for (int64_t i = 0; i < e.T * e.d; ++i) ASSERT_TRUE(bf16_within(y[i], c[i], fp8_bound(e.I, mag[i]))) << i;
  }
}

TEST(SharedExpert, Bf16PathIsTheUnweightedExpertOnDequantizedWeights) {
  const Shared e = make_shared(4, 128, 256);
  const auto x = normal_bf16(size_t(e.T * e.d), 1.0f, 6);
  std::vector<uint16_t> y(e.T * e.d), want(e.T * e.d);
  const ExpertBf16Weights w{e.d1.data(), e.d3.data(), e.d2.data()};
  shared_expert_bf16(x.data(), e.T, e.d, e.I, w, true, Recipe::canonical, y.data());
  expert_ffn_bf16(x.data(), nullptr, e.T, e.d, e.I, w, kSwigluLimit, Recipe::canonical, want.data());
  EXPECT_TRUE(same_bits(y, want, "bf16 shared expert"));
}
