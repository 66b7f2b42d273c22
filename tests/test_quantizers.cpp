// Quantizers (act_quant, fp4_act_quant, weight_dequant, hadamard) against independent derivations:
// scales from the definition "smallest power of two >= fp32(amax * fp32(1/qmax))" computed with
// double arithmetic and frexp, element codes from the brute-force grid oracle on the exactly divided
// value, hand-derived cases from v4-model.md §2.2-2.8, and mathematical identities (Hadamard).
#include <gtest/gtest.h>

#include <omp.h>

#include <bit>
#include <random>
#include <vector>

#include "reference/act_quant.h"
#include "reference/fp4_act_quant.h"
#include "reference/hadamard.h"
#include "reference/weight_dequant.h"
#include "tests/support/format_oracle.h"

using namespace v4;
namespace o = v4::oracle;

namespace {

uint16_t bf(float x) { return bf16_encode(x); }

// bf16 codes of random activations: magnitudes spread over ~2^-20..2^10, some zeros and ties.
std::vector<uint16_t> random_bf16(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::uniform_int_distribution<int> e(-20, 10);
  std::vector<uint16_t> v(n);
  for (auto& c : v) c = bf(rng() % 17 == 0 ? 0.0f : std::ldexp(g(rng), e(rng)));
  return v;
}

// Independent scale: the ceiling power of two of fp32(amax * fp32(1/qmax)). The product of two floats
// is exact in double, so float(double product) is the fp32 RN multiply.
int expect_scale_exp(double amax, float inv_qmax) {
  const float v = float(amax * double(inv_qmax));
  int e;
  const double m = std::frexp(double(v), &e);
  return m == 0.5 ? e - 1 : e;
}

}  // namespace

TEST(ActQuant, HandDerivedScales) {
  // amax = 448: 448 * fp32(1/448) = 1.0000000447 rounds to 1.0f, so s = 1 (code 127), q(448) = 0x7E.
  std::vector<uint16_t> x(128, bf(0.0f));
  x[5] = bf(448.0f);
  x[6] = bf(-1.0f);
  std::vector<uint8_t> q(128), s(1);
  act_quant(x.data(), 1, 128, 128, q.data(), s.data());
  EXPECT_EQ(s[0], 127);
  EXPECT_EQ(q[5], 0x7E);
  EXPECT_EQ(q[6], 0xB8);  // -1.0
  // amax = 672: fp32(672 * fp32(1/448)) = 1.5000001 (numerics.md §2.3), s = 2.
  x[5] = bf(672.0f);
  act_quant(x.data(), 1, 128, 128, q.data(), s.data());
  EXPECT_EQ(s[0], 128);
  EXPECT_EQ(q[5], fp8_e4m3_encode(336.0f, Sat::satfinite));
  // All zeros: amax floor 1e-4 -> v = 2.23e-7 -> s = 2^-22 (code 105); q = +0.
  std::fill(x.begin(), x.end(), bf(0.0f));
  act_quant(x.data(), 1, 128, 128, q.data(), s.data());
  EXPECT_EQ(s[0], 105);
  for (uint8_t c : q) EXPECT_EQ(c, 0);
}

TEST(ActQuant, AgainstIndependentDerivation) {
  for (int block : {128, 64}) {
    const int64_t rows = 37, n = 256;
    const auto x = random_bf16(rows * n, 11 + block);
    std::vector<uint8_t> q(rows * n), s(rows * n / block);
    std::vector<uint16_t> y(rows * n);
    act_quant(x.data(), rows, n, block, q.data(), s.data());
    act_quant_sim(x.data(), rows, n, block, y.data());
    const o::Grid g = o::make_grid(o::kE4M3), gb = o::make_grid(o::kBF16);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t b = 0; b < n / block; ++b) {
        double amax = 1e-4f;
        for (int i = 0; i < block; ++i) amax = std::max(amax, std::fabs(double(bf16_decode(x[r * n + b * block + i]))));
        const int k = expect_scale_exp(amax, 1.0f / 448.0f);
        ASSERT_EQ(int(s[r * (n / block) + b]), k + 127) << "row " << r << " block " << b;
        bool has_top = false;
        for (int i = 0; i < block; ++i) {
          const int64_t at = r * n + b * block + i;
          const double v = std::clamp(double(bf16_decode(x[at])) / std::ldexp(1.0, k), -448.0, 448.0);
          const uint8_t want = o::expect_e4m3(g, float(v), o::Mode::satfinite);
          ASSERT_EQ(q[at], want) << "row " << r << " elem " << b * block + i;
          // Simulation form: bf16 of the exact product q * 2^k.
          ASSERT_EQ(y[at], o::expect_bf16(gb, float(o::definition_decode(o::kE4M3, want) * std::ldexp(1.0, k))));
          const double mag = std::fabs(o::definition_decode(o::kE4M3, want));
          EXPECT_LE(mag, 448.0);
          has_top |= mag >= 224.0;
        }
        // The ceiling scale puts the block maximum in (224, 448] unless the 1e-4 floor is active.
        if (amax > 1e-4) {
          EXPECT_TRUE(has_top) << "row " << r << " block " << b;
        }
      }
  }
}

