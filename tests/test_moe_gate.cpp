// moe_gate against independent derivations: scores against double-precision sqrt(log1p(exp(a))) within
// the recipe's bound; the selection against a stable sort of the reference's (bias-shifted) scores; the
// weights against the double-precision renormalization of the UNBIASED scores (a bias leaking into the
// weights moves them by ~bias/sum, far outside the bound, and a selection-preserving bias change must
// leave them bit-identical); hand-made ties; thread-count and batch invariance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "reference/moe_gate.h"
#include "tests/support/moe_support.h"

using namespace v4;
using namespace v4::testsupport;

namespace {

struct Gate {
  int64_t T = 0, d = 0, E = 0;
  int k = kMoeTopK;
  float route_scale = kRouteScaleFlash;
  std::vector<uint16_t> x, w;
  std::vector<float> bias;
  std::vector<float> weights, scores;
  std::vector<int32_t> idx;
  void run(Recipe r = Recipe::canonical) {
    weights.assign(T * k, 0.0f);
    idx.assign(T * k, -1);
    scores.assign(T * E, 0.0f);
    moe_gate(x.data(), w.data(), bias.empty() ? nullptr : bias.data(), T, d, E, k, route_scale, r, weights.data(),
             idx.data(), scores.data());
  }
};

Gate make(int64_t T, int64_t d, int64_t E, uint32_t seed) {
  Gate g;
  g.T = T;
  g.d = d;
  g.E = E;
  g.x = normal_bf16(size_t(T * d), 1.0f, seed);
  g.w = normal_bf16(size_t(E * d), float(1 / std::sqrt(double(d))), seed + 1);
  g.bias = normal_f32(size_t(E), 0.05f, seed + 2);
  return g;
}

// Expected selection: a stable sort by descending fl(score + bias) keeps ascending index among ties.
std::vector<int32_t> expected_sel(const float* s, const float* bias, int64_t E, int k) {
  std::vector<float> b(E);
  for (int64_t e = 0; e < E; ++e) b[e] = bias ? s[e] + bias[e] : s[e];
  std::vector<int32_t> id(E);
  std::iota(id.begin(), id.end(), 0);
  std::stable_sort(id.begin(), id.end(), [&](int32_t i, int32_t j) { return b[i] > b[j]; });
  id.resize(k);
  return id;
}

// w_j = route_scale · s_j / sum s: three roundings in fp32 (sum in k-1 adds: gamma_{k-1}; division u;
// multiply u): |w - exact| <= (gamma_{k-1} + 2u) · 1.001 · |exact|.
void check_weights(const Gate& g, int64_t t) {
  double sum = 0;
  for (int j = 0; j < g.k; ++j) sum += g.scores[t * g.E + g.idx[t * g.k + j]];
  for (int j = 0; j < g.k; ++j) {
    const double exact = double(g.route_scale) * g.scores[t * g.E + g.idx[t * g.k + j]] / sum;
    EXPECT_LE(std::abs(g.weights[t * g.k + j] - exact), (dot_gamma(g.k - 1) + 2 * kU32) * 1.001 * std::abs(exact))
        << "token " << t << " slot " << j;
  }
}

}  // namespace

// a = x·W in fp32 (|err| <= gamma_d sum|x w|); sigma = sqrt(softplus(a)): softplus correctly rounded
// (u relative), its sensitivity to a is sigmoid(a); sqrt halves a relative error and rounds once (u).
TEST(MoeGate, ScoresMatchDoublePrecisionWithinTheRecipeBound) {
  Gate g = make(3, 4096, 64, 1);
  for (Recipe r : {Recipe::canonical, Recipe::exact}) {
    g.run(r);
    const double gam = r == Recipe::exact ? kU32 : dot_gamma(g.d);
    for (int64_t t = 0; t < g.T; ++t)
      for (int64_t e = 0; e < g.E; ++e) {
        double a = 0, mag = 0;
        for (int64_t i = 0; i < g.d; ++i) {
          const double p = bf(g.x[t * g.d + i]) * bf(g.w[e * g.d + i]);
          a += p;
          mag += std::abs(p);
        }
        const double sp = std::log1p(std::exp(a)), sig = 1 / (1 + std::exp(-a));
        const double err_sp = gam * mag * sig * 1.01 + kU32 * sp;  // softplus argument error, own rounding
        const double want = std::sqrt(sp);
        const double bound = 1.001 * (want * (err_sp / sp / 2 + kU32));
        ASSERT_LE(std::abs(g.scores[t * g.E + e] - want), bound) << recipe_name(r) << " token " << t << " expert " << e;
      }
  }
}

