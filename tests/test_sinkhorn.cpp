// sinkhorn against (1) a literal transcription of v4-model.md §4.1 step 4 written independently as
// whole-matrix passes (pins the release's order bit for bit), (2) the symmetric case, where every entry
// stays equal and the algorithm collapses to a scalar recurrence, and (3) bounds on the row and column
// sums derived below (for any logits: columns and non-negativity; for bounded logits: rows too).
#include <gtest/gtest.h>

#include <omp.h>

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "reference/pmath.h"
#include "reference/sinkhorn.h"

using namespace v4;

namespace {

constexpr int N = kHcMult;
using Mat = std::array<std::array<float, N>, N>;
constexpr double kU = 0x1p-24;  // unit roundoff of fp32

// The spec, one pass per line: softmax + eps, column pass, then (iters-1) × (row pass, column pass).
Mat spec_sinkhorn(Mat L, int iters, float eps) {
  Mat M{};
  for (int j = 0; j < N; ++j) {
    float mx = L[j][0];
    for (int k = 1; k < N; ++k) mx = std::max(mx, L[j][k]);
    std::array<float, N> e{};
    for (int k = 0; k < N; ++k) e[k] = pmath::exp(L[j][k] - mx);
    const float s = ((e[0] + e[1]) + e[2]) + e[3];
    for (int k = 0; k < N; ++k) M[j][k] = e[k] / s + eps;
  }
  auto col_pass = [&] {
    std::array<float, N> c{};
    for (int k = 0; k < N; ++k) c[k] = ((M[0][k] + M[1][k]) + M[2][k]) + M[3][k] + eps;
    for (int j = 0; j < N; ++j)
      for (int k = 0; k < N; ++k) M[j][k] /= c[k];
  };
  auto row_pass = [&] {
    for (int j = 0; j < N; ++j) {
      const float r = ((M[j][0] + M[j][1]) + M[j][2]) + M[j][3] + eps;
      for (int k = 0; k < N; ++k) M[j][k] /= r;
    }
  };
  col_pass();
  for (int i = 1; i < iters; ++i) {
    row_pass();
    col_pass();
  }
  return M;
}

Mat run_one(const Mat& L, int iters = kHcSinkhornIters) {
  Mat out{};
  sinkhorn(&L[0][0], 1, N, iters, kHcEps, &out[0][0]);
  return out;
}

double row_sum(const Mat& m, int j) { return double(m[j][0]) + m[j][1] + m[j][2] + m[j][3]; }
double col_sum(const Mat& m, int k) { return double(m[0][k]) + m[1][k] + m[2][k] + m[3][k]; }

Mat random_logits(std::mt19937& g, float bound) {
  std::uniform_real_distribution<float> d(-bound, bound);
  Mat L{};
  for (auto& r : L)
    for (auto& v : r) v = g() % 3 == 0 ? (g() & 1 ? bound : -bound) : d(g);  // corners of the range too
  return L;
}

// Logits a trained model should never produce, to stress the bounds that hold for any input.
Mat extreme_logits(std::mt19937& g) {
  const float pool[] = {0.0f, -0.0f, 1e30f, -1e30f, 88.0f, -88.0f, 1e-40f, 3.4e38f, -3.4e38f, 20.0f, -20.0f};
  std::normal_distribution<float> wide(0.0f, 60.0f);
  Mat L{};
  for (auto& r : L)
    for (auto& v : r) v = g() % 2 ? pool[g() % std::size(pool)] : wide(g);
  return L;
}

}  // namespace

