// mhc_pre against independent derivations: the mix (steps 1-3) against a double-precision evaluation
// within a bound derived from the recipe's rounding points; the split (step 4) against a literal
// transcription of the release's formulas on the mix it returned; the collapse (step 5) against double
// precision within the bf16 rounding bound; identity-like parameters (derived below) that make the layer
// input exactly one stream; thread-count and batch invariance.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "reference/mhc_pre.h"
#include "reference/pmath.h"
#include "tests/support/moe_support.h"

using namespace v4;
using namespace v4::testsupport;

namespace {

struct Case {
  MhcShape s;
  std::vector<uint16_t> R;  // [T, n, d]
  std::vector<float> fn, base, scale;
};

Case make_case(int64_t T, int64_t d, uint32_t seed) {
  Case c;
  c.s.T = T;
  c.s.d = d;
  const int64_t m = c.s.mix_width(), W = c.s.width();
  c.R = normal_bf16(size_t(T * W), 1.0f, seed);
  c.fn = normal_f32(size_t(m * W), float(1.0 / std::sqrt(double(W))), seed + 1);
  c.base = normal_f32(size_t(m), 1.0f, seed + 2);
  c.scale = {0.7f, 0.3f, 1.3f};
  return c;
}

struct Out {
  std::vector<uint16_t> x;
  std::vector<float> post, comb, pre, mix;
};

Out run(const Case& c, Recipe r) {
  const int64_t T = c.s.T, n = c.s.n;
  Out o{std::vector<uint16_t>(T * c.s.d), std::vector<float>(T * n), std::vector<float>(T * n * n),
        std::vector<float>(T * n), std::vector<float>(T * c.s.mix_width())};
  mhc_pre(c.R.data(), c.fn.data(), c.base.data(), c.scale.data(), c.s, r, o.x.data(), o.post.data(), o.comb.data(),
          o.pre.data(), o.mix.data());
  return o;
}

}  // namespace

// Bound on |mix - mix_exact| (u = 2^-24, W = n·d, g = gamma_W for canonical, u for exact):
//   sum of squares: relative error <= g (positive terms); mean: exact (division by 2^14 or by W, one
//   rounding at most: u); + eps: u; rsqrt correctly rounded: u, and a relative error e of its argument
//   moves it by e/2. So rho has relative error e_rho <= (g + 2u)/2 + u.
//   dot: |err| <= g · sum_i |X_i fn_i|; the product dot·rho rounds once more (u).
//   |mix - mix_exact| <= rho·g·sum|X fn|·(1 + e_rho + u) + |dot·rho|·(e_rho + u)·(1 + u), times 1.001.
TEST(MhcPre, MixMatchesDoublePrecisionWithinTheRecipeBound) {
  for (Recipe r : {Recipe::canonical, Recipe::exact})
    for (auto [T, d] : {std::pair<int64_t, int64_t>{5, 96}, {1, 4096}}) {
      const Case c = make_case(T, d, 100 + uint32_t(d));
      const Out o = run(c, r);
      const int64_t W = c.s.width(), m = c.s.mix_width();
      const double g = r == Recipe::exact ? kU32 : dot_gamma(W);
      for (int64_t t = 0; t < T; ++t) {
        double ss = 0;
        for (int64_t i = 0; i < W; ++i) ss += bf(c.R[t * W + i]) * bf(c.R[t * W + i]);
        const double rho = 1.0 / std::sqrt(ss / double(W) + double(kNormEps));
        const double e_rho = (g + 2 * kU32) / 2 + kU32;
        for (int64_t k = 0; k < m; ++k) {
          double dot = 0, mag = 0;
          for (int64_t i = 0; i < W; ++i) {
            const double p = bf(c.R[t * W + i]) * double(c.fn[k * W + i]);
            dot += p;
            mag += std::abs(p);
          }
          const double bound =
              1.001 * (rho * g * mag * (1 + e_rho + kU32) + std::abs(dot * rho) * (e_rho + kU32) * (1 + kU32));
          ASSERT_LE(std::abs(double(o.mix[t * m + k]) - dot * rho), bound)
              << recipe_name(r) << " d " << d << " token " << t << " mix row " << k;
        }
      }
    }
}

TEST(MhcPre, SplitFollowsTheReleaseFormulasOnTheMix) {
  const Case c = make_case(9, 64, 7);
  const Out o = run(c, Recipe::canonical);
  const int n = c.s.n;
  const int64_t m = c.s.mix_width();
  for (int64_t t = 0; t < c.s.T; ++t) {
    const float* mx = &o.mix[t * m];
    for (int k = 0; k < n; ++k) {
      const float pre = pmath::sigmoid(mx[k] * c.scale[0] + c.base[k]) + kHcEps;
      const float post = 2.0f * pmath::sigmoid(mx[n + k] * c.scale[1] + c.base[n + k]);
      EXPECT_EQ(o.pre[t * n + k], pre) << "token " << t << " k " << k;
      EXPECT_EQ(o.post[t * n + k], post) << "token " << t << " k " << k;
    }
    std::vector<float> L(n * n), comb(n * n);
    for (int i = 0; i < n * n; ++i) L[i] = mx[2 * n + i] * c.scale[2] + c.base[2 * n + i];  // comb[j][k] = row 8+4j+k
    sinkhorn(L.data(), 1, n, kHcSinkhornIters, kHcEps, comb.data());
    for (int i = 0; i < n * n; ++i) EXPECT_EQ(o.comb[t * n * n + i], comb[i]) << "token " << t << " entry " << i;
  }
}

