// The counter-based weight generator: an expert's bits do not depend on which other experts are
// generated, in which order, or on the thread count; the per-element functions (what a GPU kernel calls)
// equal the bulk host fill; every value is valid in its storage format; the FP4 code distribution is the
// stated one (exhaustive over all 256 fields); sample moments and the sd-to-1/sqrt(fan_in) ratio of
// generated tensors are within bounds derived from the definitions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "reference/rng.h"
#include "reference/weight_dequant.h"
#include "reference/weights.h"
#include "tests/support/moe_support.h"

using namespace v4;
using namespace v4::testsupport;

namespace {

struct Fp4 {
  std::vector<uint8_t> packed, scale;
};
Fp4 gen_fp4(const WeightId& id, const char* name, int64_t N, int64_t K) {
  Fp4 w{std::vector<uint8_t>(N * K / 2), std::vector<uint8_t>(N * K / 32)};
  weights_fp4(id, name, N, K, w.packed.data(), w.scale.data());
  return w;
}

}  // namespace

TEST(Weights, CounterRngHalvesEqualTheWholeDraw) {
  std::mt19937_64 g(1);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t seed = g(), stream = g(), index = g();
    ASSERT_EQ(rng_at(rng_key(seed, stream), index), rng_u64(seed, stream, index));
  }
}

TEST(Weights, AnExpertIsTheSameAloneOrAmongAllInAnyOrderAndThreadCount) {
  const int64_t E = 12, N = 64, K = 128;
  std::vector<Fp4> alone(E);
  for (int64_t e = 0; e < E; ++e) alone[e] = gen_fp4({7, 5, int32_t(e)}, "ffn.experts.w1", N, K);
  std::vector<int32_t> order(E);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(3));
  for (int threads : {1, 2}) {
    std::vector<Fp4> all(E);
    with_threads(threads, [&] {
      for (int32_t e : order) all[e] = gen_fp4({7, 5, e}, "ffn.experts.w1", N, K);
    });
    for (int64_t e = 0; e < E; ++e) {
      EXPECT_TRUE(same_bits(all[e].packed, alone[e].packed, "expert " + std::to_string(e) + " codes"));
      EXPECT_TRUE(same_bits(all[e].scale, alone[e].scale, "expert " + std::to_string(e) + " scales"));
    }
  }
  // Different experts, layers, tensors and seeds differ.
  const Fp4 a = gen_fp4({7, 5, 0}, "ffn.experts.w1", N, K);
  EXPECT_NE(a.packed, gen_fp4({7, 5, 1}, "ffn.experts.w1", N, K).packed);
  EXPECT_NE(a.packed, gen_fp4({7, 6, 0}, "ffn.experts.w1", N, K).packed);
  EXPECT_NE(a.packed, gen_fp4({7, 5, 0}, "ffn.experts.w3", N, K).packed);
  EXPECT_NE(a.packed, gen_fp4({8, 5, 0}, "ffn.experts.w1", N, K).packed);
}

TEST(Weights, ElementFunctionsEqualTheBulkFill) {
  const WeightId id{11, 3, 42};
  const int64_t N = 33, K = 256;
  const Fp4 w = gen_fp4(id, "ffn.experts.w2", N, K);
  const uint64_t wk = rng_key(id.seed, weight_stream(3, "ffn.experts.w2.weight", 42));
  const uint64_t sk = rng_key(id.seed, weight_stream(3, "ffn.experts.w2.scale", 42));
  for (int64_t p = 0; p < N * K / 2; p += 7) ASSERT_EQ(weight_fp4_byte(wk, p), w.packed[p]) << p;
  for (int64_t b = 0; b < N * K / 32; ++b) ASSERT_EQ(weight_scale_code(sk, b, weight_fp4_exp(K)), w.scale[b]) << b;
  // The element at (n, k) is byte (n·K + k)/2 of the draw stream, low nibble when even: check a few
  // nibbles from the raw 64-bit draws directly (8 elements per draw, byte i for element i).
  for (int64_t i : {int64_t(0), int64_t(5), int64_t(8), int64_t(1001), N * K - 1}) {
    const uint64_t r = rng_at(wk, uint64_t(i / 8));
    const uint8_t want = weight_fp4_code(uint32_t(r >> (8 * (i % 8))) & 0xFF);
    ASSERT_EQ(fp4_e2m1_unpack(w.packed[i / 2], int(i % 2)), want) << i;
  }
}

