// expert_ffn against double precision on the dequantized weights, stage by stage with the recipe's
// rounding bound (the intermediates come from ExpertTrace, each stage fed the reference's own previous
// stage so that one bf16 tie cannot cascade): g and u from the FP8-quantized x and the FP4 weights, the
// SwiGLU middle with the routing weight, y from the FP8-quantized h. The clamp is one-sided on the gate
// (hand-picked values whose answer differs under a two-sided clamp). Quantization off: bf16 weights and
// bf16 GEMMs within their bound. Thread-count and batch invariance.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "reference/act_quant.h"
#include "reference/expert_ffn.h"
#include "reference/weight_dequant.h"
#include "reference/weights.h"
#include "tests/support/moe_support.h"

using namespace v4;
using namespace v4::testsupport;

namespace {

struct Expert {
  int64_t T = 0, d = 0, I = 0;
  std::vector<uint8_t> w1, s1, w3, s3, w2, s2;
  std::vector<uint16_t> d1, d3, d2;  // dequantized bf16 [I, d], [I, d], [d, I]
  ExpertFp4Weights fp4() const { return {w1.data(), s1.data(), w3.data(), s3.data(), w2.data(), s2.data()}; }
  ExpertBf16Weights bf16() const { return {d1.data(), d3.data(), d2.data()}; }
};

Expert make_expert(int64_t T, int64_t d, int64_t I, int32_t e) {
  Expert x;
  x.T = T;
  x.d = d;
  x.I = I;
  auto fp4 = [&](const char* name, int64_t N, int64_t K, std::vector<uint8_t>& w, std::vector<uint8_t>& s,
                 std::vector<uint16_t>& deq) {
    w.resize(N * K / 2);
    s.resize(N * K / 32);
    deq.resize(N * K);
    weights_fp4({2024, 3, e}, name, N, K, w.data(), s.data());
    weight_dequant_fp4(w.data(), s.data(), N, K, deq.data());
  };
  fp4("ffn.experts.w1", I, d, x.w1, x.s1, x.d1);
  fp4("ffn.experts.w3", I, d, x.w3, x.s3, x.d3);
  fp4("ffn.experts.w2", d, I, x.w2, x.s2, x.d2);
  return x;
}

struct Trace {
  std::vector<uint16_t> g, u, h, y;
};
Trace run_fp4(const Expert& e, const std::vector<uint16_t>& x, const std::vector<float>& rw, Recipe r) {
  Trace t{std::vector<uint16_t>(e.T * e.I), std::vector<uint16_t>(e.T * e.I), std::vector<uint16_t>(e.T * e.I),
          std::vector<uint16_t>(e.T * e.d)};
  ExpertTrace tr{t.g.data(), t.u.data(), t.h.data()};
  expert_ffn_fp4(x.data(), rw.empty() ? nullptr : rw.data(), e.T, e.d, e.I, e.fp4(), kSwigluLimit, r, t.y.data(), &tr);
  return t;
}

// Dequantized act_quant of rows [T, n]: fp8(q)·s exactly, in double.
std::vector<double> quantized(const std::vector<uint16_t>& a, int64_t T, int64_t n) {
  std::vector<uint8_t> q(T * n), s(T * n / 128);
  act_quant(a.data(), T, n, 128, q.data(), s.data());
  std::vector<double> v(T * n);
  for (int64_t i = 0; i < T * n; ++i) v[i] = double(fp8_e4m3_decode(q[i])) * ue8m0_decode(s[(i / n) * (n / 128) + (i % n) / 128]);
  return v;
}

// C = A·Bᵀ in double with the sum of |terms| per output: A [T, K] (double), B [N, K] bf16.
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

// Bound of an FP4×FP8 canonical GEMM output before its bf16 rounding: each 32-block partial times the
// activation scale is rounded once to fp32 (u·|term sum|) and each promotion fma rounds once (u·|acc|,
// |acc| <= sum|terms|): |acc - exact| <= u·(1 + K/32)·sum|terms|. Exact recipe: rounded once, directly to bf16.
double fp4_bound(Recipe r, int64_t K, double mag) { return r == Recipe::exact ? 0.0 : 1.001 * kU32 * (1.0 + double(K) / 32) * mag; }

double swiglu_exact(double g, double u, double w, double limit) {
  if (limit > 0) {
    u = std::min(std::max(u, -limit), limit);
    g = std::min(g, limit);
  }
  return w * (g / (1 + std::exp(-g))) * u;
}

}  // namespace

TEST(ExpertFfn, Fp4StagesMatchDoublePrecisionOnTheDequantizedWeights) {
  const Expert e = make_expert(5, 512, 256, 17);
  const auto x = normal_bf16(size_t(e.T * e.d), 1.0f, 1);
  const std::vector<float> rw = {0.37f, 1.0f, 0.05f, 0.61f, 0.25f};
  for (Recipe r : {Recipe::canonical, Recipe::exact}) {
    const Trace t = run_fp4(e, x, rw, r);
    std::vector<double> c, mag;
    const std::vector<double> xq = quantized(x, e.T, e.d);
    for (auto [out, W] : {std::pair{&t.g, &e.d1}, std::pair{&t.u, &e.d3}}) {
      dot_rows(xq, *W, e.T, e.I, e.d, c, mag);
      for (int64_t i = 0; i < e.T * e.I; ++i)
        ASSERT_TRUE(bf16_within((*out)[i], c[i], fp4_bound(r, e.d, mag[i]))) << recipe_name(r) << " gate/up " << i;
    }
    // Middle: h = bf16(w · silu(g) · u): silu correctly rounded and two products: 3 roundings of u each.
    for (int64_t i = 0; i < e.T * e.I; ++i) {
      const double h = swiglu_exact(bf(t.g[i]), bf(t.u[i]), rw[i / e.I], kSwigluLimit);
      ASSERT_TRUE(bf16_within(t.h[i], h, 3.01 * kU32 * std::abs(h))) << "h " << i;
    }
    // Down projection from the reference's own h.
    dot_rows(quantized(t.h, e.T, e.I), e.d2, e.T, e.d, e.I, c, mag);
    for (int64_t i = 0; i < e.T * e.d; ++i)
      ASSERT_TRUE(bf16_within(t.y[i], c[i], fp4_bound(r, e.I, mag[i]))) << recipe_name(r) << " y " << i;
  }
}