// x = bf16(sum_k pre_k X_k): a 4-term fma chain (error <= gamma_4 · sum|pre_k X_k|), then bf16.
TEST(MhcPre, CollapseMatchesDoublePrecisionWithinTheBf16Bound) {
  const Case c = make_case(6, 200, 3);
  const Out o = run(c, Recipe::canonical);
  const int n = c.s.n;
  const int64_t d = c.s.d;
  for (int64_t t = 0; t < c.s.T; ++t)
    for (int64_t i = 0; i < d; ++i) {
      double e = 0, mag = 0;
      for (int k = 0; k < n; ++k) {
        const double p = double(o.pre[t * n + k]) * bf(c.R[(t * n + k) * d + i]);
        e += p;
        mag += std::abs(p);
      }
      ASSERT_TRUE(bf16_within(o.x[t * d + i], e, dot_gamma(n) * mag)) << "token " << t << " i " << i;
    }
}

// Identity-like parameters. scale = 0 removes the mix (0 · finite = 0), so every quantity is set by base:
// * pre = (1, 0, 0, 0): base_pre = (30, -30, -30, -30). sigmoid(30) = 1 - 9.4e-14 rounds to 1.0f and
//   sigmoid(-30) = 9.4e-14, so pre = (1 + 1e-6, 1e-6 + 9.4e-14, ...). With every |R| in [1, 32],
//   sum_k pre_k R_k = R_0 (1 + d) with |d| <= 1e-6 + 3 · 32 · 1.0001e-6 < 1e-4, below half an ulp of
//   bf16 relative to R_0 (>= 2^-9 = 1.9e-3): x = R_0 exactly.
// * identical streams R_k = e and pre_k = 1/4: base_pre = ln(1/3) gives sigmoid = 1/4 within 1e-7,
//   so sum_k pre_k = 1 + 4e-6 + O(4e-7) and x = e (1 + d) with |d| < 5e-6: x = e exactly.
// * post = 2 · sigmoid(0) = 2 · 0.5 = 1 exactly (base_post = 0).
TEST(MhcPre, IdentityLikeParametersSelectOneStream) {
  Case c = make_case(11, 48, 5);
  const int n = c.s.n;
  const int64_t d = c.s.d;
  c.scale = {0.0f, 0.0f, 0.0f};
  std::fill(c.base.begin(), c.base.end(), 0.0f);
  for (int k = 0; k < n; ++k) c.base[k] = k == 0 ? 30.0f : -30.0f;
  for (int j = 0; j < n; ++j)
    for (int k = 0; k < n; ++k) c.base[2 * n + j * n + k] = j == k ? 0.0f : -1e4f;
  std::mt19937 g(9);
  for (auto& v : c.R) v = bf16_encode(float((g() & 1) ? 1 : -1) * float(1 + g() % 32));
  Out o = run(c, Recipe::canonical);
  for (int64_t t = 0; t < c.s.T; ++t) {
    for (int64_t i = 0; i < d; ++i) ASSERT_EQ(o.x[t * d + i], c.R[t * n * d + i]) << "token " << t << " i " << i;
    for (int k = 0; k < n; ++k) EXPECT_EQ(o.post[t * n + k], 1.0f);
  }
  // Identical streams, pre = 1/4 each: the layer input is the (common) stream.
  for (int k = 0; k < n; ++k) c.base[k] = float(std::log(1.0 / 3.0));
  const auto e = normal_bf16(size_t(c.s.T * d), 3.0f, 17);
  for (int64_t t = 0; t < c.s.T; ++t)
    for (int k = 0; k < n; ++k)
      for (int64_t i = 0; i < d; ++i) c.R[(t * n + k) * d + i] = e[t * d + i];
  o = run(c, Recipe::canonical);
  for (int64_t t = 0; t < c.s.T; ++t)
    for (int64_t i = 0; i < d; ++i) ASSERT_EQ(o.x[t * d + i], e[t * d + i]) << "token " << t << " i " << i;
}

TEST(MhcPre, IdenticalForAnyThreadCountAndBatchComposition) {
  const Case c = make_case(70, 40, 21);  // 70 tokens: crosses the 64-token chunk of the mix
  Out a, b;
  with_threads(1, [&] { a = run(c, Recipe::canonical); });
  with_threads(2, [&] { b = run(c, Recipe::canonical); });
  EXPECT_TRUE(same_bits(a.x, b.x, "x"));
  EXPECT_TRUE(same_bits(a.comb, b.comb, "comb"));
  EXPECT_TRUE(same_bits(a.mix, b.mix, "mix"));
  // Token 66 alone (and as the first of a 3-token batch) gives the bits it gets at position 66 of 70.
  const int n = c.s.n;
  const int64_t d = c.s.d, W = c.s.width();
  for (int64_t T : {1, 3}) {
    Case one = c;
    one.s.T = T;
    one.R.assign(c.R.begin() + 66 * W, c.R.begin() + (66 + T) * W);
    const Out o = run(one, Recipe::canonical);
    for (int64_t i = 0; i < d; ++i) ASSERT_EQ(o.x[i], a.x[66 * d + i]) << "batch " << T << " i " << i;
    for (int i = 0; i < n * n; ++i) ASSERT_EQ(o.comb[i], a.comb[66 * n * n + i]);
  }
}