TEST(Sinkhorn, MatchesTheSpecOrderBitForBit) {
  std::mt19937 g(11);
  for (int trial = 0; trial < 1500; ++trial) {
    const Mat L = trial % 2 ? random_logits(g, 4.0f) : extreme_logits(g);
    for (int iters : {1, 2, kHcSinkhornIters}) {
      const Mat got = run_one(L, iters), want = spec_sinkhorn(L, iters, kHcEps);
      for (int j = 0; j < N; ++j)
        for (int k = 0; k < N; ++k)
          ASSERT_EQ(std::bit_cast<uint32_t>(got[j][k]), std::bit_cast<uint32_t>(want[j][k]))
              << "trial " << trial << " iters " << iters << " entry [" << j << "][" << k << "]";
    }
  }
}

// Equal logits: by symmetry every entry is the same number v at every step, so the algorithm is the
// scalar recurrence v <- v / (((v+v)+v)+v + eps), started from v = 1/4 + eps (exp(0) = 1, sum 4).
TEST(Sinkhorn, EqualLogitsFollowTheScalarRecurrence) {
  for (float c : {0.0f, -3.5f, 1234.0f}) {
    Mat L{};
    for (auto& r : L) r.fill(c);
    float v = 0.25f + kHcEps;
    v = v / (((v + v) + v) + v + kHcEps);
    for (int i = 1; i < kHcSinkhornIters; ++i) {
      v = v / (((v + v) + v) + v + kHcEps);  // row pass
      v = v / (((v + v) + v) + v + kHcEps);  // column pass
    }
    const Mat got = run_one(L);
    for (auto& r : got)
      for (float x : r) EXPECT_EQ(x, v) << "logit " << c;
  }
}

// Columns, for ANY logits (iters >= 2). Let P be the matrix before the final column pass and
// S_k = sum_j P_jk. The pass returns fl(P_jk / fl(fl(S_k) + eps)); the 3 additions of fl(S_k), the +eps
// and the division put the computed column sum within S_k/(S_k+eps) * (1 ± 6u) (u = 2^-24, to first
// order), so 1 - eps/S_k - 6u <= colsum <= 1 + 6u.
// Lower bound of S_k: every entry after "softmax + eps" is >= eps, so the first column sums are >= 4 eps
// and the first column pass leaves column sums >= 4eps/(4eps+eps) = 0.8; every later column pass leaves
// sums >= S/(S+eps) with S >= 0.2 (below), i.e. >= 1 - 5e-6. A column-normalized matrix has row sums
// <= 4 (+rounding), so the row pass divides by at most 4 + eps: S_k >= 0.8 / 4.000001 >= 0.19999.
constexpr double kColMinSum = 0.19999;
constexpr double kColLow = 1e-6 / kColMinSum + 8 * kU;  // 1 - colsum <= this
constexpr double kColHigh = 8 * kU;                     // colsum - 1 <= this

TEST(Sinkhorn, ColumnsSumToOneAndEntriesAreNonNegativeForAnyLogits) {
  std::mt19937 g(5);
  double worst = 0;
  for (int trial = 0; trial < 5000; ++trial) {
    const Mat L = trial % 4 == 0 ? random_logits(g, 1.0f) : extreme_logits(g);
    bool finite = true;  // a row with an infinite or NaN maximum has no softmax; none in these pools
    for (auto& r : L)
      for (float v : r) finite &= std::isfinite(v);
    ASSERT_TRUE(finite);
    const Mat m = run_one(L);
    for (int k = 0; k < N; ++k) {
      const double c = col_sum(m, k);
      EXPECT_LE(1.0 - c, kColLow) << "trial " << trial << " column " << k;
      EXPECT_LE(c - 1.0, kColHigh) << "trial " << trial << " column " << k;
      worst = std::max(worst, std::abs(c - 1.0));
      for (int j = 0; j < N; ++j) ASSERT_GE(m[j][k], 0.0f) << "comb must be non-negative";
    }
  }
  RecordProperty("worst_column_deviation", std::to_string(worst));
}

