// GEMM recipes (reference/gemm.h), the Hopper wgmma model (reference/wgmma_model.h) and the exact
// accumulator (reference/exact_acc.h) against expected values derived independently here:
//   - element values from their format definitions (integer formulas, not reference/formats.h; only the
//     packed e2m1 addressing is read through fp4_e2m1_get, which test_formats pins against literal bytes);
//   - FP8/FP4 block sums as __int128 of integer products (exact), rounded to fp32 through long double
//     (the integer is < 2^43 and long double keeps 64 bits, so the one rounding is the x87 long double ->
//     float conversion, RNE), the IEEE std::fma promotion the recipe prescribes, and bf16 by a search for
//     the nearest bf16 value (ties to the even code);
//   - a straightforward long double re-implementation of the MMA-Sim wgmma model (truncl on scaled terms);
//   - hand-derived cases with known answers (truncation vs RN, fma vs mul-then-add, cancellation).
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "reference/exact_acc.h"
#include "reference/formats.h"
#include "reference/gemm.h"
#include "reference/wgmma_model.h"

using namespace v4;

namespace {

using i128 = __int128;

// ---------------------------------------------------------------------------------------------
// Independent element values.
int64_t e4m3_q9(uint8_t c) {  // value · 2^9 (an integer); c must not be a NaN code
  const int e = (c >> 3) & 15, m = c & 7;
  const int64_t q = e == 0 ? m : int64_t(8 + m) << (e - 1);
  return (c & 0x80) ? -q : q;
}
int64_t e2m1_q1(uint8_t nibble) {  // value · 2
  static const int64_t v[8] = {0, 1, 2, 3, 4, 6, 8, 12};
  return (nibble & 8) ? -v[nibble & 7] : v[nibble & 7];
}
long double e4m3_value(uint8_t c) { return std::ldexp((long double)e4m3_q9(c), -9); }
long double pow2l(int e) { return std::ldexp(1.0L, e); }
float ue8m0_value(uint8_t c) { return float(pow2l(int(c) - 127)); }  // c < 255

float bits_f32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint32_t f32_u(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Nearest bf16 to a finite float by search over the ordered magnitude codes 0x0000..0x7F80 (ties to the
// even code; beyond the largest finite value the search lands on inf as RNE overflow does).
uint16_t nearest_bf16(float x) {
  if (std::isnan(x)) return 0x7FFF;
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const long double ax = std::fabs((long double)x);
  auto value = [](uint32_t code) { return (long double)bits_f32(code << 16); };
  const uint32_t max_finite = 0x7F7F;
  if (ax >= value(max_finite)) {  // RNE overflow: from max + half an ulp (2^119) up, inf
    return uint16_t(sign | (ax >= value(max_finite) + pow2l(119) ? 0x7F80 : max_finite));
  }
  uint32_t lo = 0, hi = max_finite;  // value(lo) <= ax < value(hi)
  while (hi - lo > 1) {
    const uint32_t mid = (lo + hi) / 2;
    (value(mid) <= ax ? lo : hi) = mid;
  }
  const long double dlo = ax - value(lo), dhi = value(hi) - ax;
  return uint16_t(sign | (dlo < dhi ? lo : dhi < dlo ? hi : (lo % 2 == 0 ? lo : hi)));
}

// Exact i128 · 2^unit_exp rounded RNE to p significant bits (normal range only), as a float.
float round_i128(i128 v, int unit_exp, int p) {
  if (v == 0) return 0.0f;
  const bool neg = v < 0;
  unsigned __int128 m = neg ? (unsigned __int128)(-v) : (unsigned __int128)v;
  int msb = 127;
  while (!((m >> msb) & 1)) --msb;
  int drop = msb + 1 - p;
  if (drop > 0) {
    const unsigned __int128 rem = m & ((((unsigned __int128)1) << drop) - 1), half = ((unsigned __int128)1) << (drop - 1);
    m >>= drop;
    if (rem > half || (rem == half && (m & 1))) ++m;
  } else {
    drop = 0;
  }
  const long double r = std::ldexp((long double)(uint64_t)m, unit_exp + drop);
  return float(neg ? -r : r);  // exact: r has <= p significant bits
}

// ---------------------------------------------------------------------------------------------
// Straightforward long double MMA-Sim model of one instruction: d = c + Σ a_i b_i, products exact,
// terms truncated toward zero at F fraction bits below the largest exponent (zero terms take no part),
// result normalised and truncated to O fraction bits in fp32's exponent range.
int align_exp(long double x, int emin) { return std::max(int(std::ilogb(x)), emin); }

float ref_wgmma(const std::vector<long double>& a, const std::vector<long double>& b, float c, int F, int O, int emin) {
  bool any = false;
  int emax = 0;
  auto see = [&](int e) {
    emax = any ? std::max(emax, e) : e;
    any = true;
  };
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != 0 && b[i] != 0) see(align_exp(a[i], emin) + align_exp(b[i], emin));
  if (c != 0) see(align_exp(c, -126));
  if (!any) return 0.0f;
  const int lsb = emax - F;
  long double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::trunc(std::ldexp(a[i] * b[i], -lsb));
  s += std::trunc(std::ldexp((long double)c, -lsb));
  if (s == 0) return 0.0f;
  const int e = int(std::ilogb(s)) + lsb;
  const int out_lsb = std::max(e, -126) - O;
  const long double q = std::trunc(std::ldexp(s, lsb - out_lsb));
  const long double v = std::ldexp(q, out_lsb);
  return e > 127 ? (s < 0 ? -INFINITY : INFINITY) : float(v);
}

// ---------------------------------------------------------------------------------------------
// Random inputs.
std::vector<uint8_t> random_e4m3(std::mt19937_64& rng, size_t n, int exp_lo = 0, int exp_hi = 15) {
  std::vector<uint8_t> v(n);
  for (auto& x : v) {
    uint8_t c;
    do {
      c = uint8_t(((rng() & 1) << 7) | ((exp_lo + rng() % (exp_hi - exp_lo + 1)) << 3) | (rng() & 7));
    } while ((c & 0x7F) == 0x7F);
    x = c;
  }
  return v;
}
std::vector<uint8_t> random_codes(std::mt19937_64& rng, size_t n, int lo, int hi) {
  std::vector<uint8_t> v(n);
  for (auto& x : v) x = uint8_t(lo + rng() % (hi - lo + 1));
  return v;
}

struct Fp8Problem {
  int64_t M, N, K;
  std::vector<uint8_t> a, sa, b, sb;
};
Fp8Problem make_fp8(std::mt19937_64& rng, int64_t M, int64_t N, int64_t K, int exp_lo = 0, int exp_hi = 15) {
  Fp8Problem p{M, N, K, random_e4m3(rng, size_t(M * K), exp_lo, exp_hi), random_codes(rng, size_t(M * K / 128), 110, 140),
               random_e4m3(rng, size_t(N * K), exp_lo, exp_hi),
               random_codes(rng, size_t((N + 127) / 128 * (K / 128)), 110, 140)};
  return p;
}

// Canonical FP8, independently: block sums in __int128, fp32 via long double, std::fma promotion.
float ref_fp8_canonical(const Fp8Problem& p, int64_t m, int64_t n) {
  const int64_t KB = p.K / 128;
  float acc = 0.0f;
  for (int64_t kb = 0; kb < KB; ++kb) {
    i128 s = 0;
    for (int64_t k = kb * 128; k < kb * 128 + 128; ++k) s += i128(e4m3_q9(p.a[m * p.K + k])) * e4m3_q9(p.b[n * p.K + k]);
    const float part = float(std::ldexp((long double)(int64_t)s, -18));
    const float scale = ue8m0_value(p.sa[m * KB + kb]) * ue8m0_value(p.sb[(n / 128) * KB + kb]);
    acc = std::fma(part, scale, acc);
  }
  return acc;
}

// The exact dot product of an FP8 problem as i128 · 2^unit_exp (scales within ±2^20 of 1 here).
i128 ref_fp8_exact(const Fp8Problem& p, int64_t m, int64_t n, int* unit_exp) {
  const int64_t KB = p.K / 128;
  const int lo = -18 + 2 * (110 - 127);  // smallest scale exponent of make_fp8's codes (110..140): common unit
  i128 total = 0;
  for (int64_t kb = 0; kb < KB; ++kb) {
    i128 s = 0;
    for (int64_t k = kb * 128; k < kb * 128 + 128; ++k) s += i128(e4m3_q9(p.a[m * p.K + k])) * e4m3_q9(p.b[n * p.K + k]);
    const int e = -18 + (int(p.sa[m * KB + kb]) - 127) + (int(p.sb[(n / 128) * KB + kb]) - 127);
    total += s << (e - lo);  // |s| < 2^43, shift <= 60: no overflow
  }
  *unit_exp = lo;
  return total;
}

void expect_bits_eq(float want, float got, const std::string& where) {
  EXPECT_EQ(f32_u(want), f32_u(got)) << where << ": want " << want << " (0x" << std::hex << f32_u(want) << ") got "
                                     << got << " (0x" << f32_u(got) << ")" << std::dec;
}

}  // namespace

// =============================================================================================
TEST(GemmRecipe, NamesRoundTrip) {
  for (Recipe r : {Recipe::canonical, Recipe::hopper, Recipe::exact}) EXPECT_EQ(recipe_parse(recipe_name(r)), r);
  EXPECT_EQ(std::string(recipe_name(Recipe::canonical)), "canonical");
  EXPECT_FALSE(recipe_parse("Canonical").has_value());
  EXPECT_FALSE(recipe_parse("").has_value());
}

TEST(GemmArgs, KMustBeAMultipleOf128ForFp8AndFp4) {
  std::vector<uint8_t> a(64 * 100), s(64), b(64 * 100);
  std::vector<uint16_t> c(64 * 64);
  try {
    fp8_gemm(a.data(), s.data(), b.data(), s.data(), 64, 64, 100, Recipe::canonical, c.data());
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("K=100"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("128"), std::string::npos) << e.what();
  }
  EXPECT_THROW(fp4_gemm(a.data(), s.data(), b.data(), s.data(), 64, 64, 96, Recipe::exact, c.data()),
               std::invalid_argument);
  EXPECT_THROW(fp8_gemm(nullptr, s.data(), b.data(), s.data(), 64, 64, 128, Recipe::canonical, c.data()),
               std::invalid_argument);
  EXPECT_THROW(hopper_fp8_gemm_f32(a.data(), b.data(), 4, 4, 128, 48, nullptr, nullptr), std::invalid_argument);
  // Empty shapes are fine and touch nothing; K = 0 gives +0 in every recipe.
  EXPECT_NO_THROW(fp8_gemm(nullptr, nullptr, nullptr, nullptr, 0, 0, 128, Recipe::canonical, nullptr));
  for (Recipe r : {Recipe::canonical, Recipe::hopper, Recipe::exact}) {
    uint16_t o16 = 0xFFFF;
    fp8_gemm(nullptr, nullptr, nullptr, nullptr, 1, 1, 0, r, &o16);
    EXPECT_EQ(o16, 0x0000) << recipe_name(r);
    o16 = 0xFFFF;
    bf16_gemm(nullptr, nullptr, 1, 1, 0, r, &o16);
    EXPECT_EQ(o16, 0x0000) << recipe_name(r);
    float o32 = -1.0f;
    f32_gemm(nullptr, nullptr, 1, 1, 0, r, &o32);
    EXPECT_EQ(f32_u(o32), 0u) << recipe_name(r);
  }
}

// ---------------------------------------------------------------------------------------------
// Canonical FP8 against the independent implementation, fp32 accumulator and bf16 output.
TEST(GemmFp8, CanonicalMatchesIndependentBlockSums) {
  std::mt19937_64 rng(1);
  struct Shape {
    int64_t M, N, K;
    int lo, hi;
  };
  for (const Shape sh : {Shape{5, 37, 128, 0, 15}, Shape{3, 129, 384, 0, 15}, Shape{67, 37, 256, 5, 9},
                         Shape{9, 131, 512, 0, 3}}) {
    const Fp8Problem p = make_fp8(rng, sh.M, sh.N, sh.K, sh.lo, sh.hi);
    std::vector<float> acc(size_t(p.M * p.N));
    std::vector<uint16_t> out(size_t(p.M * p.N));
    fp8_gemm_f32acc(p.a.data(), p.sa.data(), p.b.data(), p.sb.data(), p.M, p.N, p.K, Recipe::canonical, acc.data());
    fp8_gemm(p.a.data(), p.sa.data(), p.b.data(), p.sb.data(), p.M, p.N, p.K, Recipe::canonical, out.data());
    for (int64_t m = 0; m < p.M; ++m)
      for (int64_t n = 0; n < p.N; ++n) {
        const float want = ref_fp8_canonical(p, m, n);
        const std::string where = "M=" + std::to_string(p.M) + " N=" + std::to_string(p.N) + " K=" +
                                  std::to_string(p.K) + " at (" + std::to_string(m) + "," + std::to_string(n) + ")";
        expect_bits_eq(want, acc[m * p.N + n], where);
        ASSERT_EQ(nearest_bf16(want), out[m * p.N + n]) << where;
      }
  }
}

TEST(GemmFp8, ExactMatchesIndependentIntegerSum) {
  std::mt19937_64 rng(2);
  const Fp8Problem p = make_fp8(rng, 7, 37, 512);
  std::vector<float> acc(size_t(p.M * p.N));
  std::vector<uint16_t> out(size_t(p.M * p.N));
  fp8_gemm_f32acc(p.a.data(), p.sa.data(), p.b.data(), p.sb.data(), p.M, p.N, p.K, Recipe::exact, acc.data());
  fp8_gemm(p.a.data(), p.sa.data(), p.b.data(), p.sb.data(), p.M, p.N, p.K, Recipe::exact, out.data());
  for (int64_t m = 0; m < p.M; ++m)
    for (int64_t n = 0; n < p.N; ++n) {
      int unit = 0;
      const i128 v = ref_fp8_exact(p, m, n, &unit);
      expect_bits_eq(round_i128(v, unit, 24), acc[m * p.N + n], "f32 (" + std::to_string(m) + "," + std::to_string(n) + ")");
      const float b = round_i128(v, unit, 8);  // directly to bf16 precision, one rounding
      ASSERT_EQ(f32_u(b) >> 16, out[m * p.N + n]) << m << "," << n;
      ASSERT_EQ(f32_u(b) & 0xFFFF, 0u);
    }
}

// Cancellation with known sums: blocks 2^P, 1, -2^P (via scales). P = 20 all recipes give 1; P = 24
// the fp32 promotion rounds 2^24 + 1 to 2^24 (tie to even), so canonical and hopper give 0, exact 1.
TEST(GemmFp8, ExactVsCanonicalOnKnownCancellation) {
  for (int P : {20, 24}) {
    const int64_t K = 384;
    std::vector<uint8_t> a(K, 0), b(K, 0), sa(3), sb(3);
    a[0] = b[0] = 0x78;        // 256 · 256 = 2^16
    a[128] = b[128] = 0x38;    // 1 · 1
    a[256] = 0x78;
    b[256] = 0xF8;             // 256 · -256
    sa[0] = sa[2] = uint8_t(127 + P - 16);
    sa[1] = 127;
    sb[0] = sb[1] = sb[2] = 127;
    for (Recipe r : {Recipe::canonical, Recipe::hopper, Recipe::exact}) {
      float acc;
      uint16_t out;
      fp8_gemm_f32acc(a.data(), sa.data(), b.data(), sb.data(), 1, 1, K, r, &acc);
      fp8_gemm(a.data(), sa.data(), b.data(), sb.data(), 1, 1, K, r, &out);
      const float want = (P == 24 && r != Recipe::exact) ? 0.0f : 1.0f;
      expect_bits_eq(want, acc, std::string(recipe_name(r)) + " P=" + std::to_string(P));
      EXPECT_EQ(out, nearest_bf16(want));
    }
  }
}

// The promotion is one fused multiply-add: block 0 leaves acc = 2^-126 + 2^-149 (odd last bit), block 1
// adds exactly 2^-150 (half an ulp). fma rounds the tie to even: 2^-126 + 2^-148. Multiply-then-add would
// first round 2^-150 to 0 and keep 2^-126 + 2^-149.
TEST(GemmFp8, PromotionIsOneFusedMultiplyAdd) {
  const int64_t K = 256;
  std::vector<uint8_t> a(K, 0), b(K, 0);
  a[0] = 0x48;  // 4
  b[0] = 0x50;  // 8: 32
  a[1] = b[1] = 0x01;  // 2^-9 · 2^-9 = 2^-18 -> block 0 partial 32 + 2^-18 = (2^23 + 1)·2^-18
  a[128] = b[128] = 0x01;  // block 1 partial 2^-18
  const std::vector<uint8_t> sa = {0, 0};                  // 2^-127, 2^-127
  const std::vector<uint8_t> sb = {127 - 4, 127 - 5};      // 2^-4, 2^-5: scales 2^-131, 2^-132 (exact fp32 subnormals)
  float acc;
  fp8_gemm_f32acc(a.data(), sa.data(), b.data(), sb.data(), 1, 1, K, Recipe::canonical, &acc);
  expect_bits_eq(float(pow2l(-126) + pow2l(-148)), acc, "fma promotion");
  // hopper: the wgmma window below 4·8 = 2^5 ends at 2^-8, so block 0 gives 32 and acc = 2^-126 (even);
  // the half-ulp 2^-150 of block 1 then ties to it.
  fp8_gemm_f32acc(a.data(), sa.data(), b.data(), sb.data(), 1, 1, K, Recipe::hopper, &acc);
  expect_bits_eq(float(pow2l(-126)), acc, "hopper promotion");
  fp8_gemm_f32acc(a.data(), sa.data(), b.data(), sb.data(), 1, 1, K, Recipe::exact, &acc);
  expect_bits_eq(float(pow2l(-126) + pow2l(-148)), acc, "exact (2^-126 + 2^-149 + 2^-150 rounds up)");
}

// Scale products that leave fp32's range: 2^-254 rounds to +0 (the partial is dropped), 2^254 -> inf
// (and 0 · inf = NaN when the partial is zero). The exact recipe keeps the exact value.
TEST(GemmFp8, ScaleProductOutOfRange) {
  const int64_t K = 128;
  std::vector<uint8_t> a(K, 0), b(K, 0);
  a[0] = b[0] = 0x38;  // partial 1
  uint8_t lo = 0, hi = 254;
  float acc;
  uint16_t out;
  fp8_gemm_f32acc(a.data(), &lo, b.data(), &lo, 1, 1, K, Recipe::canonical, &acc);
  expect_bits_eq(0.0f, acc, "2^-254 scale");
  fp8_gemm_f32acc(a.data(), &hi, b.data(), &hi, 1, 1, K, Recipe::canonical, &acc);
  expect_bits_eq(INFINITY, acc, "2^254 scale");
  fp8_gemm(a.data(), &hi, b.data(), &hi, 1, 1, K, Recipe::canonical, &out);
  EXPECT_EQ(out, 0x7F80);
  fp8_gemm_f32acc(a.data(), &hi, b.data(), &hi, 1, 1, K, Recipe::exact, &acc);
  expect_bits_eq(INFINITY, acc, "exact 2^254 overflows fp32");
  std::vector<uint8_t> z(K, 0);
  fp8_gemm(z.data(), &hi, b.data(), &hi, 1, 1, K, Recipe::canonical, &out);
  EXPECT_EQ(out, 0x7FFF) << "0 * inf";
  fp8_gemm(z.data(), &hi, b.data(), &hi, 1, 1, K, Recipe::exact, &out);
  EXPECT_EQ(out, 0x0000) << "exact zero";
}

TEST(GemmFp8, NanInputsGiveCanonicalNan) {
  const int64_t K = 128;
  std::vector<uint8_t> a(K, 0x38), b(K, 0x38);
  a[5] = 0xFF;
  uint8_t s = 127, nan_scale = 255;
  for (Recipe r : {Recipe::canonical, Recipe::hopper, Recipe::exact}) {
    uint16_t out;
    fp8_gemm(a.data(), &s, b.data(), &s, 1, 1, K, r, &out);
    EXPECT_EQ(out, 0x7FFF) << recipe_name(r);
    std::vector<uint8_t> a2(K, 0x38);
    fp8_gemm(a2.data(), &nan_scale, b.data(), &s, 1, 1, K, r, &out);
    EXPECT_EQ(out, 0x7FFF) << recipe_name(r) << " NaN scale";
  }
}

// ---------------------------------------------------------------------------------------------
// FP4 × FP8.
TEST(GemmFp4, CanonicalMatchesIndependentBlockSums) {
  std::mt19937_64 rng(3);
  for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{5, 37, 128}, {67, 129, 256}, {2, 131, 384}}) {
    const auto a = random_e4m3(rng, size_t(M * K));
    const auto sa = random_codes(rng, size_t(M * K / 128), 115, 135);
    const auto b = random_codes(rng, size_t(N * K / 2), 0, 255);
    const auto sb = random_codes(rng, size_t(N * K / 32), 115, 135);
    std::vector<float> acc(size_t(M * N));
    std::vector<uint16_t> out(size_t(M * N));
    fp4_gemm_f32acc(a.data(), sa.data(), b.data(), sb.data(), M, N, K, Recipe::canonical, acc.data());
    fp4_gemm(a.data(), sa.data(), b.data(), sb.data(), M, N, K, Recipe::canonical, out.data());
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        float want = 0.0f;
        for (int64_t kb = 0; kb < K / 32; ++kb) {
          i128 s = 0;
          for (int64_t k = kb * 32; k < kb * 32 + 32; ++k) {
            s += i128(e4m3_q9(a[m * K + k])) * e2m1_q1(fp4_e2m1_get(b.data() + n * fp4_e2m1_row_bytes(K), k));
          }
          const float part = float(std::ldexp((long double)(int64_t)s, -10));
          const float t = part * ue8m0_value(sa[m * (K / 128) + kb / 4]);
          want = std::fma(t, ue8m0_value(sb[n * (K / 32) + kb]), want);
        }
        ASSERT_EQ(f32_u(want), f32_u(acc[m * N + n])) << M << "x" << N << "x" << K << " at " << m << "," << n;
        ASSERT_EQ(nearest_bf16(want), out[m * N + n]);
      }
  }
}

