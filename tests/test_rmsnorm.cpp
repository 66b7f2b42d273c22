// rmsnorm against an independent double-precision evaluation of v4-model.md §2.9, with a rounding
// bound derived from the fp32 steps; plus edge cases (zero rows, eps-dominated rows), thread-count
// determinism and batch invariance.
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <random>
#include <vector>

#include "reference/formats.h"
#include "reference/rmsnorm.h"

using namespace v4;

namespace {

// bf16 codes of random activations over ~2^-24 .. 2^8 with some exact zeros.
std::vector<uint16_t> random_rows(int64_t rows, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::uniform_int_distribution<int> e(-24, 8);
  std::vector<uint16_t> x(static_cast<size_t>(rows * n));
  for (int64_t t = 0; t < rows; ++t) {
    const int row_exp = e(rng);  // one magnitude per row, spread within the row
    for (int64_t i = 0; i < n; ++i)
      x[t * n + i] = bf16_encode(rng() % 29 == 0 ? 0.0f : std::ldexp(g(rng), row_exp + int(rng() % 5) - 2));
  }
  return x;
}

// Relative error bound of the fp32 value before the bf16 cast, for unit roundoff u = 2^-24: the sum of
// n non-negative squares (exact in fp32: bf16 significands have 8 bits) carries at most n roundings,
// relative (1+u)^n - 1 <= 1.01·n·u; the division by n one more, +eps one more, rsqrt halves the
// argument's relative error and adds one rounding, x·r and w·(x·r) one each. First order:
// (n + 2)/2·u + 3u; the constant 8 covers the second-order terms with a wide margin.
double rmsnorm_rel_bound(int64_t n) { return (double(n) / 2.0 + 8.0) * 0x1p-24; }

// The bf16 result must lie between the bf16 roundings of the double reference's interval (bf16
// rounding is monotone), so any difference larger than the derived fp32 error fails.
void expect_within(uint16_t got, double ref, double rel, const char* what, int64_t t, int64_t i) {
  const double lo = ref - std::fabs(ref) * rel, hi = ref + std::fabs(ref) * rel;
  const float g = bf16_decode(got);
  const float blo = bf16_round(float(lo)), bhi = bf16_round(float(hi));
  EXPECT_TRUE(g >= blo && g <= bhi) << what << " row " << t << " col " << i << ": got " << g << " (0x" << std::hex
                                    << got << std::dec << "), double reference " << ref << ", allowed [" << blo
                                    << ", " << bhi << "]";
}

}  // namespace

TEST(RmsNorm, MatchesDoubleReferenceWithinDerivedBound) {
  for (int64_t n : {512, 1024, 4096, 96}) {
    const int64_t rows = 23;
    const auto x = random_rows(rows, n, uint32_t(n));
    std::vector<float> w(static_cast<size_t>(n));
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-2.0f, 2.0f);
    for (auto& v : w) v = bf16_round(u(rng));  // checkpoint weights are bf16 values
    for (Recipe r : {Recipe::canonical, Recipe::exact}) {
      std::vector<uint16_t> y(x.size());
      rmsnorm(x.data(), w.data(), rows, n, kRmsNormEps, r, y.data());
      for (int64_t t = 0; t < rows; ++t) {
        double ss = 0;
        for (int64_t i = 0; i < n; ++i) ss += double(bf16_decode(x[t * n + i])) * bf16_decode(x[t * n + i]);
        const double rs = 1.0 / std::sqrt(ss / double(n) + double(kRmsNormEps));
        for (int64_t i = 0; i < n; ++i)
          expect_within(y[t * n + i], double(w[i]) * bf16_decode(x[t * n + i]) * rs, rmsnorm_rel_bound(n),
                        recipe_name(r), t, i);
      }
    }
  }
}