TEST(ActQuant, NaNMarksBlockInfSaturates) {
  std::vector<uint16_t> x(128, bf(1.0f));
  x[3] = 0x7FC0;  // NaN
  std::vector<uint8_t> q(128), s(1);
  act_quant(x.data(), 1, 128, 128, q.data(), s.data());
  EXPECT_EQ(s[0], 0xFF);
  EXPECT_EQ(q[0], 0x7F);
  x[3] = 0xFF80;  // -inf
  act_quant(x.data(), 1, 128, 128, q.data(), s.data());
  EXPECT_EQ(s[0], 0xFE);
  EXPECT_EQ(q[3], 0xFE);  // -inf / 2^127 = -inf, clamped to -448
  EXPECT_EQ(q[0], 0x00);  // 1 / 2^127 underflows to +0
  EXPECT_THROW(act_quant(x.data(), 1, 100, 128, q.data(), s.data()), std::invalid_argument);
}

TEST(Fp4ActQuant, HandDerived) {
  // amax = 6: 6 * fp32(1/6) = 1.00000003 rounds to 1.0f, s = 1. Ties go to the even code.
  std::vector<uint16_t> x(32, bf(0.0f));
  const float in[] = {6.0f, 1.25f, -1.75f, 2.5f, -0.25f, 5.0f, 0.75f, 3.5f};
  const float out[] = {6.0f, 1.0f, -2.0f, 2.0f, -0.0f, 4.0f, 1.0f, 4.0f};
  for (int i = 0; i < 8; ++i) x[i] = bf(in[i]);
  std::vector<uint16_t> y(32);
  fp4_act_quant_sim(x.data(), 1, 32, y.data());
  for (int i = 0; i < 8; ++i) EXPECT_EQ(y[i], bf(out[i])) << in[i];
  std::vector<uint8_t> qp(16), s(1);
  fp4_act_quant(x.data(), 1, 32, qp.data(), s.data());
  EXPECT_EQ(s[0], 127);
  EXPECT_EQ(qp[0], 0x27);  // element 0 (6 -> 0x7) low nibble, element 1 (1.0 -> 0x2) high nibble
  // All zero block: amax floor 6*2^-126 -> 6*2^-126 * fp32(1/6) = 2^-126 * 1.00000003, which rounds to
  // exactly 2^-126 in fp32 (the excess is below half an ulp) -> s = 2^-126, code 1.
  std::fill(x.begin(), x.end(), bf(0.0f));
  fp4_act_quant(x.data(), 1, 32, qp.data(), s.data());
  EXPECT_EQ(int(s[0]), expect_scale_exp(6.0 * std::ldexp(1.0, -126), 1.0f / 6.0f) + 127);
  EXPECT_EQ(int(s[0]), 1);
}

TEST(Fp4ActQuant, AgainstIndependentDerivation) {
  const int64_t rows = 19, n = 160;
  const auto x = random_bf16(rows * n, 5);
  std::vector<uint8_t> qp(rows * n / 2), s(rows * n / 32);
  std::vector<uint16_t> y(rows * n);
  fp4_act_quant(x.data(), rows, n, qp.data(), s.data());
  fp4_act_quant_sim(x.data(), rows, n, y.data());
  const o::Grid g = o::make_grid(o::kE2M1), gb = o::make_grid(o::kBF16);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < n / 32; ++b) {
      double amax = 6.0 * std::ldexp(1.0, -126);
      for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(double(bf16_decode(x[r * n + b * 32 + i]))));
      const int k = expect_scale_exp(amax, 1.0f / 6.0f);
      ASSERT_EQ(int(s[r * (n / 32) + b]), k + 127);
      for (int i = 0; i < 32; ++i) {
        const int64_t at = r * n + b * 32 + i;
        const double v = std::clamp(double(bf16_decode(x[at])) / std::ldexp(1.0, k), -6.0, 6.0);
        const uint8_t want = o::expect_e2m1(g, float(v));
        ASSERT_EQ(fp4_e2m1_get(qp.data(), at), want);
        ASSERT_EQ(y[at], o::expect_bf16(gb, float(o::definition_decode(o::kE2M1, want) * std::ldexp(1.0, k))));
      }
    }
}