// (p·sa)·sb with the last multiply-add fused: as the FP8 case, block 0 leaves 2^-126 + 2^-149, block 1
// adds a product of exactly 2^-150 that only an fma keeps.
TEST(GemmFp4, PromotionIsFusedAfterTheActivationScale) {
  const int64_t K = 128;
  std::vector<uint8_t> a(K, 0), b(K / 2, 0);
  // Block 0: 3 · (448·6) + 32·4 + 2^-9·0.5 = 8192 + 2^-10 = (2^23 + 1)·2^-10 (exact in fp32).
  a[0] = a[1] = a[2] = 0x7E;  // 448
  a[3] = 0x60;                // 32
  a[4] = 0x01;                // 2^-9
  b[0] = 0x77;                // elements 0, 1: 6, 6 (e2m1 code 7)
  b[1] = 0x67;                // element 2: 6, element 3: 4 (code 6)
  b[2] = 0x01;                // element 4: 0.5 (code 1)
  // Block 1 (k = 32): 2^-9 · 0.5 = 2^-10.
  a[32] = 0x01;
  b[16] = 0x01;
  long double p0 = 0;
  for (int k = 0; k < 32; ++k) {
    p0 += e4m3_value(a[k]) * (long double)e2m1_q1(fp4_e2m1_get(b.data(), k)) / 2;
  }
  ASSERT_EQ(p0, 8192.0L + pow2l(-10)) << "test construction";
  // sa = 2^-127: t0 = p0·sa = (2^23 + 1)·2^-137, sb0 = 2^-12 -> 2^-126 + 2^-149; t1 = 2^-137, sb1 = 2^-13
  // -> 2^-150. Blocks 2, 3 are zero.
  const std::vector<uint8_t> sa = {0}, sb = {127 - 12, 127 - 13, 127, 127};
  float acc;
  fp4_gemm_f32acc(a.data(), sa.data(), b.data(), sb.data(), 1, 1, K, Recipe::canonical, &acc);
  expect_bits_eq(float(pow2l(-126) + pow2l(-148)), acc, "fp4 fused promotion");
  fp4_gemm_f32acc(a.data(), sa.data(), b.data(), sb.data(), 1, 1, K, Recipe::exact, &acc);
  expect_bits_eq(float(pow2l(-126) + pow2l(-148)), acc, "fp4 exact");
}

