// Newton-Schulz (reference/newton_schulz.h) against expectations derived independently here:
//   - the op sequence: a plain triple-loop re-implementation of Keller's zeropower_via_newtonschulz5
//     with the canonical dot product (sequential fp32 fma in k, docs/gemm.md), bit for bit;
//   - the spectrum: singular values computed in double (Eigen) of the input, mapped through the exact
//     polynomial composition of the schedule, plus the bf16 rounding band derived below
//     (docs/newton_schulz.md "The singular-value band"); and the exact polar factor U·Vᵀ in double;
//   - identities: zero in, zero out; duplicated rows stay duplicated; thread count changes no bit.
// The real V4 shapes (4096 x 1024, 2048 x 4096) take minutes on two cores; they run when
// V4ORACLE_NS_REAL_SHAPES=1 (docs/newton_schulz.md has their figures).
#include <gtest/gtest.h>
#include <omp.h>

#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <random>
#include <vector>

#include "reference/formats.h"
#include "reference/gemm.h"
#include "reference/newton_schulz.h"

using namespace v4;

namespace {

using MatD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Codes = std::vector<uint16_t>;

// ---- The bf16 rounding band of the hybrid schedule (derivation in docs/newton_schulz.md). ----
// In the last (2, -1.5, 0.5) step X is nearly orthogonal, A = X·Xᵀ ≈ I and B = b·A + (c·A)·A ≈ -I.
// Four roundings on B's diagonal scale whole rows of B·X, and a row scaled by (1 + e) moves a singular
// value by up to e: A_ii ≈ 1 (half an ulp <= 2^-8, entering B with weight |b + 2c| = 0.5), b·A_ii ≈ -1.5
// (<= 2^-8), ((c·A)·A)_ii ≈ 0.5 (<= 2^-10) and the sum ≈ -1 (<= 2^-8).
constexpr double kNsDiagRoundBound = 0x1p-9 + 0x1p-8 + 0x1p-10 + 0x1p-8;  // 0.0107
// The element-wise roundings of a·X, B·X and their sum are independent per element; each has relative
// RMS <= 2^-7/sqrt(12), so together they perturb X (RMS element 1/sqrt(C)) by a random matrix whose
// symmetric part relative to X's row space spreads the singular values over a semicircle of radius
// sqrt(12) · 2^-7/sqrt(12) · sqrt(R/C) <= 2^-7.
constexpr double kNsElementRoundRadius = 0x1p-7;                          // 0.0078
constexpr double kNsBf16Band = kNsDiagRoundBound + kNsElementRoundRadius;  // 0.0186
// Relative Frobenius distance to the exact polar factor after the hybrid schedule. Measured 0.016-0.018
// on the shapes below (rounding noise that rotates singular vectors accumulates over the 10 steps);
// the limit leaves a margin of ~1.7x and sits far below Keller's 5 steps on the same inputs (~0.21).
constexpr double kNsPolarRelFrobenius = 0.03;

Codes to_bf16(const MatD& m) {
  Codes c(size_t(m.size()));
  for (Eigen::Index i = 0; i < m.size(); ++i) c[size_t(i)] = bf16_encode(float(m.data()[i]));
  return c;
}
MatD from_bf16(const Codes& c, int64_t rows, int64_t cols) {
  MatD m(rows, cols);
  for (int64_t i = 0; i < rows * cols; ++i) m.data()[i] = double(bf16_decode(c[size_t(i)]));
  return m;
}
MatD gaussian(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd;
  MatD m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = nd(rng);
  return m;
}

// The schedule's polynomials composed, evaluated in double on a scalar singular value.
double compose(double s, const std::vector<NsCoeffs>& sch) {
  for (const NsCoeffs& k : sch) s = double(k.a) * s + double(k.b) * s * s * s + double(k.c) * s * s * s * s * s;
  return s;
}

Eigen::VectorXd singular_values(const MatD& m) {
  if (std::min(m.rows(), m.cols()) <= 256) return Eigen::JacobiSVD<MatD>(m).singularValues();
  return Eigen::BDCSVD<MatD>(m).singularValues();
}

Codes run_ns(const Codes& x, int64_t rows, int64_t cols, NsSchedule s, Recipe r = Recipe::canonical) {
  const std::vector<NsCoeffs> sch = ns_schedule(s);
  Codes out(x.size());
  newton_schulz(x.data(), rows, cols, sch.data(), int64_t(sch.size()), kNsEps, r, out.data());
  return out;
}

// ---- Independent plain-loop Newton-Schulz. gemm(a [M,K], b [N,K]) -> bf16 [M,N]. ----
using Gemm = std::function<Codes(const Codes&, const Codes&, int64_t, int64_t, int64_t)>;
Codes gemm_canonical(const Codes& a, const Codes& b, int64_t M, int64_t N, int64_t K) {
  Codes c(size_t(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float acc = 0.0f;
      for (int64_t k = 0; k < K; ++k) acc = std::fma(bf16_decode(a[i * K + k]), bf16_decode(b[j * K + k]), acc);
      c[size_t(i * N + j)] = bf16_encode(acc);
    }
  return c;
}
Codes gemm_hopper(const Codes& a, const Codes& b, int64_t M, int64_t N, int64_t K) {
  std::vector<float> acc(size_t(M * N));
  hopper_bf16_gemm_f32(a.data(), b.data(), M, N, K, nullptr, acc.data());
  Codes c(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) c[i] = bf16_encode(acc[i]);
  return c;
}
Codes transposed(const Codes& x, int64_t rows, int64_t cols) {
  Codes t(x.size());
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) t[size_t(j * rows + i)] = x[size_t(i * cols + j)];
  return t;
}
float bf(float v) { return bf16_decode(bf16_encode(v)); }

// Keller's code: X = G.bfloat16(); X = X.mT if rows > cols; X = X / (X.norm() + eps);
// A = X @ X.mT; B = b * A + c * A @ A; X = a * X + B @ X; transposed back. `keller_assoc` false
// evaluates c * (A @ A) instead, to show the test tells the two orders apart.
Codes ns_plain(const Codes& g, int64_t rows, int64_t cols, const std::vector<NsCoeffs>& sch, const Gemm& gemm,
               bool keller_assoc = true) {
  const bool tr = rows > cols;
  const int64_t R = tr ? cols : rows, C = tr ? rows : cols;
  Codes X = tr ? transposed(g, rows, cols) : g;
  float ss = 0.0f;
  for (uint16_t v : g) ss = std::fma(bf16_decode(v), bf16_decode(v), ss);  // storage order of g
  const float denom = bf(bf(std::sqrt(ss)) + 1e-7f);
  for (auto& v : X) v = bf16_encode(bf16_decode(v) / denom);
  for (const NsCoeffs& k : sch) {
    const Codes A = gemm(X, X, R, R, C);
    Codes T;
    if (keller_assoc) {
      Codes cA(A.size());
      for (size_t i = 0; i < A.size(); ++i) cA[i] = bf16_encode(k.c * bf16_decode(A[i]));
      T = gemm(cA, transposed(A, R, R), R, R, R);
    } else {
      T = gemm(A, transposed(A, R, R), R, R, R);
      for (auto& v : T) v = bf16_encode(k.c * bf16_decode(v));
    }
    Codes B(A.size());
    for (size_t i = 0; i < A.size(); ++i) B[i] = bf16_encode(bf(k.b * bf16_decode(A[i])) + bf16_decode(T[i]));
    const Codes BX = gemm(B, transposed(X, R, C), R, C, R);
    for (size_t i = 0; i < X.size(); ++i) X[i] = bf16_encode(bf(k.a * bf16_decode(X[i])) + bf16_decode(BX[i]));
  }
  return tr ? transposed(X, R, C) : X;
}

int64_t count_diff(const Codes& a, const Codes& b) {
  int64_t d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += a[i] != b[i];
  return d;
}

// Spectrum report for one input: the prediction from the input's singular values and the result's.
struct Spectrum {
  double pred_lo, pred_hi;  // exact-arithmetic image of the input singular values
  double lo, hi;            // singular values of the result
  double max_dev;           // max_i |σ_i(result) − Φ(σ0_i)|, both sorted
  double polar_rel_fro;     // ‖result − U·Vᵀ‖_F / ‖U·Vᵀ‖_F (U·Vᵀ over the input's non-zero σ)
};
Spectrum spectrum(const MatD& g, const MatD& o, const std::vector<NsCoeffs>& sch) {
  const int64_t k = std::min(g.rows(), g.cols());
  Eigen::VectorXd s0, so = singular_values(o);
  MatD polar;
  if (k <= 256) {
    Eigen::JacobiSVD<MatD> svd(g, Eigen::ComputeThinU | Eigen::ComputeThinV);
    s0 = svd.singularValues();
    const int64_t rank = svd.rank();  // σ above Eigen's threshold: U·Vᵀ over the non-zero part
    polar = svd.matrixU().leftCols(rank) * svd.matrixV().leftCols(rank).transpose();
  } else {
    Eigen::BDCSVD<MatD> svd(g, Eigen::ComputeThinU | Eigen::ComputeThinV);
    s0 = svd.singularValues();
    const int64_t rank = svd.rank();
    polar = svd.matrixU().leftCols(rank) * svd.matrixV().leftCols(rank).transpose();
  }
  const double f = g.norm();
  std::vector<double> pred(static_cast<size_t>(k)), got(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) {
    pred[size_t(i)] = compose(s0(i) / f, sch);
    got[size_t(i)] = so(i);
  }
  std::sort(pred.begin(), pred.end());
  std::sort(got.begin(), got.end());
  Spectrum r{pred.front(), pred.back(), got.front(), got.back(), 0.0, (o - polar).norm() / polar.norm()};
  for (int64_t i = 0; i < k; ++i) r.max_dev = std::max(r.max_dev, std::fabs(got[size_t(i)] - pred[size_t(i)]));
  return r;
}

}  // namespace

