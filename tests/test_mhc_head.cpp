// mhc_head against independent derivations: pre from the release formula on the returned mix, y within
// the bf16 bound of a double-precision collapse, pre = (1, 0, 0, 0) selecting stream 0 exactly (the
// derivation of MhcPre.IdentityLikeParametersSelectOneStream), and batch invariance.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "reference/mhc_head.h"
#include "reference/pmath.h"
#include "tests/support/moe_support.h"

using namespace v4;
using namespace v4::testsupport;

namespace {

struct Head {
  MhcShape s;
  std::vector<uint16_t> R;
  std::vector<float> fn, base, scale;
  std::vector<uint16_t> y;
  std::vector<float> pre, mix;
  void run(Recipe r = Recipe::canonical) {
    const int n = s.n;
    y.assign(s.T * s.d, 0);
    pre.assign(s.T * n, 0.0f);
    mix.assign(s.T * n, 0.0f);
    mhc_head(R.data(), fn.data(), base.data(), scale.data(), s, r, y.data(), pre.data(), mix.data());
  }
};

Head make(int64_t T, int64_t d, uint32_t seed) {
  Head h;
  h.s.T = T;
  h.s.d = d;
  h.R = normal_bf16(size_t(T * h.s.width()), 1.0f, seed);
  h.fn = normal_f32(size_t(h.s.n * h.s.width()), float(1 / std::sqrt(double(h.s.width()))), seed + 1);
  h.base = normal_f32(size_t(h.s.n), 1.0f, seed + 2);
  h.scale = {0.4f};
  return h;
}

}  // namespace

TEST(MhcHead, PreAndCollapseFollowTheRelease) {
  Head h = make(6, 72, 1);
  h.run();
  const int n = h.s.n;
  for (int64_t t = 0; t < h.s.T; ++t) {
    for (int k = 0; k < n; ++k)
      EXPECT_EQ(h.pre[t * n + k], pmath::sigmoid(h.mix[t * n + k] * h.scale[0] + h.base[k]) + kHcEps);
    for (int64_t i = 0; i < h.s.d; ++i) {
      double e = 0, mag = 0;
      for (int k = 0; k < n; ++k) {
        const double p = double(h.pre[t * n + k]) * bf(h.R[(t * n + k) * h.s.d + i]);
        e += p;
        mag += std::abs(p);
      }
      ASSERT_TRUE(bf16_within(h.y[t * h.s.d + i], e, dot_gamma(n) * mag)) << "token " << t << " i " << i;
    }
  }
}

// The head's mix uses the same rows-generic code as mhc_pre; here its rows are the head's n rows:
// compare with double precision at the recipe bound of MhcPre.MixMatchesDoublePrecisionWithinTheRecipeBound.
TEST(MhcHead, MixMatchesDoublePrecision) {
  Head h = make(2, 256, 5);
  h.run();
  const int64_t W = h.s.width();
  for (int64_t t = 0; t < h.s.T; ++t) {
    double ss = 0;
    for (int64_t i = 0; i < W; ++i) ss += bf(h.R[t * W + i]) * bf(h.R[t * W + i]);
    const double rho = 1.0 / std::sqrt(ss / double(W) + double(kNormEps)), g = dot_gamma(W);
    const double e_rho = (g + 2 * kU32) / 2 + kU32;
    for (int k = 0; k < h.s.n; ++k) {
      double dot = 0, mag = 0;
      for (int64_t i = 0; i < W; ++i) {
        const double p = bf(h.R[t * W + i]) * double(h.fn[k * W + i]);
        dot += p;
        mag += std::abs(p);
      }
      const double bound = 1.001 * (rho * g * mag * (1 + e_rho + kU32) + std::abs(dot * rho) * (e_rho + kU32) * (1 + kU32));
      EXPECT_LE(std::abs(double(h.mix[t * h.s.n + k]) - dot * rho), bound);
    }
  }
}

TEST(MhcHead, IdentityLikeParametersSelectStreamZero) {
  Head h = make(5, 40, 9);
  h.scale = {0.0f};
  h.base = {30.0f, -30.0f, -30.0f, -30.0f};
  std::mt19937 g(2);
  for (auto& v : h.R) v = bf16_encode(float((g() & 1) ? 1 : -1) * float(1 + g() % 32));
  h.run();
  for (int64_t t = 0; t < h.s.T; ++t)
    for (int64_t i = 0; i < h.s.d; ++i) ASSERT_EQ(h.y[t * h.s.d + i], h.R[t * h.s.width() + i]);
}

TEST(MhcHead, IdenticalForAnyThreadCountAndBatchComposition) {
  Head a = make(65, 24, 3), b = a;
  with_threads(1, [&] { a.run(); });
  with_threads(2, [&] { b.run(); });
  EXPECT_TRUE(same_bits(a.y, b.y, "y"));
  Head one = a;
  one.s.T = 1;
  one.R.assign(a.R.begin() + 64 * a.s.width(), a.R.begin() + 65 * a.s.width());
  one.run();
  for (int64_t i = 0; i < a.s.d; ++i) ASSERT_EQ(one.y[i], a.y[64 * a.s.d + i]);
}