TEST(GemmFp4, ExactAndHopperAgreeWithIndependentModels) {
  std::mt19937_64 rng(4);
  const int64_t M = 3, N = 37, K = 256;
  const auto a = random_e4m3(rng, size_t(M * K));
  const auto sa = random_codes(rng, size_t(M * K / 128), 120, 134);
  const auto b = random_codes(rng, size_t(N * K / 2), 0, 255);
  const auto sb = random_codes(rng, size_t(N * K / 32), 120, 134);
  std::vector<float> ex(size_t(M * N)), hp(size_t(M * N));
  fp4_gemm_f32acc(a.data(), sa.data(), b.data(), sb.data(), M, N, K, Recipe::exact, ex.data());
  fp4_gemm_f32acc(a.data(), sa.data(), b.data(), sb.data(), M, N, K, Recipe::hopper, hp.data());
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      i128 total = 0;
      float hop = 0.0f;
      const int lo = -10 + 2 * (120 - 127);  // smallest scale exponent of the codes drawn (120..134)
      for (int64_t kb = 0; kb < K / 32; ++kb) {
        i128 s = 0;
        std::vector<long double> av, bv;
        for (int64_t k = kb * 32; k < kb * 32 + 32; ++k) {
          const uint8_t nib = fp4_e2m1_get(b.data() + n * fp4_e2m1_row_bytes(K), k);
          s += i128(e4m3_q9(a[m * K + k])) * e2m1_q1(nib);
          av.push_back(e4m3_value(a[m * K + k]));
          bv.push_back((long double)e2m1_q1(nib) / 2);
        }
        const int e = -10 + (int(sa[m * (K / 128) + kb / 4]) - 127) + (int(sb[n * (K / 32) + kb]) - 127);
        total += s << (e - lo);
        const float d = ref_wgmma(av, bv, 0.0f, 13, 13, -6);
        hop = std::fma(d * ue8m0_value(sa[m * (K / 128) + kb / 4]), ue8m0_value(sb[n * (K / 32) + kb]), hop);
      }
      expect_bits_eq(round_i128(total, lo, 24), ex[m * N + n], "fp4 exact");
      expect_bits_eq(hop, hp[m * N + n], "fp4 hopper");
    }
}