// Quantization off: bf16 GEMMs (sequential fp32 fma, gamma_K·sum|terms|) on the dequantized weights,
// no act_quant.
TEST(ExpertFfn, Bf16PathMatchesDoublePrecision) {
  const Expert e = make_expert(3, 256, 128, 4);
  const auto x = normal_bf16(size_t(e.T * e.d), 1.0f, 2);
  std::vector<uint16_t> g(e.T * e.I), u(e.T * e.I), h(e.T * e.I), y(e.T * e.d);
  ExpertTrace tr{g.data(), u.data(), h.data()};
  expert_ffn_bf16(x.data(), nullptr, e.T, e.d, e.I, e.bf16(), kSwigluLimit, Recipe::canonical, y.data(), &tr);
  std::vector<double> xd(x.size()), hd(h.size()), c, mag;
  for (size_t i = 0; i < x.size(); ++i) xd[i] = bf(x[i]);
  dot_rows(xd, e.d1, e.T, e.I, e.d, c, mag);
  for (int64_t i = 0; i < e.T * e.I; ++i) ASSERT_TRUE(bf16_within(g[i], c[i], dot_gamma(e.d) * mag[i]));
  for (int64_t i = 0; i < e.T * e.I; ++i) {
    const double hh = swiglu_exact(bf(g[i]), bf(u[i]), 1.0, kSwigluLimit);
    ASSERT_TRUE(bf16_within(h[i], hh, 2.01 * kU32 * std::abs(hh)));
    hd[i] = bf(h[i]);
  }
  dot_rows(hd, e.d2, e.T, e.d, e.I, c, mag);
  for (int64_t i = 0; i < e.T * e.d; ++i) ASSERT_TRUE(bf16_within(y[i], c[i], dot_gamma(e.I) * mag[i]));
}

// One-sided gate clamp: g = -30 stays -30 (silu(-30)·u ≈ -2.8e-12·u), a two-sided clamp would give
// silu(-10)·u ≈ -4.5e-4·u; g = 30 becomes 10; u = ±30 becomes ±10; limit 0 disables both.
TEST(ExpertFfn, TheClampIsOneSidedOnTheGateAndTwoSidedOnUp) {
  struct Case {
    float g, u, limit;
  };
  const Case cases[] = {{-30.f, 3.f, 10.f}, {-12.f, 2.f, 10.f}, {30.f, 2.f, 10.f}, {2.f, 30.f, 10.f},
                        {2.f, -30.f, 10.f}, {30.f, 30.f, 0.f},  {-30.f, -30.f, 0.f}, {10.f, 10.f, 10.f}};
  for (const Case& c : cases) {
    const uint16_t g = bf16_encode(c.g), u = bf16_encode(c.u);
    uint16_t h;
    swiglu(&g, &u, nullptr, 1, 1, c.limit, &h);
    const double want = swiglu_exact(c.g, c.u, 1.0, c.limit);
    EXPECT_TRUE(bf16_within(h, want, 2.01 * kU32 * std::abs(want))) << "g " << c.g << " u " << c.u << " limit " << c.limit;
  }
  const uint16_t g = bf16_encode(-30.f), u = bf16_encode(3.f);
  uint16_t h;
  swiglu(&g, &u, nullptr, 1, 1, kSwigluLimit, &h);
  EXPECT_LT(std::abs(bf(h)), 1e-10) << "the gate must not be clamped below";
  // NaN passes the clamps.
  const uint16_t gn = bf16_encode(std::nanf("")), un = bf16_encode(1.f);
  swiglu(&gn, &un, nullptr, 1, 1, kSwigluLimit, &h);
  EXPECT_TRUE(std::isnan(bf(h)));
}

TEST(ExpertFfn, IdenticalForAnyThreadCountAndBatchComposition) {
  const Expert e = make_expert(9, 256, 256, 8);
  const auto x = normal_bf16(size_t(e.T * e.d), 1.0f, 3);
  const std::vector<float> rw = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f};
  Trace a, b;
  with_threads(1, [&] { a = run_fp4(e, x, rw, Recipe::canonical); });
  with_threads(2, [&] { b = run_fp4(e, x, rw, Recipe::canonical); });
  EXPECT_TRUE(same_bits(a.y, b.y, "y"));
  Expert one = e;
  one.T = 1;
  const std::vector<uint16_t> x6(x.begin() + 6 * e.d, x.begin() + 7 * e.d);
  const Trace o = run_fp4(one, x6, {rw[6]}, Recipe::canonical);
  EXPECT_TRUE(same_bits(o.y, std::vector<uint16_t>(a.y.begin() + 6 * e.d, a.y.begin() + 7 * e.d), "token 6 alone"));
}