TEST(RmsNorm, HandDerivedRows) {
  const int64_t n = 4;
  const std::vector<float> w = {1.0f, 1.0f, 1.0f, 3.0f};
  // x = (2, -2, 2, 2): ms = 4, fp32(4 + 1e-6) = 4 (1e-6 < half an ulp of 4), r = 0.5 exactly,
  // y = w·x·0.5 = (1, -1, 1, 3).
  std::vector<uint16_t> x = {bf16_encode(2.0f), bf16_encode(-2.0f), bf16_encode(2.0f), bf16_encode(2.0f)};
  std::vector<uint16_t> y(4);
  rmsnorm(x.data(), w.data(), 1, n, kRmsNormEps, Recipe::canonical, y.data());
  EXPECT_EQ(bf16_decode(y[0]), 1.0f);
  EXPECT_EQ(bf16_decode(y[1]), -1.0f);
  EXPECT_EQ(bf16_decode(y[3]), 3.0f);
  // An all-zero row: ms = 0, r = rsqrt(1e-6) finite, y = 0 (eps keeps it finite; +0 stays +0).
  std::fill(x.begin(), x.end(), bf16_encode(0.0f));
  rmsnorm(x.data(), w.data(), 1, n, kRmsNormEps, Recipe::canonical, y.data());
  for (uint16_t c : y) EXPECT_EQ(c, 0u);
  // eps dominates: x = 2^-20 everywhere, ms = 2^-40 ≈ 9.1e-13 << 1e-6, so y ≈ 2^-20 / sqrt(1e-6 + 2^-40)
  // = 9.5367e-4 (double), rounded to bf16: 9.5367e-4 lies strictly inside a bf16 interval.
  std::fill(x.begin(), x.end(), bf16_encode(0x1p-20f));
  rmsnorm(x.data(), w.data(), 1, n, kRmsNormEps, Recipe::canonical, y.data());
  const double ref = 0x1p-20 / std::sqrt(1e-6 + 0x1p-40);
  EXPECT_EQ(y[0], bf16_encode(float(ref)));
  // Without eps the same row would normalise to 1: the test fails if eps is dropped.
  EXPECT_NE(bf16_decode(y[0]), 1.0f);
}

TEST(RmsNorm, EpsIsAddedToTheMeanNotToTheSum) {
  // n = 1024, every x = 2^-14: Σx² = 2^-18, mean = 2^-28 ≈ 3.7e-9. eps added to the mean gives
  // r = 1/sqrt(1e-6 + 3.7e-9); added to the sum it would give 1/sqrt(1e-6/1024 + ...) -- a factor of ~30.
  const int64_t n = 1024;
  std::vector<uint16_t> x(n, bf16_encode(0x1p-14f)), y(n);
  std::vector<float> w(n, 1.0f);
  rmsnorm(x.data(), w.data(), 1, n, kRmsNormEps, Recipe::canonical, y.data());
  const double ref = 0x1p-14 / std::sqrt(0x1p-28 + 1e-6);
  expect_within(y[0], ref, rmsnorm_rel_bound(n), "eps", 0, 0);
}

TEST(RmsNorm, DeterministicAcrossThreadsAndBatchInvariant) {
  const int64_t rows = 37, n = 512;
  const auto x = random_rows(rows, n, 99);
  std::vector<float> w(n);
  for (int64_t i = 0; i < n; ++i) w[i] = 0.5f + float(i % 7) * 0.25f;
  std::vector<uint16_t> ref(x.size());
  omp_set_num_threads(1);
  rmsnorm(x.data(), w.data(), rows, n, kRmsNormEps, Recipe::canonical, ref.data());
  for (int threads : {2, 5}) {
    omp_set_num_threads(threads);
    std::vector<uint16_t> y(x.size());
    rmsnorm(x.data(), w.data(), rows, n, kRmsNormEps, Recipe::canonical, y.data());
    EXPECT_EQ(y, ref) << threads << " threads";
  }
  // Any sub-batch (here rows 11..16 alone) gives the same rows.
  std::vector<uint16_t> sub(6 * n);
  rmsnorm(x.data() + 11 * n, w.data(), 6, n, kRmsNormEps, Recipe::canonical, sub.data());
  EXPECT_TRUE(std::equal(sub.begin(), sub.end(), ref.begin() + 11 * n));
  omp_set_num_threads(omp_get_num_procs());
}