TEST(MoeGate, SelectionUsesTheBiasAndTheCanonicalTieOrder) {
  Gate g = make(20, 256, 256, 2);
  g.run();
  int changed_by_bias = 0;
  for (int64_t t = 0; t < g.T; ++t) {
    const std::vector<int32_t> want = expected_sel(&g.scores[t * g.E], g.bias.data(), g.E, g.k);
    ASSERT_EQ(std::vector<int32_t>(g.idx.begin() + t * g.k, g.idx.begin() + (t + 1) * g.k), want) << "token " << t;
    changed_by_bias += want != expected_sel(&g.scores[t * g.E], nullptr, g.E, g.k);
    check_weights(g, t);
  }
  EXPECT_GT(changed_by_bias, 5) << "the bias should change some selections in this case";
}

// The bias steers the selection only. (1) A large bias on expert 7 forces it into every token's top-k;
// its weight is still its own score over the sum of the selected scores (checked by check_weights;
// a bias of 10 in the weights would make w_7 ~ route_scale·10/(10 + ...), off by far more than the bound).
// (2) Adding the same constant to every bias changes no selection and must leave the weights bitwise equal.
TEST(MoeGate, TheBiasNeverReachesTheWeights) {
  Gate g = make(16, 128, 32, 3);
  g.bias[7] = 10.0f;
  g.run();
  for (int64_t t = 0; t < g.T; ++t) {
    EXPECT_EQ(g.idx[t * g.k], 7) << "token " << t;
    check_weights(g, t);
  }
  const std::vector<float> w0 = g.weights;
  const std::vector<int32_t> i0 = g.idx;
  for (float& b : g.bias) b += 0.25f;  // a uniform shift keeps these selections (asserted next)
  g.run();
  ASSERT_EQ(g.idx, i0);
  EXPECT_TRUE(same_bits(g.weights, w0, "weights after a uniform bias shift"));
}

TEST(MoeGate, EqualScoresSelectTheSmallestIdsInOrder) {
  Gate g = make(2, 64, 16, 4);
  std::fill(g.w.begin(), g.w.end(), bf16_encode(0.0f));  // a = 0: every score sqrt(ln 2)
  g.bias.clear();
  g.route_scale = kRouteScalePro;
  g.run();
  for (int64_t t = 0; t < g.T; ++t) {
    for (int j = 0; j < g.k; ++j) EXPECT_EQ(g.idx[t * g.k + j], j);
    check_weights(g, t);  // each 2.5/6 within the bound
  }
}

TEST(MoeGate, IdenticalForAnyThreadCountAndBatchComposition) {
  Gate a = make(37, 256, 64, 5), b = a;
  with_threads(1, [&] { a.run(); });
  with_threads(2, [&] { b.run(); });
  EXPECT_TRUE(same_bits(a.weights, b.weights, "weights"));
  EXPECT_EQ(a.idx, b.idx);
  Gate one = a;
  one.T = 1;
  one.x.assign(a.x.begin() + 30 * a.d, a.x.begin() + 31 * a.d);
  one.run();
  for (int j = 0; j < a.k; ++j) {
    EXPECT_EQ(one.idx[j], a.idx[30 * a.k + j]);
    EXPECT_EQ(one.weights[j], a.weights[30 * a.k + j]);
  }
}