// Rows, for logits with max - min <= 2B. Sinkhorn's column and row passes are diagonal scalings
// M = diag(r) A diag(c) of A = softmax + eps; in Hilbert's projective metric d the map from one
// column scaling to the next contracts by kappa^2 per round, kappa = tanh(Delta(A)/4), where Delta(A) =
// max log(A_ik A_jl / (A_jk A_il)) (Birkhoff-Hopf; Franklin & Lorenz 1989). Each bracket
// log(A_ik/A_il) = L_ik - L_il is at most 2B and the +eps only shrinks it, so Delta <= 4B.
// After the final column pass, row j sums to (A c)_j / (A c')_j (c, c' the last two column scalings),
// so all row sums lie within a factor exp(d(c, c')) of each other, and their mean is the mean column
// sum (within kColLow of 1). d(c, c') <= kappa^36 * (Delta + p) + p / (1 - kappa^2), where p bounds
// the per-round departure from exact Sinkhorn: the "+eps" in each denominator rescales a column (row)
// by at most eps / 0.19999 (0.2499 for rows), and the sums and divisions round at most 5u per pass:
// p <= 2 * (5e-6 + 4e-6 + 10u) < 2e-5. B = 1: kappa = tanh(1) = 0.7616, kappa^36 = 5.5e-5, d < 3.0e-4;
// B = 1/4: kappa = 0.2449, d < 2.2e-5. Then |rowsum - 1| <= exp(d) - 1 + kColLow.
double row_bound(double B) {
  const double delta = 4 * B, kappa = std::tanh(delta / 4), p = 2e-5;
  const double d = std::pow(kappa, 36) * (delta + p) + p / (1 - kappa * kappa);
  return std::expm1(d) + kColLow;
}

TEST(Sinkhorn, RowsSumToOneForBoundedLogits) {
  std::mt19937 g(7);
  for (double B : {0.25, 1.0}) {
    const double bound = row_bound(B);
    double worst = 0;
    for (int trial = 0; trial < 5000; ++trial) {
      const Mat m = run_one(random_logits(g, float(B)));
      for (int j = 0; j < N; ++j) {
        const double dev = std::abs(row_sum(m, j) - 1.0);
        worst = std::max(worst, dev);
        ASSERT_LE(dev, bound) << "B " << B << " trial " << trial << " row " << j;
      }
    }
    RecordProperty("worst_row_deviation_B" + std::to_string(B), std::to_string(worst));
  }
}

TEST(Sinkhorn, IdenticalForAnyThreadCountAndBatchPosition) {
  std::mt19937 g(3);
  const int64_t T = 257;
  std::vector<float> L(T * N * N);
  for (int64_t t = 0; t < T; ++t) {
    const Mat m = t % 2 ? random_logits(g, 3.0f) : extreme_logits(g);
    std::memcpy(&L[t * N * N], &m[0][0], sizeof(Mat));
  }
  std::vector<float> a(L.size()), b(L.size());
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  sinkhorn(L.data(), T, N, kHcSinkhornIters, kHcEps, a.data());
  omp_set_num_threads(2);
  sinkhorn(L.data(), T, N, kHcSinkhornIters, kHcEps, b.data());
  omp_set_num_threads(saved);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
  for (int64_t t : {int64_t(0), int64_t(100), T - 1}) {  // a token alone gives the bits it gets in the batch
    Mat one{};
    sinkhorn(&L[t * N * N], 1, N, kHcSinkhornIters, kHcEps, &one[0][0]);
    EXPECT_EQ(0, std::memcmp(&one[0][0], &a[t * N * N], sizeof(Mat))) << "token " << t;
  }
}

TEST(Sinkhorn, RejectsBadArguments) {
  float x[4] = {};
  EXPECT_THROW(sinkhorn(x, 1, 0, 20, kHcEps, x), std::invalid_argument);
  EXPECT_THROW(sinkhorn(x, 1, 2, 0, kHcEps, x), std::invalid_argument);
  EXPECT_THROW(sinkhorn(x, 1, kSinkhornMaxN + 1, 20, kHcEps, x), std::invalid_argument);
}
