// rope against independent derivations: the frequencies from a long-double powl and the YaRN formula of
// v4-model.md §5.1 in real arithmetic (with hand-derived exact regions), the table from glibc's double
// cos/sin of the fp32 angle, the rotation from a double-precision rotation with the same table values,
// and forward-then-inverse returning the input within a derived bf16 bound.
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <random>
#include <vector>

#include "reference/formats.h"
#include "reference/rope.h"

using namespace v4;

namespace {

std::vector<float> inv_of(const RopeParams& p) {
  std::vector<float> inv(p.dim / 2);
  rope_inv_freq(p, inv.data());
  return inv;
}

// The unscaled fp32 frequency from its definition: 1 / fp32(base^(2i/64)), with the pow correctly
// rounded (long double powl carries 64 bits; float() rounds it once).
float inv_plain(double base, int i) { return 1.0f / float(powl((long double)base, (long double)(2 * i) / 64.0L)); }

struct Table {
  std::vector<float> c, s;
  RopeTable view(int half) const { return {c.data(), s.data(), int64_t(c.size()) / half, half}; }
};
Table make_table(const RopeParams& p, int64_t positions) {
  Table t{std::vector<float>(positions * p.dim / 2), std::vector<float>(positions * p.dim / 2)};
  rope_table(p, positions, t.c.data(), t.s.data());
  return t;
}

}  // namespace

TEST(Rope, YarnRangeIsFifteenToTwentyFive) {
  double low, high;
  rope_yarn_range(kRopeCompressed, &low, &high);  // corr(32) = 15.453, corr(1) = 24.708 (v4-model.md §5.1)
  EXPECT_EQ(low, 15.0);
  EXPECT_EQ(high, 25.0);
}

TEST(Rope, SwaFrequenciesAreTheCorrectlyRoundedPow) {
  const auto inv = inv_of(kRopeSwa);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(inv[i], inv_plain(10000.0, i)) << "pair " << i;
  EXPECT_EQ(inv[0], 1.0f);
}

TEST(Rope, CompressedFrequenciesFollowYarn) {
  const auto inv = inv_of(kRopeCompressed);
  for (int i = 0; i < 32; ++i) {
    const float plain = inv_plain(160000.0, i);
    if (i <= 15) {
      EXPECT_EQ(inv[i], plain) << "pair " << i << " is below the ramp: unscaled";
    } else if (i >= 25) {
      EXPECT_EQ(inv[i], plain / 16.0f) << "pair " << i << " is above the ramp: divided by the factor exactly";
    } else {
      // Blend in real arithmetic: ramp = (i - 15)/10, inv' = inv/16·ramp + inv·(1 - ramp). The fp32 steps
      // (ramp, 1 - ramp twice, two products, one sum) each round by <= 2^-24 relative; 8 ulp covers them.
      const double ramp = (i - 15) / 10.0;
      const double ref = double(plain) / 16.0 * ramp + double(plain) * (1.0 - ramp);
      EXPECT_NEAR(inv[i], ref, 8.0 * 0x1p-24 * ref) << "pair " << i;
      EXPECT_NE(inv[i], plain);
    }
  }
}

TEST(Rope, TableIsCorrectlyRoundedCosSinOfTheFp32Angle) {
  for (const RopeParams& p : {kRopeSwa, kRopeCompressed}) {
    const auto inv = inv_of(p);
    const int64_t P = 3000;
    const Table t = make_table(p, P);
    for (int64_t pos = 0; pos < P; pos += 7)
      for (int i = 0; i < 32; ++i) {
        const float angle = float(double(float(pos)) * double(inv[i]));  // exact product, one RN to fp32
        ASSERT_EQ(t.c[pos * 32 + i], float(std::cos(double(angle)))) << "pos " << pos << " pair " << i;
        ASSERT_EQ(t.s[pos * 32 + i], float(std::sin(double(angle)))) << "pos " << pos << " pair " << i;
      }
    EXPECT_EQ(t.c[0], 1.0f);  // position 0 is the identity
    EXPECT_EQ(t.s[0], 0.0f);
  }
  // Hand value: SWA pair 0 has inv = 1, so position 1 is the angle 1 rad.
  const Table t = make_table(kRopeSwa, 2);
  EXPECT_EQ(t.c[32], float(0.54030230586813971740));
  EXPECT_EQ(t.s[32], float(0.84147098480789650665));
}