TEST(NewtonSchulz, NamedSchedules) {
  // The report's coefficients rounded to fp32 (PyTorch casts the Python float to the fp32 op-math type).
  EXPECT_EQ(kNsKeller.a, float(3.4445));
  EXPECT_EQ(kNsKeller.b, float(-4.7750));
  EXPECT_EQ(kNsKeller.c, float(2.0315));
  // φ(s) = 2s - 1.5s³ + 0.5s⁵: φ(1) = 1 and φ'(1) = 2 - 4.5 + 2.5 = 0, exactly in binary.
  EXPECT_EQ(kNsPin.a + kNsPin.b + kNsPin.c, 1.0f);
  EXPECT_EQ(kNsPin.a + 3 * kNsPin.b + 5 * kNsPin.c, 0.0f);
  const auto h = ns_schedule(NsSchedule::v4_hybrid), k5 = ns_schedule(NsSchedule::keller5);
  ASSERT_EQ(h.size(), 10u);
  ASSERT_EQ(k5.size(), 5u);
  for (size_t i = 0; i < 10; ++i) {
    const NsCoeffs want = i < 8 ? kNsKeller : kNsPin;
    EXPECT_TRUE(h[i].a == want.a && h[i].b == want.b && h[i].c == want.c) << "step " << i;
  }
  for (const NsCoeffs& c : k5) EXPECT_TRUE(c.a == kNsKeller.a && c.b == kNsKeller.b && c.c == kNsKeller.c);
  EXPECT_EQ(ns_schedule_parse("v4_hybrid"), NsSchedule::v4_hybrid);
  EXPECT_EQ(ns_schedule_parse("keller5"), NsSchedule::keller5);
  EXPECT_FALSE(ns_schedule_parse("keller"));
}