// ---------------------------------------------------------------------------------------------
// Hopper wgmma model: hand-derived cases, then the independent model on random data.
namespace {
float hopper_dot(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, int64_t promote_every = 0) {
  float out;
  hopper_fp8_gemm_f32(a.data(), b.data(), 1, 1, int64_t(a.size()), promote_every, nullptr, &out);
  return out;
}
}  // namespace

TEST(WgmmaModel, TinyProductsBelowTheWindowAreLost) {
  // 1·1 + 31 · (2^-7 · 2^-7 = 2^-14): the window ends at 2^-13, so every tiny product truncates to 0.
  std::vector<uint8_t> a(32, 0x04), b(32, 0x04);  // 0x04 = 4·2^-9 = 2^-7 (subnormal)
  a[0] = b[0] = 0x38;
  EXPECT_EQ(hopper_dot(a, b), 1.0f);
  float exact;
  const uint8_t s = 127;
  std::vector<uint8_t> a128(a), b128(b);
  a128.resize(128, 0);
  b128.resize(128, 0);
  fp8_gemm_f32acc(a128.data(), &s, b128.data(), &s, 1, 1, 128, Recipe::canonical, &exact);
  EXPECT_EQ(exact, 1.0f + 31.0f * float(pow2l(-14))) << "canonical keeps them";
}

