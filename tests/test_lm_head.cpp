// lm_head against independent derivations: an identity-like hc_head (stream 0 selected exactly, the
// derivation of MhcHead's identity test) and ±c streams make the final norm return ±w exactly, so with
// small-integer weights every logit is an exact integer sum; random inputs against double precision at the
// fp32 dot-product bound; and invariance under thread count, batch composition and the vocabulary chunking.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "reference/lm_head.h"
#include "reference/rmsnorm.h"
#include "tests/support/moe_support.h"

using namespace v4;
using namespace v4::testsupport;

namespace {

struct Case {
  MhcShape s;
  int64_t V = 0;
  std::vector<uint16_t> R, head;
  std::vector<float> fn, base, scale, norm;
  std::vector<float> logits;
  std::vector<uint16_t> y, x;
  void run(Recipe r = Recipe::canonical) {
    logits.assign(size_t(s.T * V), -1.0f);
    y.assign(size_t(s.T * s.d), 0);
    x.assign(size_t(s.T * s.d), 0);
    const LmHeadWeights W{fn.data(), base.data(), scale.data(), norm.data(), head.data(), V};
    lm_head(R.data(), W, s, r, logits.data(), y.data(), x.data());
  }
};

Case random_case(int64_t T, int64_t d, int64_t V, uint32_t seed) {
  Case c;
  c.s.T = T;
  c.s.d = d;
  c.V = V;
  c.R = normal_bf16(size_t(T * c.s.width()), 1.0f, seed);
  c.fn = normal_f32(size_t(c.s.n * c.s.width()), float(1 / std::sqrt(double(c.s.width()))), seed + 1);
  c.base = normal_f32(size_t(c.s.n), 1.0f, seed + 2);
  c.scale = {0.4f};
  c.norm = normal_f32(size_t(d), 0.5f, seed + 3);
  for (float& w : c.norm) w = bf16_round(1.0f + w);  // bf16 checkpoint values upcast
  c.head = normal_bf16(size_t(V * d), 0.05f, seed + 4);
  return c;
}

}  // namespace

// scale = 0, base = (30, −30, −30, −30): pre = (1 + 1e-6, ~1e-6, ~1e-6, ~1e-6), so y = R_0 exactly
// (MhcHead.IdentityLikeParametersSelectStreamZero: the other streams and the +1e-6 move the sum by
// < 2^-17·|R_0|, far below bf16's half ulp 2^-9·|R_0|). With R_0[i] = ±c (c a power of two), the mean
// square is exactly c², rsqrt(c² + 1e-6)·c = 1 − 5e-7/c² (c ≥ 1/4: relative change ≤ 8e-6 < 2^-9), so
// x_i = bf16(w_i·(±1 − δ)) = ±w_i. With w and head small integers, every logit Σ_i ±w_i·head[v][i] is an
// integer below 2^24: exact in fp32 under every recipe.
TEST(LmHead, IdentityLikeHeadGivesExactIntegerLogits) {
  Case c;
  c.s.T = 5;
  c.s.d = 64;
  c.V = 37;
  const int n = c.s.n;
  std::mt19937 g(11);
  c.R = normal_bf16(size_t(c.s.T * c.s.width()), 0.5f, 12);
  std::vector<int> sign(size_t(c.s.T * c.s.d));
  for (int64_t t = 0; t < c.s.T; ++t) {
    const float cval = std::ldexp(1.0f, int(t) - 2);  // 1/4 .. 4
    for (int64_t i = 0; i < c.s.d; ++i) {
      sign[t * c.s.d + i] = (g() & 1) ? 1 : -1;
      c.R[(t * n + 0) * c.s.d + i] = bf16_encode(float(sign[t * c.s.d + i]) * cval);
    }
  }
  c.fn = normal_f32(size_t(n * c.s.width()), 0.1f, 13);
  c.base = {30.0f, -30.0f, -30.0f, -30.0f};
  c.scale = {0.0f};
  c.norm.resize(size_t(c.s.d));
  for (float& w : c.norm) w = float(1 + int(g() % 4));
  c.head = int_bf16(size_t(c.V * c.s.d), -8, 8, 14);
  for (Recipe r : kAllRecipes) {
    c.run(r);
    for (int64_t t = 0; t < c.s.T; ++t) {
      for (int64_t i = 0; i < c.s.d; ++i) {
        ASSERT_EQ(c.y[t * c.s.d + i], c.R[(t * n) * c.s.d + i]) << recipe_name(r) << " t " << t << " i " << i;
        ASSERT_EQ(bf(c.x[t * c.s.d + i]), sign[t * c.s.d + i] * double(c.norm[i])) << recipe_name(r);
      }
      for (int64_t v = 0; v < c.V; ++v) {
        int64_t e = 0;
        for (int64_t i = 0; i < c.s.d; ++i)
          e += int64_t(sign[t * c.s.d + i]) * int64_t(c.norm[i]) * int64_t(bf(c.head[v * c.s.d + i]));
        ASSERT_EQ(c.logits[t * c.V + v], float(e)) << recipe_name(r) << " t " << t << " v " << v;
      }
    }
  }
}