TEST(NewtonSchulz, MatchesPlainLoopsBitForBit) {
  // Odd shapes, tall (transposed inside) and wide, both schedules, and the trace of the loop variable.
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{37, 19}, {19, 37}, {24, 24}}) {
    const Codes g = to_bf16(gaussian(rows, cols, uint64_t(rows * 100 + cols)));
    for (NsSchedule s : {NsSchedule::v4_hybrid, NsSchedule::keller5}) {
      const auto sch = ns_schedule(s);
      const Codes want = ns_plain(g, rows, cols, sch, gemm_canonical);
      std::vector<Codes> trace;
      Codes got(g.size());
      newton_schulz(g.data(), rows, cols, sch.data(), int64_t(sch.size()), kNsEps, Recipe::canonical, got.data(),
                    &trace);
      EXPECT_EQ(count_diff(got, want), 0) << rows << "x" << cols << " " << ns_schedule_name(s);
      ASSERT_EQ(trace.size(), sch.size() + 1);
      const int64_t R = std::min(rows, cols), C = std::max(rows, cols);
      EXPECT_EQ(trace.back(), rows > cols ? transposed(got, rows, cols) : got);
      EXPECT_EQ(trace.front().size(), size_t(R * C));
      // The test tells Keller's (c·A)·A from c·(A·A): the two orders differ somewhere on this input.
      EXPECT_GT(count_diff(ns_plain(g, rows, cols, sch, gemm_canonical, false), want), 0);
    }
  }
}