TEST(Rope, RotatesInterleavedPairsOfTheTailOnly) {
  const RopeParams p = kRopeCompressed;
  const int64_t P = 200, T = 9, H = 3, n = 192;  // 128 untouched dims, then 64 rotated
  const Table tab = make_table(p, P);
  std::mt19937 rng(3);
  std::normal_distribution<float> g;
  std::vector<uint16_t> x(T * H * n);
  for (auto& v : x) v = bf16_encode(g(rng));
  std::vector<int32_t> pos = {0, 1, 2, 63, 64, 100, 150, 198, 199};
  auto y = x;
  rope_apply(y.data(), T * H, n, pos.data(), H, tab.view(32), false);
  for (int64_t r = 0; r < T * H; ++r) {
    const int64_t t = pos[r / H];
    for (int64_t j = 0; j < n - 64; ++j) ASSERT_EQ(y[r * n + j], x[r * n + j]) << "nope dim " << j << " changed";
    for (int i = 0; i < 32; ++i) {
      const double a = bf16_decode(x[r * n + 128 + 2 * i]), b = bf16_decode(x[r * n + 128 + 2 * i + 1]);
      const double c = tab.c[t * 32 + i], s = tab.s[t * 32 + i];
      const double ra = a * c - b * s, rb = a * s + b * c;
      // fp32 steps: two products and one sum, each <= 2^-24 relative of its own magnitude.
      const double ea = 2 * 0x1p-24 * (std::fabs(a * c) + std::fabs(b * s)), eb = 2 * 0x1p-24 * (std::fabs(a * s) + std::fabs(b * c));
      const float ga = bf16_decode(y[r * n + 128 + 2 * i]), gb = bf16_decode(y[r * n + 128 + 2 * i + 1]);
      EXPECT_TRUE(ga >= bf16_round(float(ra - ea)) && ga <= bf16_round(float(ra + ea))) << r << " " << i;
      EXPECT_TRUE(gb >= bf16_round(float(rb - eb)) && gb <= bf16_round(float(rb + eb))) << r << " " << i;
    }
    if (t == 0) {  // identity at position 0, bit for bit
      for (int64_t j = 0; j < n; ++j) EXPECT_EQ(y[r * n + j], x[r * n + j]);
    }
  }
}

TEST(Rope, ForwardThenInverseReturnsTheInputWithinTheRoundingBound) {
  const int64_t P = 70000, n = 64;  // positions past YaRN's original 65536
  for (const RopeParams& p : {kRopeSwa, kRopeCompressed}) {
    const Table tab = make_table(p, P);
    std::mt19937 rng(11);
    std::normal_distribution<float> g;
    const int64_t rows = 500;
    std::vector<uint16_t> x(rows * n);
    std::vector<int32_t> pos(rows);
    for (auto& v : x) v = bf16_encode(std::ldexp(g(rng), int(rng() % 9) - 4));
    for (auto& q : pos) q = int32_t(rng() % P);
    auto y = x;
    rope_apply(y.data(), rows, n, pos.data(), 1, tab.view(32), false);
    rope_apply(y.data(), rows, n, pos.data(), 1, tab.view(32), true);
    int changed = 0;
    for (int64_t r = 0; r < rows; ++r)
      for (int i = 0; i < 32; ++i) {
        const double a = bf16_decode(x[r * n + 2 * i]), b = bf16_decode(x[r * n + 2 * i + 1]);
        const double rad = std::hypot(a, b);
        // Bound per component (bf16 unit roundoff 2^-8: half an ulp is <= 2^-8 of the value): the
        // forward rounding moves the pair by <= 2^-8·rad in norm; the inverse rotation preserves that
        // norm; the final rounding adds <= 2^-8·(|x| + 2^-8·rad); the fp32 steps and table errors (6
        // roundings of 2^-24, table entries within 2^-24 of cos/sin) add < 2^-20·rad. The factor 1.01
        // covers the second-order terms.
        const double ga = bf16_decode(y[r * n + 2 * i]), gb = bf16_decode(y[r * n + 2 * i + 1]);
        ASSERT_LE(std::fabs(ga - a), 0x1p-8 * (rad + std::fabs(a)) * 1.01) << "row " << r << " pair " << i;
        ASSERT_LE(std::fabs(gb - b), 0x1p-8 * (rad + std::fabs(b)) * 1.01) << "row " << r << " pair " << i;
        changed += (ga != a) + (gb != b);
      }
    EXPECT_GT(changed, 0) << "the round trip is not exact in bf16, so the bound is exercised";
  }
}

TEST(Rope, InverseUsesTheConjugate) {
  // At the angle θ, forward maps (1, 0) to (cos θ, sin θ) and inverse to (cos θ, -sin θ).
  const Table tab = make_table(kRopeSwa, 3);
  std::vector<uint16_t> x(64, 0);
  x[0] = bf16_encode(1.0f);
  const int32_t pos = 2;
  auto f = x, b = x;
  rope_apply(f.data(), 1, 64, &pos, 1, tab.view(32), false);
  rope_apply(b.data(), 1, 64, &pos, 1, tab.view(32), true);
  EXPECT_EQ(f[0], bf16_encode(tab.c[64]));
  EXPECT_EQ(f[1], bf16_encode(tab.s[64]));
  EXPECT_EQ(b[0], bf16_encode(tab.c[64]));
  EXPECT_EQ(b[1], bf16_encode(-tab.s[64]));
}

TEST(Rope, RejectsPositionsOutsideTheTable) {
  const Table tab = make_table(kRopeSwa, 4);
  std::vector<uint16_t> x(64, 0);
  const int32_t pos = 4;
  EXPECT_THROW(rope_apply(x.data(), 1, 64, &pos, 1, tab.view(32), false), std::invalid_argument);
}

TEST(Rope, DeterministicAcrossThreads) {
  const int64_t P = 5000;
  omp_set_num_threads(1);
  const Table a = make_table(kRopeCompressed, P);
  omp_set_num_threads(3);
  const Table b = make_table(kRopeCompressed, P);
  EXPECT_EQ(a.c, b.c);
  EXPECT_EQ(a.s, b.s);
  omp_set_num_threads(omp_get_num_procs());
}