TEST(WgmmaModel, ChainedAccumulatorLosesBits) {
  // Instruction 1: 1 + 2^-6·2^-7 = 1 + 2^-13 (13 fraction bits: kept). Instruction 2 adds 4·4 = 16, the
  // new largest exponent is 4, so the accumulator is truncated at 2^-9: 1 + 2^-13 -> 1. Result 17.
  std::vector<uint8_t> a(64, 0), b(64, 0);
  a[0] = b[0] = 0x38;
  a[1] = 0x08;  // 2^-6
  b[1] = 0x04;  // 2^-7
  a[32] = b[32] = 0x48;  // 4
  std::vector<uint8_t> a1(a.begin(), a.begin() + 32), b1(b.begin(), b.begin() + 32);
  EXPECT_EQ(hopper_dot(a1, b1), 1.0f + float(pow2l(-13)));
  EXPECT_EQ(hopper_dot(a, b), 17.0f);
  EXPECT_EQ(hopper_dot(a, b, 32), 17.0f + float(pow2l(-13))) << "promotion every 32 keeps the bit";
}

TEST(WgmmaModel, TruncationIsTowardZeroAndOutputIsRz) {
  // 1 + (-1.5·2^-6)·2^-7 = 1 - 1.5·2^-13: the term truncates toward zero to -2^-13 (floor would be -2·2^-13).
  std::vector<uint8_t> a(32, 0), b(32, 0);
  a[0] = b[0] = 0x38;
  a[1] = 0x8C;  // -1.5·2^-6
  b[1] = 0x04;  // 2^-7
  EXPECT_EQ(hopper_dot(a, b), 1.0f - float(pow2l(-13)));
  // 2 · 1.875² + 2^-13 = 7.03125 + 2^-13: exact after alignment, but the sum's exponent is 2, so the RZ
  // output keeps 13 fraction bits at 2^2 (units 2^-11) and drops 2^-13.
  std::vector<uint8_t> c(32, 0), d(32, 0);
  c[0] = d[0] = c[1] = d[1] = 0x3F;  // 1.875
  c[2] = 0x08;
  d[2] = 0x04;
  EXPECT_EQ(hopper_dot(c, d), 7.03125f);
  // Negative sums truncate toward zero too.
  for (auto& x : c) x = x ? uint8_t(x ^ 0x80) : x;
  EXPECT_EQ(hopper_dot(c, d), -7.03125f);
}

TEST(WgmmaModel, SpecialsFollowIeeeOnTheExactSum) {
  std::vector<WgmmaOperand> a(16), b(16);
  for (int i = 0; i < 16; ++i) a[i] = b[i] = wgmma_operand(1.0f, 7, -126);
  EXPECT_EQ(wgmma_fused_dot_add(a.data(), b.data(), 16, INFINITY, kWgmmaBF16), INFINITY);
  a[3] = wgmma_operand(-INFINITY, 7, -126);
  EXPECT_EQ(wgmma_fused_dot_add(a.data(), b.data(), 16, 0.0f, kWgmmaBF16), -INFINITY);
  EXPECT_EQ(f32_u(wgmma_fused_dot_add(a.data(), b.data(), 16, INFINITY, kWgmmaBF16)), 0x7FFFFFFFu) << "inf - inf";
  b[3] = wgmma_operand(0.0f, 7, -126);
  EXPECT_EQ(f32_u(wgmma_fused_dot_add(a.data(), b.data(), 16, 0.0f, kWgmmaBF16)), 0x7FFFFFFFu) << "0 * inf";
  a[3] = wgmma_operand(NAN, 7, -126);
  EXPECT_EQ(f32_u(wgmma_fused_dot_add(a.data(), b.data(), 16, 0.0f, kWgmmaBF16)), 0x7FFFFFFFu);
  // Overflow of the normalised sum: 16 · (2^127)² -> +inf; a zero sum is +0 even from -0 inputs.
  for (int i = 0; i < 16; ++i) a[i] = b[i] = wgmma_operand(bits_f32(0x7F000000u), 7, -126);
  EXPECT_EQ(wgmma_fused_dot_add(a.data(), b.data(), 16, 0.0f, kWgmmaBF16), INFINITY);
  for (int i = 0; i < 16; ++i) a[i] = wgmma_operand(-0.0f, 7, -126);
  EXPECT_EQ(f32_u(wgmma_fused_dot_add(a.data(), b.data(), 16, -0.0f, kWgmmaBF16)), 0u);
}