TEST(NewtonSchulz, RecipeReachesEveryProduct) {
  // hopper: every product is the bf16 wgmma chain (reference/gemm.h's validated model) rounded to bf16.
  const int64_t rows = 20, cols = 33;
  const Codes g = to_bf16(gaussian(rows, cols, 7));
  const auto sch = ns_schedule(NsSchedule::v4_hybrid);
  const Codes hop = run_ns(g, rows, cols, NsSchedule::v4_hybrid, Recipe::hopper);
  EXPECT_EQ(count_diff(hop, ns_plain(g, rows, cols, sch, gemm_hopper)), 0);
  EXPECT_GT(count_diff(hop, run_ns(g, rows, cols, NsSchedule::v4_hybrid, Recipe::canonical)), 0);
  // exact: same op sequence with exactly rounded products; its spectrum obeys the same band.
  const Codes ex = run_ns(g, rows, cols, NsSchedule::v4_hybrid, Recipe::exact);
  const Spectrum s = spectrum(from_bf16(g, rows, cols), from_bf16(ex, rows, cols), sch);
  EXPECT_LE(s.max_dev, kNsBf16Band);
  const Spectrum sh = spectrum(from_bf16(g, rows, cols), from_bf16(hop, rows, cols), sch);
  EXPECT_LE(sh.max_dev, kNsBf16Band);
}

// Gaussian inputs: tall, wide, square, and the aspect ratios of V4's expert w2 (4096 x 1024) and
// shared w1/w3 (2048 x 4096) at 1/16 and 1/16 scale.
TEST(NewtonSchulz, HybridBandAndPolarFactor) {
  struct Case {
    int64_t rows, cols;
  };
  for (Case c : {Case{192, 64}, Case{64, 192}, Case{96, 96}, Case{256, 64}, Case{128, 256}}) {
    const MatD g = from_bf16(to_bf16(gaussian(c.rows, c.cols, uint64_t(c.rows * 1000 + c.cols))), c.rows, c.cols);
    const Codes gc = to_bf16(g);
    const auto hyb = ns_schedule(NsSchedule::v4_hybrid), k5 = ns_schedule(NsSchedule::keller5);
    const Spectrum h = spectrum(g, from_bf16(run_ns(gc, c.rows, c.cols, NsSchedule::v4_hybrid), c.rows, c.cols), hyb);
    const Spectrum k = spectrum(g, from_bf16(run_ns(gc, c.rows, c.cols, NsSchedule::keller5), c.rows, c.cols), k5);
    SCOPED_TRACE(std::to_string(c.rows) + "x" + std::to_string(c.cols));
    std::printf("  %3lldx%-3lld hybrid σ [%.5f, %.5f] (exact-arithmetic [%.5f, %.5f], max dev %.5f, polar %.4f); "
                "keller5 σ [%.4f, %.4f] (polar %.4f)\n",
                (long long)c.rows, (long long)c.cols, h.lo, h.hi, h.pred_lo, h.pred_hi, h.max_dev, h.polar_rel_fro,
                k.lo, k.hi, k.polar_rel_fro);
    EXPECT_LE(h.max_dev, kNsBf16Band);
    EXPECT_GE(h.lo, 1.0 - kNsBf16Band);
    EXPECT_LE(h.hi, 1.002 + kNsBf16Band);  // 1.002: the hybrid map's maximum for σ0/‖G‖ in [3e-5, 1.01]
    EXPECT_LT(std::max(1.0 - h.lo, h.hi - 1.0), std::max(1.0 - k.lo, k.hi - 1.0));  // tighter than 5 steps
    EXPECT_LE(h.polar_rel_fro, kNsPolarRelFrobenius);
    EXPECT_GT(k.polar_rel_fro, kNsPolarRelFrobenius);
  }
}