// Exhaustive over the 256 fields: the magnitude counts per sign are exactly (13, 25, 22, 19, 22, 17, 8, 2),
// so the code value has mean 0 and variance exactly 512/128 = 4.
TEST(Weights, Fp4CodeDistributionIsTheStatedOne) {
  const int want[8] = {13, 25, 22, 19, 22, 17, 8, 2};
  int count[16] = {};
  double m2 = 0;
  for (uint32_t f = 0; f < 256; ++f) {
    const uint8_t c = weight_fp4_code(f);
    ++count[c];
    m2 += double(fp4_e2m1_decode(c)) * fp4_e2m1_decode(c);
    EXPECT_EQ((c >> 3) & 1, (f >> 7) & 1) << "sign follows bit 7";
  }
  for (int m = 0; m < 8; ++m) {
    EXPECT_EQ(count[m], want[m]) << "positive magnitude code " << m;
    EXPECT_EQ(count[8 + m], want[m]) << "negative magnitude code " << m;
  }
  EXPECT_EQ(m2 / 256, 4.0);
}

TEST(Weights, NormalIsTheExactIrwinHallValue) {
  EXPECT_EQ(weight_normal(0), -131070.0f * 0x1p-15f);
  EXPECT_EQ(weight_normal(~0ull), 131070.0f * 0x1p-15f);
  EXPECT_EQ(weight_normal(0x7FFF'7FFF'8000'8000ull), 1.0f * 0x1p-15f * float(0x8000 * 2 + 0x7FFF * 2 - 131070));
}

// Sample moments of generated tensors: with n independent draws of a distribution of sd s and finite
// kurtosis, the sample mean is within 6 s/sqrt(n) of the mean and the sample variance within
// 6 s² sqrt((kurt - 1)/n) of the variance (kurtosis <= 3 for all of these; 6 sd: a false failure has
// probability < 1e-8).
TEST(Weights, MomentsMatchTheDefinitions) {
  const WeightId id{5, 0, -1};
  const int64_t n = 1 << 20;
  auto check = [&](const std::vector<double>& v, double mean, double var, const char* what) {
    double s = 0, s2 = 0;
    for (double x : v) s += x;
    const double m = s / double(v.size());
    for (double x : v) s2 += (x - m) * (x - m);
    const double sv = s2 / double(v.size()), sd = std::sqrt(var);
    EXPECT_LE(std::abs(m - mean), 6 * sd / std::sqrt(double(v.size()))) << what;
    EXPECT_LE(std::abs(sv - var), 6 * var * std::sqrt(2.0 / double(v.size()))) << what;
  };
  std::vector<float> f(n);
  weights_f32(id, "t.f32", n, 0, f.data());
  check(std::vector<double>(f.begin(), f.end()), 0.0, (65536.0 * 65536.0 - 1) / 3.0 * 0x1p-30, "normal");
  std::vector<uint8_t> c8(n), s8(n / (128 * 128));
  weights_fp8(id, "t.fp8", n / 1024, 1024, c8.data(), s8.data());
  std::vector<double> v8(n);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_NE(c8[i] & 0x7F, 0x7F) << "no NaN code";
    v8[i] = fp8_e4m3_decode(c8[i]);
    ASSERT_LE(std::abs(v8[i]), 256.0);
  }
  // e4m3 rounding adds at most (2^-4 · |v|)² / 3 relative variance: 73.9² (1 ± 0.0013).
  check(v8, 0.0, (65536.0 * 65536.0 - 1) / 3.0 * 0x1p-18 * 1.0007, "fp8 codes");
  const Fp4 w = gen_fp4(id, "t.fp4", n / 512, 512);
  std::vector<double> v4v(n);
  for (int64_t i = 0; i < n; ++i) v4v[i] = fp4_e2m1_decode(fp4_e2m1_unpack(w.packed[i / 2], int(i % 2)));
  check(v4v, 0.0, 4.0, "fp4 codes");
  const int e4 = weight_fp4_exp(512);
  for (uint8_t s : w.scale) ASSERT_TRUE(s == 127 + e4 || s == 126 + e4) << int(s);
  for (uint8_t s : s8) ASSERT_TRUE(s == 127 + weight_fp8_exp(1024) || s == 126 + weight_fp8_exp(1024)) << int(s);
}

// Realistic magnitudes: for every V4 fan-in (d and I of Flash and Pro, 4d of mHC, and odd ones) the
// dequantized weight sd times sqrt(fan_in) lies in [1/sqrt(2), sqrt(2)), computed from the definitions
// (FP4: 2·sqrt(5/8)·2^e; FP8: 73.9·sqrt(5/8)·2^e; normal: 1.1547·2^e): the exponent rule picks the e
// with sd²·fan_in in [1/2, 2).
TEST(Weights, ScaleRulesGiveAboutOneOverSqrtFanIn) {
  for (int64_t fan_in : {2048, 3072, 4096, 7168, 16384, 28672, 96, 1}) {
    const double r = std::sqrt(double(fan_in));
    const double fp4 = 2 * std::sqrt(5.0 / 8) * std::ldexp(1.0, weight_fp4_exp(fan_in)) * r;
    const double fp8 = std::sqrt((65536.0 * 65536.0 - 1) / 3) * 0x1p-9 * std::sqrt(5.0 / 8) *
                       std::ldexp(1.0, weight_fp8_exp(fan_in)) * r;
    const double nor = std::sqrt(4.0 / 3) * std::ldexp(1.0, weight_normal_exp(fan_in)) * r;
    for (double x : {fp4, fp8, nor}) {
      EXPECT_GE(x, std::sqrt(0.5) * (1 - 1e-12)) << "fan_in " << fan_in;  // 1e-12: the doubles above round
      EXPECT_LT(x, std::sqrt(2.0)) << "fan_in " << fan_in;
    }
  }
  // Measured on a dequantized FP4 expert matrix [256, 4096].
  const Fp4 w = gen_fp4({1, 2, 3}, "ffn.experts.w1", 256, 4096);
  std::vector<uint16_t> deq(256 * 4096);
  weight_dequant_fp4(w.packed.data(), w.scale.data(), 256, 4096, deq.data());
  double s2 = 0;
  for (uint16_t c : deq) s2 += bf(c) * bf(c);
  const double ratio = std::sqrt(s2 / double(deq.size())) * 64.0;
  EXPECT_NEAR(ratio, 2 * std::sqrt(5.0 / 8) * std::ldexp(1.0, weight_fp4_exp(4096)) * 64.0, 0.02);
}

TEST(Weights, HashTableRowsAreDistinctExperts) {
  const int64_t V = 5000, E = 256;
  const int k = 6;
  std::vector<int32_t> t(V * k), t2(V * k);
  weights_tid2eid({9, 1, -1}, V, E, k, t.data());
  with_threads(1, [&] { weights_tid2eid({9, 1, -1}, V, E, k, t2.data()); });
  EXPECT_EQ(t, t2);
  std::vector<int64_t> load(E, 0);
  for (int64_t v = 0; v < V; ++v) {
    std::set<int32_t> row(t.begin() + v * k, t.begin() + (v + 1) * k);
    ASSERT_EQ(row.size(), size_t(k)) << "row " << v;
    for (int32_t e : row) {
      ASSERT_GE(e, 0);
      ASSERT_LT(e, E);
      ++load[e];
    }
  }
  // Uniform load: each expert's count is Binomial(V·k, 1/E) (mean 117.2, sd 10.8); 6 sd.
  for (int64_t c : load) EXPECT_LE(std::abs(double(c) - V * k / double(E)), 6 * 10.8);
  // A small E forces the retry path: still distinct.
  std::vector<int32_t> s(50 * 6);
  weights_tid2eid({9, 1, -1}, 50, 6, 6, s.data());
  for (int64_t v = 0; v < 50; ++v) EXPECT_EQ(std::set<int32_t>(s.begin() + v * 6, s.begin() + v * 6 + 6).size(), 6u);
}