TEST(WgmmaModel, Fp8MatchesIndependentModelOnRandomData) {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 3; ++trial) {
    const int64_t M = 5, N = 37, K = 256;
    const int lo = trial == 1 ? 5 : 0, hi = trial == 1 ? 9 : 15;
    const auto a = random_e4m3(rng, size_t(M * K), lo, hi), b = random_e4m3(rng, size_t(N * K), lo, hi);
    std::vector<float> c_init(size_t(M * N));
    for (auto& x : c_init) x = float(std::normal_distribution<double>(0, 1)(rng) * std::ldexp(1.0, int(rng() % 30) - 15));
    for (int64_t promote : {0, 32, 128}) {
      for (bool with_c : {false, true}) {
        std::vector<float> got(size_t(M * N));
        hopper_fp8_gemm_f32(a.data(), b.data(), M, N, K, promote, with_c ? c_init.data() : nullptr, got.data());
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n) {
            const float init = with_c ? c_init[m * N + n] : 0.0f;
            float acc = init, d = promote ? 0.0f : init;
            for (int64_t k0 = 0; k0 < K; k0 += 32) {
              std::vector<long double> av, bv;
              for (int64_t k = k0; k < k0 + 32; ++k) {
                av.push_back(e4m3_value(a[m * K + k]));
                bv.push_back(e4m3_value(b[n * K + k]));
              }
              d = ref_wgmma(av, bv, d, 13, 13, -6);
              if (promote && (k0 + 32) % promote == 0) {
                acc = acc + d;
                d = 0.0f;
              }
            }
            const float want = promote ? acc : d;
            ASSERT_EQ(f32_u(want), f32_u(got[m * N + n]))
                << "trial " << trial << " promote " << promote << " c " << with_c << " at " << m << "," << n;
          }
      }
    }
    // The hopper recipe = promotion every 128 with fma(d, fp32(sa·sb), acc).
    Fp8Problem p{M, N, K, a, random_codes(rng, size_t(M * K / 128), 120, 134), b,
                 random_codes(rng, size_t((N + 127) / 128 * K / 128), 120, 134)};
    std::vector<float> got(size_t(M * N));
    fp8_gemm_f32acc(p.a.data(), p.sa.data(), p.b.data(), p.sb.data(), M, N, K, Recipe::hopper, got.data());
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        float acc = 0.0f;
        for (int64_t kb = 0; kb < K / 128; ++kb) {
          float d = 0.0f;
          for (int64_t k0 = kb * 128; k0 < kb * 128 + 128; k0 += 32) {
            std::vector<long double> av, bv;
            for (int64_t k = k0; k < k0 + 32; ++k) {
              av.push_back(e4m3_value(a[m * K + k]));
              bv.push_back(e4m3_value(b[n * K + k]));
            }
            d = ref_wgmma(av, bv, d, 13, 13, -6);
          }
          acc = std::fma(d, ue8m0_value(p.sa[m * (K / 128) + kb]) * ue8m0_value(p.sb[(n / 128) * (K / 128) + kb]), acc);
        }
        ASSERT_EQ(f32_u(acc), f32_u(got[m * N + n])) << "recipe at " << m << "," << n;
      }
  }
}

TEST(WgmmaModel, Bf16MatchesIndependentModelOnRandomData) {
  std::mt19937_64 rng(6);
  const int64_t M = 3, N = 37, K = 40;  // K % 16 != 0: the last instruction is zero-padded
  std::vector<uint16_t> a(size_t(M * K)), b(size_t(N * K));
  for (auto* v : {&a, &b})
    for (auto& x : *v) {
      const int e = int(rng() % 60) - 30 + 127;
      x = uint16_t(((rng() & 1) << 15) | (e << 7) | (rng() & 127));
    }
  a[3] = 0;  // a zero and a subnormal operand
  b[4] = 0x0005;
  std::vector<float> got(size_t(M * N));
  std::vector<uint16_t> out(size_t(M * N));
  hopper_bf16_gemm_f32(a.data(), b.data(), M, N, K, nullptr, got.data());
  bf16_gemm(a.data(), b.data(), M, N, K, Recipe::hopper, out.data());
  auto val = [](uint16_t c) { return (long double)bits_f32(uint32_t(c) << 16); };
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      float d = 0.0f;
      for (int64_t k0 = 0; k0 < K; k0 += 16) {
        std::vector<long double> av, bv;
        for (int64_t k = k0; k < std::min(K, k0 + 16); ++k) {
          av.push_back(val(a[m * K + k]));
          bv.push_back(val(b[n * K + k]));
        }
        d = ref_wgmma(av, bv, d, 25, 23, -126);
      }
      ASSERT_EQ(f32_u(d), f32_u(got[m * N + n])) << m << "," << n;
      ASSERT_EQ(nearest_bf16(d), out[m * N + n]) << m << "," << n;
    }
}