TEST(NewtonSchulz, RankDeficient) {
  // Exactly rank-deficient in bf16: G = [H; H] (duplicated rows) and G with zero columns. The rounding
  // cannot break the structure (equal rows give equal dot products), so the result keeps equal rows /
  // zero columns bit for bit and its non-zero singular values lie in the band; U·Vᵀ is the partial
  // isometry over the non-zero singular values.
  const auto hyb = ns_schedule(NsSchedule::v4_hybrid);
  {
    const int64_t h = 24, cols = 80;
    const MatD H = gaussian(h, cols, 11);
    MatD g(2 * h, cols);
    g << H, H;
    g = from_bf16(to_bf16(g), 2 * h, cols);
    const Codes o = run_ns(to_bf16(g), 2 * h, cols, NsSchedule::v4_hybrid);
    for (int64_t i = 0; i < h * cols; ++i) ASSERT_EQ(o[size_t(i)], o[size_t(h * cols + i)]) << i;
    const MatD om = from_bf16(o, 2 * h, cols);
    const Eigen::VectorXd so = singular_values(om);
    for (int64_t i = 0; i < h; ++i) {
      EXPECT_GE(so(i), 1.0 - kNsBf16Band);
      EXPECT_LE(so(i), 1.002 + kNsBf16Band);
    }
    EXPECT_LT(so(h), 1e-12 * so(0));  // rank h exactly (Eigen's own error floor)
    Eigen::JacobiSVD<MatD> svd(g, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const MatD polar = svd.matrixU().leftCols(h) * svd.matrixV().leftCols(h).transpose();
    EXPECT_LE((om - polar).norm() / polar.norm(), kNsPolarRelFrobenius);
  }
  {
    const int64_t rows = 64, cols = 48;  // tall: transposed inside; 16 zero columns
    MatD g = gaussian(rows, cols, 12);
    g.rightCols(16).setZero();
    g = from_bf16(to_bf16(g), rows, cols);
    const Codes o = run_ns(to_bf16(g), rows, cols, NsSchedule::v4_hybrid);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 32; j < cols; ++j) ASSERT_EQ(o[size_t(i * cols + j)] & 0x7FFF, 0) << i << "," << j;
    const Spectrum s = spectrum(g, from_bf16(o, rows, cols), hyb);
    EXPECT_LE(s.polar_rel_fro, kNsPolarRelFrobenius);
  }
  {
    // Numerically low rank (rank 8 in double, rounded to bf16): the rounding of the input makes it full
    // rank with tiny σ0 (~1e-4 of ‖G‖_F), and Newton-Schulz maps every σ0 above ~3e-5·‖G‖_F to 1, as
    // the exact polynomial predicts: the result tracks Φ(σ0), not the rank-8 partial isometry.
    const int64_t rows = 64, cols = 128;
    const MatD g = from_bf16(to_bf16(gaussian(rows, 8, 13) * gaussian(8, cols, 14)), rows, cols);
    const Spectrum s = spectrum(g, from_bf16(run_ns(to_bf16(g), rows, cols, NsSchedule::v4_hybrid), rows, cols), hyb);
    std::printf("  rank-8 product in bf16: σ0-predicted [%.4f, %.4f], got [%.4f, %.4f], max dev %.5f\n", s.pred_lo,
                s.pred_hi, s.lo, s.hi, s.max_dev);
    EXPECT_LE(s.max_dev, kNsBf16Band);
  }
}

