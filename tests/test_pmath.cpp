// CI check of reference/pmath.h: a deterministic sample of ~600k inputs per function (specials,
// subnormals, every exponent's boundaries, thresholds, multiples of pi/2, huge arguments, a stride
// over all 2^32 patterns, pseudo-random patterns, inputs that take the slow path) against glibc's
// long double functions (tests/support/pmath_ld_reference.h), plus the special cases of
// tests/support/pmath_special_cases.h. check/check_pmath.cpp runs all 2^32 inputs against MPFR.
//
// Reference rule (no MPFR here): the long double value v decides the correctly rounded float when
// v(1 +- kLdRelErr) rounds to one float; otherwise the input is "undecided" and pmath must return one
// of the two floats around v (so within 1 ulp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "reference/pmath_table.h"
#include "tests/support/pmath_ld_reference.h"
#include "tests/support/pmath_special_cases.h"

namespace v4 {
namespace {

namespace pd = pmath::detail;
namespace spec = pmath_spec;
using pmath_ref::LdRef;
using pmath_ref::ordinal;
using pmath_ref::splitmix64;

// Inputs not correctly rounded over all 2^32 inputs, per function, measured by check_pmath (the
// table in docs/pmath.md): 0 for every function, so the sample must be correctly rounded too.
constexpr uint64_t kExhaustiveNotCorrectlyRounded = 0;

// The shared long double reference, plus one rule that stands in for MPFR here: silu(x) = x/2 + x^2/4
// + O(x^4), so for |x| < 2^-60 long double returns x/2 (up to 2^-61 relative), which is undecided only
// when it is a float midpoint of the subnormal range; the exact value lies above it (x^2/4 > 0), so
// the upper candidate.
LdRef ld_reference(PmathId id, float x) {
  LdRef r = pmath_ref::ld_reference(id, x);
  if (!r.decided && id == PmathId::silu && std::fabs(x) < 0x1p-60f) r = {true, r.hi, 0, 0, r.v};
  return r;
}

// ---- The sample.

// The 2w+1 floats centred on the float nearest to c (both signs of c are listed separately).
void add_window(std::vector<uint32_t>& in, float c, int w) {
  for (int i = -w; i <= w; ++i) {
    const int64_t b = int64_t(f32_bits(c) & 0x7FFFFFFFu) + i;
    if (b >= 0 && b < 0x7F800000) in.push_back((f32_bits(c) & 0x80000000u) | uint32_t(b));
  }
}

// The 24 floats >= pi/4 closest to a multiple of pi/2 (smallest reduced argument: 2^-29.86 * pi/2 at
// 0x6f79be45), found by running the reduction over all floats >= pi/4 and sorting.
const uint32_t kHardestReductions[] = {
    0x6f79be45u, 0x50a3e87fu, 0x6ff9be45u, 0x5123e87fu, 0x437ce5f1u, 0x7079be45u, 0x6a1976f1u, 0x53b146a6u,
    0x65898498u, 0x51a3e87fu, 0x43fce5f1u, 0x77584625u, 0x4c2332e9u, 0x4096cbe4u, 0x6c55da58u, 0x70f9be45u,
    0x6a9976f1u, 0x5c07bcd0u, 0x543146a6u, 0x66098498u, 0x5223e87fu, 0x474d246fu, 0x723fa09au, 0x447ce5f1u};

// Inputs that take the slow path (found by check_pmath's exhaustive run; the exact value lies within
// 2^-46 relative of a float midpoint): the first six per function in the log of
// `scripts/check_pmath.sh` (docs/pmath.md). Every function is run on all of them.
const uint32_t kSlowPathInputs[] = {
    0x337ffffcu, 0x337ffffdu, 0x337ffffeu, 0x337fffffu, 0x33800000u, 0x33800001u,  // exp
    0x33b8aa38u, 0x33b8aa39u, 0x33b8aa3au, 0x33b8aa3bu, 0x33b8aa3cu, 0x33b8aa3du,  // exp2
    0x00a82679u, 0x00dfe9c0u, 0x0187fc28u, 0x01b5b6ffu, 0x01f100d0u, 0x022ae487u,  // log
    0x337ffffdu, 0x337ffffeu, 0x337fffffu, 0x33800000u, 0x33b504f2u, 0x33b504f3u,  // log1p
    0x337ffffcu, 0x337ffffdu, 0x337ffffeu, 0x337fffffu, 0x33b504f2u, 0x33b504f3u,  // expm1
    0x33fffffdu, 0x33fffffeu, 0x33ffffffu, 0x34000000u, 0x34000001u, 0x34000002u,  // sigmoid
    0x337ffffdu, 0x337ffffeu, 0x337fffffu, 0x33b504f2u, 0x33b504f3u, 0x33b504f4u,  // silu
    0x33882e2eu, 0x33882e2fu, 0x33882e30u, 0x33882e31u, 0x33882e32u, 0x33882e33u,  // softplus
    0x000ed323u, 0x00113e07u, 0x003b4c8cu, 0x0044f81cu, 0x007fffffu, 0x008a5c86u,  // rsqrt
    0x39e89767u, 0x39e89768u, 0x39e89769u, 0x39e8976au, 0x3a1285ffu, 0x3a5352c7u,  // sin
    0x397ffffdu, 0x397ffffeu, 0x397fffffu, 0x39800000u, 0x39800001u, 0x39800002u,  // cos
};

std::vector<uint32_t> make_sample() {
  std::vector<uint32_t> in;
  // Specials: zeros, infinities, NaN payloads (quiet, signalling, negative), extremes.
  for (uint32_t u : {0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00000u, 0x7F800001u,
                     0xFFFFFFFFu, 0x7FFFFFFFu, 0x7F7FFFFFu, 0xFF7FFFFFu, 0x00800000u, 0x80800000u, 0x00000001u,
                     0x80000001u, 0x007FFFFFu, 0x807FFFFFu})
    in.push_back(u);
  // Every exponent's boundaries, both signs.
  for (uint32_t s = 0; s < 2; ++s)
    for (uint32_t e = 0; e < 256; ++e)
      for (uint32_t m : {0u, 1u, 2u, 3u, 0x400000u, 0x7FFFFDu, 0x7FFFFEu, 0x7FFFFFu}) in.push_back(s << 31 | e << 23 | m);
  // Subnormals: a stride over all of them, both signs.
  for (uint32_t m = 1; m < 0x800000u; m += 257) in.push_back(m), in.push_back(0x80000000u | m);
  // Thresholds and branch points, +-1024 floats each, both signs: overflow/underflow of exp (ln of
  // FLT_MAX, of the least normal, of half the least subnormal), expm1 -> -1 (ln 2^-25), the
  // reduction switches ln2/2 and pi/4, log1p's series interval, silu's tiny-x rule, softplus's 20,
  // the saturation points 30 and 120 of the stage filters, exp2's 128/-126/-149/-150.
  for (float c : {88.72283935546875f, 87.33654785f, 103.97208f, 104.0f, 17.328679f, 0.34657359f, 0.78539816f,
                  0.29289322f, 0.41421356f, 0x1p-60f, 0x1p-125f, 20.0f, 30.0f, 120.0f, 128.0f, 126.0f, 149.0f,
                  150.0f, 151.0f, 152.0f, 1.0f, 2.0f, 0.5f, 1.5707964f, 3.1415927f, 16.0f, 0x1p-24f, 0x1p-25f})
    add_window(in, c, 1024), add_window(in, -c, 1024);
  // Near multiples of pi/2 (k up to 4000) and powers of 4 (exact rsqrt/sqrt).
  for (int k = 1; k <= 4000; ++k) add_window(in, float(k * 1.5707963267948966192313216916397514L), 3);
  for (int e = -148; e <= 126; e += 2) add_window(in, std::ldexp(1.0f, e), 2);
  // Huge arguments: exponents 100..127, 256 pseudo-random mantissas each, both signs.
  uint64_t seed = 7;
  for (uint32_t e = 100 + 127; e <= 127 + 127; ++e)
    for (int i = 0; i < 256; ++i) {
      const uint32_t u = e << 23 | uint32_t(splitmix64(seed) & 0x7FFFFFu);
      in.push_back(u), in.push_back(u | 0x80000000u);
    }
  // A stride over all 2^32 patterns, and pseudo-random patterns.
  for (uint64_t u = 0; u < (uint64_t(1) << 32); u += 17179) in.push_back(uint32_t(u));
  for (int i = 0; i < 200000; ++i) in.push_back(uint32_t(splitmix64(seed)));
  for (uint32_t u : kHardestReductions) add_window(in, f32_from_bits(u), 2), add_window(in, -f32_from_bits(u), 2);
  for (uint32_t u : kSlowPathInputs) in.push_back(u);
  return in;
}

const std::vector<uint32_t>& sample() {
  static const std::vector<uint32_t> s = make_sample();
  return s;
}

std::string hex(float f) {
  char b[64];
  std::snprintf(b, sizeof b, "0x%08x (%a)", f32_bits(f), f);
  return b;
}

// ---- The sampled comparison, one test per function.

class PmathSample : public ::testing::TestWithParam<int> {};  // parameter: PmathId

TEST_P(PmathSample, CorrectlyRoundedOnSample) {
  const PmathId id = PmathId(GetParam());
  const PmathEntry& f = kPmathTable[GetParam()];
  const std::vector<uint32_t>& in = sample();
  const size_t n = in.size();
  // Per-input verdicts, filled in parallel, counted serially.
  enum : uint8_t { kOk, kUndecidedOk, kNotCR, kOver1 };
  std::vector<uint8_t> verdict(n), slow_bad(n, 0), took_slow(n, 0);
  std::vector<double> fast_rel(n, 0.0);
#pragma omp parallel for schedule(dynamic, 4096)
  for (size_t i = 0; i < n; ++i) {
    const float x = f32_from_bits(in[i]);
    const float got = f.fn(x);
    const LdRef r = ld_reference(id, x);
    if (r.decided) {
      if (f32_bits(got) == f32_bits(r.value)) {
        verdict[i] = kOk;
      } else {
        const bool nan = std::isnan(got) || std::isnan(r.value);
        const int64_t d = ordinal(got) - ordinal(r.value);
        verdict[i] = (!nan && (d == 1 || d == -1 || d == 0)) ? kNotCR : kOver1;
      }
    } else {
      verdict[i] = (f32_bits(got) == f32_bits(r.lo) || f32_bits(got) == f32_bits(r.hi)) ? kUndecidedOk : kOver1;
    }
    // Stages: the fast value's error, and the slow path alone on every 8th input (it must be correctly
    // rounded everywhere, not only near midpoints where the full function calls it).
    float sp;
    if (f.special == nullptr || f.special(x, &sp) || std::isnan(r.v) || std::isinf(r.v) || r.v == 0) continue;
    const double y = f.fast(x);
    took_slow[i] = !pd::round_fast(y, &sp);
    fast_rel[i] = pmath_ref::fast_rel_err(y, r.v);
    if (i % 8 == 0 && r.decided && f32_bits(f.slow(x)) != f32_bits(r.value)) slow_bad[i] = 1;
  }
  uint64_t not_cr = 0, over1 = 0, undecided = 0, slow_not_cr = 0, slow_taken = 0;
  double fast_max = 0;
  for (size_t i = 0; i < n; ++i) {
    const float x = f32_from_bits(in[i]);
    if (verdict[i] == kUndecidedOk) ++undecided;
    slow_taken += took_slow[i];
    if (verdict[i] == kNotCR || verdict[i] == kOver1) {
      const LdRef r = ld_reference(id, x);
      if (not_cr + over1 < 5)
        ADD_FAILURE() << f.name << "(" << hex(x) << ") = " << hex(f.fn(x)) << ", want "
                      << (r.decided ? hex(r.value) : hex(r.lo) + " or " + hex(r.hi));
      (verdict[i] == kNotCR ? not_cr : over1)++;
    }
    if (slow_bad[i] && slow_not_cr++ < 5)
      ADD_FAILURE() << f.name << " slow stage(" << hex(x) << ") = " << hex(f.slow(x)) << ", want "
                    << hex(ld_reference(id, x).value);
    fast_max = std::max(fast_max, fast_rel[i]);
  }
  char fast[32] = "n/a";
  if (f.fast) std::snprintf(fast, sizeof fast, "2^%.1f", std::log2(fast_max));
  std::printf("  %-8s %zu inputs, %llu undecided by long double, %llu through the slow path, fast-stage max rel err %s\n",
              f.name, n, (unsigned long long)undecided, (unsigned long long)slow_taken, fast);
  EXPECT_EQ(over1, 0u) << f.name << ": inputs more than 1 ulp off";
  EXPECT_EQ(not_cr + over1, kExhaustiveNotCorrectlyRounded) << f.name << ": inputs not correctly rounded";
  EXPECT_EQ(slow_not_cr, 0u) << f.name << ": slow stage not correctly rounded";
  // check_pmath measured at most 2^-51.4 over all inputs; the rounding test assumes kFastRelErr.
  EXPECT_LT(fast_max, pd::kFastRelErr / 16) << f.name << ": fast stage error close to the rounding-test bound";
  EXPECT_LT(undecided, n / 1000) << f.name << ": the long double reference decides too few inputs";
  if (f.fast) {
    EXPECT_GE(slow_taken, 6u) << f.name << ": the sample no longer exercises the slow path";
  }
}

INSTANTIATE_TEST_SUITE_P(All, PmathSample, ::testing::Range(0, kPmathCount),
                         [](const ::testing::TestParamInfo<int>& p) { return std::string(kPmathTable[p.param].name); });

// ---- Special values: the one table of tests/support/pmath_special_cases.h (IEEE 754-2019 §9.2, the
// limits of the definitions, the overflow/underflow/saturation boundaries; docs/pmath.md).

TEST(PmathSpecials, SpecialPoints) {
  for (const spec::SpecialPoint& p : spec::kSpecialPoints) {
    const PmathEntry& f = kPmathTable[int(p.id)];
    EXPECT_EQ(f32_bits(f.fn(f32_from_bits(p.in))), p.want) << f.name << "(0x" << std::hex << p.in << ")";
  }
}

// The table and the long double reference (with the spec's fixed values) agree: the table was derived
// with mpmath, so this checks both and keeps the sampled reference honest at the boundaries. Where
// long double cannot decide (exp2(-150) is an exact tie), the table must name one of its two
// candidates; check_pmath settles those with MPFR.
TEST(PmathSpecials, SpecialPointsAgreeWithLongDoubleReference) {
  for (const spec::SpecialPoint& p : spec::kSpecialPoints) {
    const LdRef r = ld_reference(p.id, f32_from_bits(p.in));
    const bool ok = r.decided ? f32_bits(r.value) == p.want : (f32_bits(r.lo) == p.want || f32_bits(r.hi) == p.want);
    EXPECT_TRUE(ok) << kPmathTable[int(p.id)].name << "(0x" << std::hex << p.in << "): long double reference "
                    << (r.decided ? hex(r.value) : hex(r.lo) + " or " + hex(r.hi)) << ", table 0x" << p.want;
  }
}

// Every NaN input, whatever its sign and payload, gives the canonical 0x7FFFFFFF.
TEST(PmathSpecials, NaNInputsGiveCanonicalNaN) {
  for (uint32_t u : spec::kNaNInputs)
    for (const PmathEntry& f : kPmathTable)
      EXPECT_EQ(f32_bits(f.fn(f32_from_bits(u))), spec::kCanonicalNaN) << f.name << "(0x" << std::hex << u << ")";
}

// Exact results: exp2 of an integer is a power of two (subnormal ones included), rsqrt and sqrt of
// an even power of two are powers of two.
TEST(PmathSpecials, ExactPowersOfTwo) {
  for (int k = -149; k <= 127; ++k) EXPECT_EQ(pmath::exp2(float(k)), std::ldexp(1.0f, k)) << "exp2(" << k << ")";
  for (int k = -74; k <= 63; ++k) {
    const float x = std::ldexp(1.0f, 2 * k);
    EXPECT_EQ(pmath::rsqrt(x), std::ldexp(1.0f, -k)) << "rsqrt(2^" << 2 * k << ")";
    EXPECT_EQ(pmath::sqrt(x), std::ldexp(1.0f, k)) << "sqrt(2^" << 2 * k << ")";
  }
}

}  // namespace
}  // namespace v4