// ---------------------------------------------------------------------------------------------
// bf16 / fp32.
TEST(GemmDot, CanonicalIsSequentialFmaInK) {
  std::mt19937_64 rng(7);
  const int64_t M = 5, N = 37, K = 300;
  std::vector<float> a(size_t(M * K)), b(size_t(N * K));
  for (auto& x : a) x = float(std::normal_distribution<double>(0, 1)(rng));
  for (auto& x : b) x = float(std::normal_distribution<double>(0, 1)(rng));
  std::vector<uint16_t> a16(a.size()), b16(b.size());
  for (size_t i = 0; i < a.size(); ++i) a16[i] = nearest_bf16(a[i]);
  for (size_t i = 0; i < b.size(); ++i) b16[i] = nearest_bf16(b[i]);
  std::vector<float> c(size_t(M * N)), c16acc(size_t(M * N)), c_hopper(size_t(M * N));
  std::vector<uint16_t> c16(size_t(M * N));
  f32_gemm(a.data(), b.data(), M, N, K, Recipe::canonical, c.data());
  f32_gemm(a.data(), b.data(), M, N, K, Recipe::hopper, c_hopper.data());
  bf16_gemm(a16.data(), b16.data(), M, N, K, Recipe::canonical, c16.data());
  bf16_gemm_f32acc(a16.data(), b16.data(), M, N, K, Recipe::canonical, c16acc.data());
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      float acc = 0.0f, acc16 = 0.0f;
      for (int64_t k = 0; k < K; ++k) {
        acc = std::fma(a[m * K + k], b[n * K + k], acc);
        acc16 = std::fma(bits_f32(uint32_t(a16[m * K + k]) << 16), bits_f32(uint32_t(b16[n * K + k]) << 16), acc16);
      }
      ASSERT_EQ(f32_u(acc), f32_u(c[m * N + n]));
      ASSERT_EQ(f32_u(acc), f32_u(c_hopper[m * N + n])) << "fp32 hopper = canonical";
      ASSERT_EQ(f32_u(acc16), f32_u(c16acc[m * N + n]));
      ASSERT_EQ(nearest_bf16(acc16), c16[m * N + n]);
    }
}

// fp32 outputs carry the canonical NaN 0x7FFFFFFF whatever NaN the arithmetic produced: an input NaN with
// a payload (x86 would propagate it), inf·0 and inf − inf (x86's default NaN is 0xFFC00000). The GPU
// kernels' fmaf gives 0x7FFFFFFF; before this rule f32_gemm's NaN payloads differed between the two.
TEST(GemmDot, Fp32OutputsHaveTheCanonicalNaN) {
  const float qnan_payload = bits_f32(0x7FC00123u), inf = std::numeric_limits<float>::infinity();
  // Rows of A (K = 2) against the single row b = {1, 1}, except the inf·0 row against b2 = {0, 1}.
  const std::vector<float> a = {qnan_payload, 1.0f, inf, -inf, 2.0f, 3.0f}, b = {1.0f, 1.0f}, b2 = {0.0f, 1.0f};
  for (Recipe r : kAllRecipes) {
    std::vector<float> c(3), c_plain(3), c0(1);
    f32_gemm(a.data(), b.data(), 3, 1, 2, r, c.data());
    f32_gemm_plain(a.data(), b.data(), 3, 1, 2, r, c_plain.data());
    f32_gemm(a.data() + 2, b2.data(), 1, 1, 2, r, c0.data());  // inf·0 + (-inf)·1
    EXPECT_EQ(f32_u(c[0]), 0x7FFFFFFFu) << recipe_name(r) << ": NaN input";
    EXPECT_EQ(f32_u(c[1]), 0x7FFFFFFFu) << recipe_name(r) << ": inf - inf";
    EXPECT_EQ(f32_u(c[2]), f32_u(5.0f)) << recipe_name(r);
    EXPECT_EQ(f32_u(c_plain[0]), 0x7FFFFFFFu) << recipe_name(r) << " plain";
    EXPECT_EQ(f32_u(c_plain[1]), 0x7FFFFFFFu) << recipe_name(r) << " plain";
    EXPECT_EQ(f32_u(c0[0]), 0x7FFFFFFFu) << recipe_name(r) << ": inf * 0";
  }
}

TEST(GemmDot, ExactOnKnownSums) {
  // 1e30 + 1 - 1e30: sequential fp32 gives 0, exact gives 1.
  const std::vector<float> a = {1e30f, 1.0f, -1e30f}, b = {1.0f, 1.0f, 1.0f};
  float c;
  f32_gemm(a.data(), b.data(), 1, 1, 3, Recipe::canonical, &c);
  EXPECT_EQ(c, 0.0f);
  f32_gemm(a.data(), b.data(), 1, 1, 3, Recipe::exact, &c);
  EXPECT_EQ(c, 1.0f);
  // bf16 output of the exact recipe is rounded once, directly: 1 + 2^-8 + 2^-30 -> 1 + 2^-7 (above the
  // midpoint), while rounding through fp32 first gives 1 + 2^-8, a tie that goes to 1.0.
  const std::vector<uint16_t> x = {0x3F80, 0x3B80, 0x3080}, y = {0x3F80, 0x3F80, 0x3F80};  // 1, 2^-8, 2^-30
  uint16_t out;
  float acc;
  bf16_gemm(x.data(), y.data(), 1, 1, 3, Recipe::exact, &out);
  EXPECT_EQ(out, 0x3F81);
  bf16_gemm_f32acc(x.data(), y.data(), 1, 1, 3, Recipe::exact, &acc);
  EXPECT_EQ(acc, 1.0f + float(pow2l(-8)));
  bf16_gemm(x.data(), y.data(), 1, 1, 3, Recipe::canonical, &out);
  EXPECT_EQ(out, 0x3F80);
}