// Random inputs: x within the bf16 bound of a double RMSNorm of the returned y, and every logit within the
// d-term fp32 dot-product bound gamma_d·Σ|x_i·h_i| of the double dot product of the returned x with the head
// (both operands are bf16 values, so each product is exact in double; the double sum adds at most
// d·2^-53·Σ|x_i·h_i|, and the extra u·|e| covers the fp32 rounding of the exact-recipe result).
TEST(LmHead, RandomInputsMatchDoublePrecision) {
  Case c = random_case(4, 192, 50, 21);
  for (Recipe r : kAllRecipes) {
    c.run(r);
    const int64_t d = c.s.d;
    for (int64_t t = 0; t < c.s.T; ++t) {
      double ss = 0;
      for (int64_t i = 0; i < d; ++i) ss += bf(c.y[t * d + i]) * bf(c.y[t * d + i]);
      const double rs = 1.0 / std::sqrt(ss / double(d) + double(kRmsNormEps));
      // ms: d-term dot (gamma_d) + the division and the eps add (2u); rsqrt correctly rounded (u), halved
      // by the square root; then x·rs and w·(·): 2u more.
      const double rel = (dot_gamma(d) + 2 * kU32) / 2 + 3 * kU32;
      for (int64_t i = 0; i < d; ++i) {
        const double e = double(c.norm[i]) * bf(c.y[t * d + i]) * rs;
        ASSERT_TRUE(bf16_within(c.x[t * d + i], e, rel * std::abs(e))) << recipe_name(r) << " t " << t << " i " << i;
      }
      for (int64_t v = 0; v < c.V; ++v) {
        double e = 0, mag = 0;
        for (int64_t i = 0; i < d; ++i) {
          const double p = bf(c.x[t * d + i]) * bf(c.head[v * d + i]);
          e += p;
          mag += std::abs(p);
        }
        ASSERT_LE(std::abs(double(c.logits[t * c.V + v]) - e), dot_gamma(d) * mag + kU32 * std::abs(e))
            << recipe_name(r) << " t " << t << " v " << v;
      }
    }
  }
}

// Rows are independent: a token alone gives the bits it has in a batch, 1 and 2 threads agree, and a
// vocabulary larger than one chunk (kLmHeadChunk) gives each row's logits as a head of that row alone does.
TEST(LmHead, BatchThreadAndChunkInvariant) {
  Case c = random_case(3, 8, kLmHeadChunk + 5, 31);
  std::vector<float> one, two;
  with_threads(1, [&] { c.run(); one = c.logits; });
  with_threads(2, [&] { c.run(); two = c.logits; });
  EXPECT_TRUE(same_bits(one, two, "1 vs 2 threads"));

  Case alone = c;
  alone.s.T = 1;
  alone.R.assign(c.R.begin() + c.s.width(), c.R.begin() + 2 * c.s.width());  // token 1
  alone.run();
  EXPECT_TRUE(same_bits(alone.logits, std::vector<float>(one.begin() + c.V, one.begin() + 2 * c.V), "token alone"));

  Case tail = c;  // the last 5 vocabulary rows, which fall in the second chunk
  tail.V = 5;
  tail.head.assign(c.head.begin() + kLmHeadChunk * c.s.d, c.head.end());
  tail.run();
  for (int64_t t = 0; t < c.s.T; ++t)
    for (int64_t v = 0; v < 5; ++v)
      ASSERT_EQ(std::memcmp(&tail.logits[t * 5 + v], &one[t * c.V + kLmHeadChunk + v], 4), 0) << t << " " << v;
}