TEST(WeightDequant, Fp8AndFp4AgainstDefinition) {
  std::mt19937 rng(3);
  const int64_t rows = 130, cols = 260;  // partial 128-blocks on both axes
  std::vector<uint8_t> w(rows * cols), sc(2 * 3);
  for (auto& c : w) { c = uint8_t(rng()); if ((c & 0x7F) == 0x7F) c = 0x10; }
  for (auto& c : sc) c = uint8_t(120 + rng() % 15);
  std::vector<uint16_t> out(rows * cols);
  weight_dequant_fp8(w.data(), sc.data(), rows, cols, out.data());
  const o::Grid gb = o::make_grid(o::kBF16);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      const double v = o::definition_decode(o::kE4M3, w[i * cols + j]) * std::ldexp(1.0, sc[(i / 128) * 3 + j / 128] - 127);
      ASSERT_EQ(out[i * cols + j], o::expect_bf16(gb, float(v))) << i << "," << j;
    }
  const int64_t c4 = 96;
  std::vector<uint8_t> wp(rows * c4 / 2), s4(rows * 3);
  for (auto& c : wp) c = uint8_t(rng());
  for (auto& c : s4) c = uint8_t(110 + rng() % 30);
  std::vector<uint16_t> o4(rows * c4);
  weight_dequant_fp4(wp.data(), s4.data(), rows, c4, o4.data());
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < c4; ++j) {
      const uint8_t nib = fp4_e2m1_get(wp.data() + i * fp4_e2m1_row_bytes(c4), j);
      const double v = o::definition_decode(o::kE2M1, nib) * std::ldexp(1.0, s4[i * 3 + j / 32] - 127);
      ASSERT_EQ(o4[i * c4 + j], o::expect_bf16(gb, float(v)));
    }
}

TEST(Hadamard, MatchesMatrixDefinitionWhenExact) {
  // Integer inputs in [-64, 64]: every butterfly sum is an integer below 2^13, exact in fp32, so the
  // result must equal bf16(fp32(s * (H x))) with H from its popcount definition.
  const int64_t n = 128, rows = 3;
  std::mt19937 rng(9);
  std::vector<uint16_t> x(rows * n), y(rows * n);
  for (auto& c : x) c = bf(float(int(rng() % 129) - 64));
  hadamard(x.data(), rows, n, y.data());
  const float s = hadamard_scale(n);
  EXPECT_EQ(s, float(0.08838834764831845));  // v4-model.md §2.8
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < n; ++i) {
      long sum = 0;
      for (int64_t j = 0; j < n; ++j)
        sum += (std::popcount(uint64_t(i & j)) % 2 ? -1 : 1) * long(bf16_decode(x[r * n + j]));
      ASSERT_EQ(y[r * n + i], bf(float(sum) * s)) << "row " << r << " i " << i;
    }
}

TEST(Hadamard, Fp32IntermediatesNotExact) {
  // x = [2^24, 2^16, 1, 0]: the exact row-0 sum 2^24 + 2^16 + 1 is not an fp32; fp32 butterflies give
  // 2^24 + 2^16 (tie to even), times 0.5 = 2^23 + 2^15, a bf16 tie that goes to 2^23 (0x4B00).
  // An exact evaluation would give 2^23 + 2^15 + 0.5 -> 2^23 + 2^16 (0x4B01).
  const uint16_t x[4] = {bf(0x1p24f), bf(0x1p16f), bf(1.0f), bf(0.0f)};
  uint16_t y[4];
  hadamard(x, 1, 4, y);
  EXPECT_EQ(y[0], 0x4B00);
  EXPECT_THROW(hadamard(x, 1, 3, y), std::invalid_argument);
}

TEST(Quantizers, ThreadCountInvariance) {
  const int64_t rows = 33, n = 256;
  const auto x = random_bf16(rows * n, 21);
  auto run = [&](int threads) {
    omp_set_num_threads(threads);
    std::vector<uint16_t> a(rows * n), b(rows * n), h(rows * n);
    act_quant_sim(x.data(), rows, n, 128, a.data());
    fp4_act_quant_sim(x.data(), rows, n, b.data());
    hadamard(x.data(), rows, n, h.data());
    a.insert(a.end(), b.begin(), b.end());
    a.insert(a.end(), h.begin(), h.end());
    return a;
  };
  const auto one = run(1);
  EXPECT_EQ(one, run(2));
  EXPECT_EQ(one, run(5));
}