TEST(NewtonSchulz, ZeroGivesZero) {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{8, 5}, {5, 8}}) {
    const Codes z(size_t(rows * cols), 0);
    for (NsSchedule s : {NsSchedule::v4_hybrid, NsSchedule::keller5})
      for (Recipe r : kAllRecipes) {
        const Codes o = run_ns(z, rows, cols, s, r);
        for (uint16_t v : o) ASSERT_EQ(v & 0x7FFF, 0) << recipe_name(r);  // ±0, no NaN
      }
  }
  // Empty matrices and zero steps are no-ops / a plain normalisation.
  newton_schulz(nullptr, 0, 7, nullptr, 0, kNsEps, Recipe::canonical, nullptr);
  const Codes one = {bf16_encode(3.0f)};
  Codes out(1);
  newton_schulz(one.data(), 1, 1, nullptr, 0, kNsEps, Recipe::canonical, out.data());
  EXPECT_EQ(bf16_decode(out[0]), 1.0f);  // 3 / bf16(3 + 1e-7) = 3 / 3
}

TEST(NewtonSchulz, ThreadCountDoesNotChangeBits) {
  const int64_t rows = 70, cols = 45;
  const Codes g = to_bf16(gaussian(rows, cols, 21));
  const int saved = omp_get_max_threads();
  for (Recipe r : kAllRecipes) {
    omp_set_num_threads(1);
    const Codes ref = run_ns(g, rows, cols, NsSchedule::v4_hybrid, r);
    for (int t : {2, 7}) {
      omp_set_num_threads(t);
      EXPECT_EQ(count_diff(run_ns(g, rows, cols, NsSchedule::v4_hybrid, r), ref), 0) << recipe_name(r) << " " << t;
    }
  }
  omp_set_num_threads(saved);
}

TEST(NewtonSchulz, RealV4Shapes) {
  const char* on = std::getenv("V4ORACLE_NS_REAL_SHAPES");
  if (!on || std::string(on) != "1") GTEST_SKIP() << "set V4ORACLE_NS_REAL_SHAPES=1 (minutes on two cores)";
  const auto hyb = ns_schedule(NsSchedule::v4_hybrid), k5 = ns_schedule(NsSchedule::keller5);
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{4096, 1024}, {2048, 4096}}) {
    const MatD g = from_bf16(to_bf16(gaussian(rows, cols, 31)), rows, cols);
    const Codes gc = to_bf16(g);
    const auto t0 = std::chrono::steady_clock::now();
    const Codes oh = run_ns(gc, rows, cols, NsSchedule::v4_hybrid);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const Spectrum h = spectrum(g, from_bf16(oh, rows, cols), hyb);
    const Spectrum k = spectrum(g, from_bf16(run_ns(gc, rows, cols, NsSchedule::keller5), rows, cols), k5);
    std::printf("  %lldx%lld (%.1f s): hybrid σ [%.5f, %.5f] (exact-arithmetic [%.5f, %.5f], max dev %.5f, polar "
                "%.4f); keller5 σ [%.4f, %.4f] (polar %.4f)\n",
                (long long)rows, (long long)cols, secs, h.lo, h.hi, h.pred_lo, h.pred_hi, h.max_dev, h.polar_rel_fro,
                k.lo, k.hi, k.polar_rel_fro);
    EXPECT_LE(h.max_dev, kNsBf16Band);
    EXPECT_LT(std::max(1.0 - h.lo, h.hi - 1.0), std::max(1.0 - k.lo, k.hi - 1.0));
    EXPECT_LE(h.polar_rel_fro, kNsPolarRelFrobenius);
  }
}