// ---------------------------------------------------------------------------------------------
// Exact accumulator on known answers.
TEST(ExactAcc, KnownAnswers) {
  ExactAcc acc;
  acc.add_float(1e30f);
  acc.add_float(1.0f);
  acc.add_float(-1e30f);
  EXPECT_EQ(acc.round_to_f32(), 1.0f);

  acc.clear();  // subnormal products: 2^-149 · 2^-149 = 2^-298 (nonzero, rounds to +0); times 2^149 ... via sums
  acc.add_product(bits_f32(1), bits_f32(1));
  EXPECT_EQ(f32_u(acc.round_to_f32()), 0u);
  acc.clear();
  acc.add_product(-bits_f32(1), bits_f32(1));
  EXPECT_EQ(f32_u(acc.round_to_f32()), 0x80000000u) << "rounds to -0: the sign of the exact value";
  acc.clear();
  acc.add_product(bits_f32(3), 0.5f);  // 1.5·2^-149: tie between 1 and 2 ulps -> 2 (even)
  EXPECT_EQ(f32_u(acc.round_to_f32()), 2u);
  acc.clear();
  acc.add_product(bits_f32(1), 0.5f);  // 2^-150: tie between 0 and 2^-149 -> 0 (even)
  EXPECT_EQ(f32_u(acc.round_to_f32()), 0u);
  acc.add_product(bits_f32(1), 0x1p-40f);  // + 2^-189: sticky breaks the tie upward
  EXPECT_EQ(f32_u(acc.round_to_f32()), 1u);

  acc.clear();  // 1 + 2^-24: tie -> 1 (even); + 2^-200 sticky -> 1 + 2^-23; 1 + 3·2^-24 -> 1 + 2^-22
  acc.add_float(1.0f);
  acc.add_float(0x1p-24f);
  EXPECT_EQ(acc.round_to_f32(), 1.0f);
  acc.add_product(0x1p-100f, 0x1p-100f);
  EXPECT_EQ(acc.round_to_f32(), 1.0f + 0x1p-23f);
  acc.clear();
  acc.add_float(-1.0f);
  acc.add_float(-0x1p-24f);
  acc.add_float(-0x1p-23f);
  EXPECT_EQ(acc.round_to_f32(), -(1.0f + 0x1p-22f));

  acc.clear();  // overflow: FLT_MAX + half an ulp (2^103) ties to even -> 2^128 -> inf; just below stays
  acc.add_float(std::numeric_limits<float>::max());
  acc.add_float(0x1p103f);
  EXPECT_EQ(acc.round_to_f32(), INFINITY);
  acc.add_product(-0x1p-100f, 0x1p-100f);
  EXPECT_EQ(acc.round_to_f32(), std::numeric_limits<float>::max());

  acc.clear();  // bf16 rounding, subnormal bf16 range: 2^-133 is the smallest; 1.5·2^-134 -> 2^-133
  acc.add_product(0x1p-67f, 0x1p-67f);
  acc.add_product(0x1p-68f, 0x1p-67f);  // 2^-134 + 2^-135 = 1.5·2^-134
  EXPECT_EQ(acc.round_to_bf16_value(), 0x1p-133f);

  acc.clear();  // specials
  acc.add_float(INFINITY);
  acc.add_float(1.0f);
  EXPECT_EQ(acc.round_to_f32(), INFINITY);
  acc.add_float(-INFINITY);
  EXPECT_TRUE(std::isnan(acc.round_to_f32()));
  acc.clear();
  acc.add_product(0.0f, INFINITY);
  EXPECT_EQ(f32_u(acc.round_to_f32()), 0x7FFFFFFFu);

  acc.clear();  // many large terms: 2^20 products of FLT_MAX·FLT_MAX and back
  for (int i = 0; i < 1000; ++i) acc.add_product(std::numeric_limits<float>::max(), std::numeric_limits<float>::max());
  acc.add_float(3.0f);
  for (int i = 0; i < 1000; ++i) acc.add_product(-std::numeric_limits<float>::max(), std::numeric_limits<float>::max());
  EXPECT_EQ(acc.round_to_f32(), 3.0f);

  EXPECT_THROW(acc.add_scaled_int(1, ExactAcc::kLsbExp - 1), std::out_of_range);
  EXPECT_THROW(acc.add_scaled_int(1, ExactAcc::kMaxTermExp), std::out_of_range);
}

TEST(ExactAcc, RandomSumsMatchInt128) {
  std::mt19937_64 rng(8);
  for (int trial = 0; trial < 200; ++trial) {
    ExactAcc acc;
    i128 ref = 0;
    const int n = 1 + int(rng() % 50);
    for (int i = 0; i < n; ++i) {
      const int64_t m = int64_t(rng() >> 20) - (int64_t(1) << 43);
      const int e = int(rng() % 40) - 20;
      acc.add_scaled_int(m, e - 40);
      ref += i128(m) << (e + 20);  // unit 2^-60
    }
    ASSERT_EQ(f32_u(round_i128(ref, -60, 24)), f32_u(acc.round_to_f32())) << trial;
    ASSERT_EQ(f32_u(round_i128(ref, -60, 8)), f32_u(acc.round_to_bf16_value())) << trial;
  }
}

// ---------------------------------------------------------------------------------------------
// Determinism: bit-identical for 1, 2 and 7 threads, every GEMM and recipe, odd M and N spanning
// several OpenMP tiles.
TEST(GemmDeterminism, ThreadCountDoesNotChangeBits) {
  std::mt19937_64 rng(9);
  const int64_t M = 133, N = 389, K = 256;
  const Fp8Problem p = make_fp8(rng, M, N, K);
  const auto b4 = random_codes(rng, size_t(N * K / 2), 0, 255), sb4 = random_codes(rng, size_t(N * K / 32), 120, 134);
  std::vector<uint16_t> a16(size_t(M * K)), b16(size_t(N * K));
  for (auto& x : a16) x = nearest_bf16(float(std::normal_distribution<double>(0, 1)(rng)));
  for (auto& x : b16) x = nearest_bf16(float(std::normal_distribution<double>(0, 1)(rng)));
  std::vector<float> a32(size_t(M * K)), b32(size_t(N * K));
  for (auto& x : a32) x = float(std::normal_distribution<double>(0, 1)(rng));
  for (auto& x : b32) x = float(std::normal_distribution<double>(0, 1)(rng));
  auto run_all = [&](int threads) {
    omp_set_num_threads(threads);
    std::vector<uint32_t> bits;
    std::vector<uint16_t> o16(size_t(M * N));
    std::vector<float> o32(size_t(M * N));
    for (Recipe r : {Recipe::canonical, Recipe::hopper, Recipe::exact}) {
      fp8_gemm(p.a.data(), p.sa.data(), p.b.data(), p.sb.data(), M, N, K, r, o16.data());
      bits.insert(bits.end(), o16.begin(), o16.end());
      fp4_gemm(p.a.data(), p.sa.data(), b4.data(), sb4.data(), M, N, K, r, o16.data());
      bits.insert(bits.end(), o16.begin(), o16.end());
      bf16_gemm(a16.data(), b16.data(), M, N, K, r, o16.data());
      bits.insert(bits.end(), o16.begin(), o16.end());
      f32_gemm(a32.data(), b32.data(), M, N, K, r, o32.data());
      for (float f : o32) bits.push_back(f32_u(f));
    }
    return bits;
  };
  const int saved = omp_get_max_threads();
  const auto one = run_all(1), two = run_all(2), seven = run_all(7);
  omp_set_num_threads(saved);
  ASSERT_EQ(one.size(), two.size());
  EXPECT_TRUE(one == two);
  EXPECT_TRUE(one == seven);
}
