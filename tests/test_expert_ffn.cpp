// expert_ffn against double precision on the dequantized weights, stage by stage with the recipe's
// rounding bound (the intermediates come from ExpertTrace, each stage fed the reference's own previous
// stage so that one bf16 tie cannot cascade): g and u from the FP8-quantized x and the FP4 weights, the
// SwiGLU middle with the routing weight, y from the FP8-quantized h. The clamp is one-sided on the gate
// (hand-picked values whose answer differs under a two-sided clamp). Quantization off: bf16 weights and
// bf16 GEMMs within their bound. Thread-count and batch invariance.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "reference/expert_ffn.h"
#include "tests/support/moe_support.h"

using namespace v4;
using namespace v4::testsupport;

namespace {

using Expert = ExpertStore;

Expert make_expert(int64_t T, int64_t d, int64_t I, int32_t e) { return make_expert_store({2024, 3, e}, false, T, d, I); }

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

// Bound of an FP4×FP8 canonical GEMM output before its bf16 rounding: each 32-block partial times the
// activation scale is rounded once to fp32 (u·|term sum|) and each promotion fma rounds once (u·|acc|,
// |acc| <= sum|terms|): |acc - exact| <= u·(1 + K/32)·sum|terms|. Exact recipe: rounded once, directly to bf16.
double fp4_bound(Recipe r, int64_t K, double mag) { return r == Recipe::exact ? 0.0 : 1.001 * kU32 * (1.0 + double(K) / 32) * mag; }

}  // namespace

TEST(ExpertFfn, Fp4StagesMatchDoublePrecisionOnTheDequantizedWeights) {
  const Expert e = make_expert(5, 512, 256, 17);
  const auto x = normal_bf16(size_t(e.T * e.d), 1.0f, 1);
  const std::vector<float> rw = {0.37f, 1.0f, 0.05f, 0.61f, 0.25f};
  for (Recipe r : {Recipe::canonical, Recipe::exact}) {
    const Trace t = run_fp4(e, x, rw, r);
    std::vector<double> c, mag;
    const std::vector<double> xq = act_quant_dequantized(x, e.T, e.d);
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
    dot_rows(act_quant_dequantized(t.h, e.T, e.I), e.d2, e.T, e.d, e.I, c, mag);
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
