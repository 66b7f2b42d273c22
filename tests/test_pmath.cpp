// CI check of reference/pmath.h: a deterministic sample of ~600k inputs per function (specials,
// subnormals, every exponent's boundaries, thresholds, multiples of pi/2, huge arguments, a stride
// over all 2^32 patterns, pseudo-random patterns, inputs that take the slow path) against glibc's
// long double functions, plus the special values of docs/pmath.md. check/check_pmath.cpp runs all
// 2^32 inputs against MPFR.
//
// Reference rule (no MPFR here): the long double value v decides the correctly rounded float when
// v(1 +- kLdRelErr) rounds to one float; otherwise the input is "undecided" and pmath must return one
// of the two floats around v (so within 1 ulp). Expected special values are written from IEEE 754 and
// the mathematical limits, not taken from pmath's output.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "reference/pmath.h"

namespace pm = v4::pmath;
namespace pd = v4::pmath::detail;
using v4::f32_bits;
using v4::f32_from_bits;

namespace {

// glibc long double functions are within a few ulp of 2^-63; check_pmath --sample measured at most
// 2^-61.9 relative error (softplus) against MPFR, so 2^-56 leaves a factor 60.
constexpr long double kLdRelErr = 0x1p-56L;
// Inputs not correctly rounded over all 2^32 inputs, per function, measured by check_pmath (the
// table in docs/pmath.md): 0 for every function, so the sample must be correctly rounded too.
constexpr uint64_t kExhaustiveNotCorrectlyRounded = 0;
constexpr uint32_t kNaN = 0x7FFFFFFFu;

// ---- Reference semantics (from the spec, independent of pmath.h).

long double ld_sigmoid(long double x) { return 1.0L / (1.0L + expl(-x)); }
long double ld_silu(long double x) { return x / (1.0L + expl(-x)); }
long double ld_softplus(long double x) { return x > 20.0L ? x : log1pl(expl(x)); }  // PyTorch threshold rule
long double ld_rsqrt(long double x) { return x == 0 ? (std::signbit(x) ? -INFINITY : INFINITY) : 1.0L / sqrtl(x); }

// Limits at infinity of the composite definitions (the long double formulas give NaN or nothing).
bool spec_none(float, float*) { return false; }
bool spec_sigmoid(float x, float* out) { return std::isinf(x) && (*out = x > 0 ? 1.0f : 0.0f, true); }
bool spec_silu(float x, float* out) { return std::isinf(x) && (*out = x > 0 ? x : -0.0f, true); }
bool spec_softplus(float x, float* out) { return std::isinf(x) && (*out = x > 0 ? x : 0.0f, true); }

struct Fn {
  const char* name;
  float (*pmath)(float);
  bool (*special)(float, float*);  // pmath's stages; null for sqrt (one IEEE operation)
  double (*fast)(float);
  float (*slow)(float);
  long double (*ld)(long double);
  bool (*spec)(float, float*);
};

const Fn kFns[] = {
    {"exp", pm::exp, pd::exp_special, pd::exp_fast, pd::exp_slow, expl, spec_none},
    {"exp2", pm::exp2, pd::exp2_special, pd::exp2_fast, pd::exp2_slow, exp2l, spec_none},
    {"log", pm::log, pd::log_special, pd::log_fast, pd::log_slow, logl, spec_none},
    {"log1p", pm::log1p, pd::log1p_special, pd::log1p_fast, pd::log1p_slow, log1pl, spec_none},
    {"expm1", pm::expm1, pd::expm1_special, pd::expm1_fast, pd::expm1_slow, expm1l, spec_none},
    {"sigmoid", pm::sigmoid, pd::sigmoid_special, pd::sigmoid_fast, pd::sigmoid_slow, ld_sigmoid, spec_sigmoid},
    {"silu", pm::silu, pd::silu_special, pd::silu_fast, pd::silu_slow, ld_silu, spec_silu},
    {"softplus", pm::softplus, pd::softplus_special, pd::softplus_fast, pd::softplus_slow, ld_softplus, spec_softplus},
    {"rsqrt", pm::rsqrt, pd::rsqrt_special, pd::rsqrt_fast, pd::rsqrt_slow, ld_rsqrt, spec_none},
    {"sqrt", pm::sqrt, nullptr, nullptr, nullptr, sqrtl, spec_none},
    {"sin", pm::sin, pd::sin_special, pd::sin_fast, pd::sin_slow, sinl, spec_none},
    {"cos", pm::cos, pd::cos_special, pd::cos_fast, pd::cos_slow, cosl, spec_none},
};

void PrintTo(const Fn& f, std::ostream* os) { *os << f.name; }  // gtest parameter name in failures

struct Ref {
  bool decided;
  float value;   // decided: the correctly rounded result
  float lo, hi;  // undecided: the two candidates
  long double v;
};

Ref ld_reference(const Fn& f, float x) {
  float s;
  if (std::isnan(x)) return {true, f32_from_bits(kNaN), 0, 0, NAN};
  if (f.spec(x, &s)) return {true, s, 0, 0, NAN};
  const long double v = f.ld(x);
  if (std::isnan(v)) return {true, f32_from_bits(kNaN), 0, 0, v};
  if (std::isinf(v) || v == 0) return {true, float(v), 0, 0, v};
  const long double e = fabsl(v) * kLdRelErr;
  const float a = float(v - e), b = float(v + e);
  if (f32_bits(a) == f32_bits(b)) return {true, a, 0, 0, v};
  // silu(x) = x/2 + x^2/4 + O(x^4): for |x| < 2^-60 long double returns x/2 exactly, often a float
  // midpoint of the subnormal range; the exact value lies above it (x^2/4 > 0), so the upper candidate.
  if (f.spec == spec_silu && std::fabs(x) < 0x1p-60f) return {true, b, 0, 0, v};
  return {false, 0, a, b, v};
}

// ---- The sample.

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

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

int64_t ordinal(float f) {
  const uint32_t b = f32_bits(f);
  return (b >> 31) ? -int64_t(b & 0x7FFFFFFFu) : int64_t(b);
}

// ---- The sampled comparison, one test per function.

class PmathSample : public ::testing::TestWithParam<Fn> {};

TEST_P(PmathSample, CorrectlyRoundedOnSample) {
  const Fn& f = GetParam();
  const std::vector<uint32_t>& in = sample();
  const size_t n = in.size();
  // Per-input verdicts, filled in parallel, counted serially.
  enum : uint8_t { kOk, kUndecidedOk, kNotCR, kOver1 };
  std::vector<uint8_t> verdict(n), slow_bad(n, 0), took_slow(n, 0);
  std::vector<double> fast_rel(n, 0.0);
#pragma omp parallel for schedule(dynamic, 4096)
  for (size_t i = 0; i < n; ++i) {
    const float x = f32_from_bits(in[i]);
    const float got = f.pmath(x);
    const Ref r = ld_reference(f, x);
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
    fast_rel[i] = double(fabsl((long double)y - r.v) / fabsl(r.v));
    if (i % 8 == 0 && r.decided && f32_bits(f.slow(x)) != f32_bits(r.value)) slow_bad[i] = 1;
  }
  uint64_t not_cr = 0, over1 = 0, undecided = 0, slow_not_cr = 0, slow_taken = 0;
  double fast_max = 0;
  for (size_t i = 0; i < n; ++i) {
    const float x = f32_from_bits(in[i]);
    if (verdict[i] == kUndecidedOk) ++undecided;
    slow_taken += took_slow[i];
    if (verdict[i] == kNotCR || verdict[i] == kOver1) {
      const Ref r = ld_reference(f, x);
      if (not_cr + over1 < 5)
        ADD_FAILURE() << f.name << "(" << hex(x) << ") = " << hex(f.pmath(x)) << ", want "
                      << (r.decided ? hex(r.value) : hex(r.lo) + " or " + hex(r.hi));
      (verdict[i] == kNotCR ? not_cr : over1)++;
    }
    if (slow_bad[i] && slow_not_cr++ < 5)
      ADD_FAILURE() << f.name << " slow stage(" << hex(x) << ") = " << hex(f.slow(x)) << ", want "
                    << hex(ld_reference(f, x).value);
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

INSTANTIATE_TEST_SUITE_P(All, PmathSample, ::testing::ValuesIn(kFns),
                         [](const ::testing::TestParamInfo<Fn>& p) { return std::string(p.param.name); });

// ---- Special values (IEEE 754-2019 §9.2 and the limits of the definitions; docs/pmath.md).

struct Special {
  float (*f)(float);
  const char* name;
  uint32_t in, want;
};

constexpr uint32_t kPInf = 0x7F800000u, kNInf = 0xFF800000u, kPZero = 0, kNZero = 0x80000000u, kOne = 0x3F800000u;

TEST(PmathSpecials, Table) {
  const Special table[] = {
      {pm::exp, "exp", kPInf, kPInf},        {pm::exp, "exp", kNInf, kPZero},
      {pm::exp, "exp", kPZero, kOne},        {pm::exp, "exp", kNZero, kOne},
      {pm::exp2, "exp2", kPInf, kPInf},      {pm::exp2, "exp2", kNInf, kPZero},
      {pm::exp2, "exp2", kNZero, kOne},      {pm::exp2, "exp2", 0xC3150000u /* -149 */, 0x00000001u},
      {pm::exp2, "exp2", 0xC3160000u /* -150: 2^-150 is a tie, to even */, kPZero},
      {pm::exp2, "exp2", 0x43000000u /* 128 */, kPInf},
      {pm::log, "log", kPZero, kNInf},       {pm::log, "log", kNZero, kNInf},
      {pm::log, "log", kOne, kPZero},        {pm::log, "log", 0xBF800000u /* -1 */, kNaN},
      {pm::log, "log", kPInf, kPInf},        {pm::log, "log", kNInf, kNaN},
      {pm::log1p, "log1p", 0xBF800000u, kNInf}, {pm::log1p, "log1p", kNZero, kNZero},
      {pm::log1p, "log1p", kPZero, kPZero},  {pm::log1p, "log1p", 0xC0000000u /* -2 */, kNaN},
      {pm::log1p, "log1p", kPInf, kPInf},    {pm::log1p, "log1p", kNInf, kNaN},
      {pm::log1p, "log1p", 0x80000001u, 0x80000001u},  // log1p(x) = x for the least subnormals
      {pm::expm1, "expm1", kNZero, kNZero},  {pm::expm1, "expm1", kPZero, kPZero},
      {pm::expm1, "expm1", kNInf, 0xBF800000u}, {pm::expm1, "expm1", kPInf, kPInf},
      {pm::expm1, "expm1", 0x00000001u, 0x00000001u},
      {pm::sigmoid, "sigmoid", kPZero, 0x3F000000u}, {pm::sigmoid, "sigmoid", kNZero, 0x3F000000u},
      {pm::sigmoid, "sigmoid", kPInf, kOne}, {pm::sigmoid, "sigmoid", kNInf, kPZero},
      {pm::silu, "silu", kPZero, kPZero},    {pm::silu, "silu", kNZero, kNZero},
      {pm::silu, "silu", kPInf, kPInf},      {pm::silu, "silu", kNInf, kNZero},
      // silu(x) = x/2 + x^2/4 + ...: for the least subnormals x/2 is a tie that the x^2 term breaks
      // away from zero for x > 0 and toward zero for x < 0.
      {pm::silu, "silu", 0x00000001u, 0x00000001u}, {pm::silu, "silu", 0x80000001u, kNZero},
      {pm::silu, "silu", 0x00000003u, 0x00000002u}, {pm::silu, "silu", 0x80000003u, 0x80000001u},
      {pm::softplus, "softplus", kPInf, kPInf}, {pm::softplus, "softplus", kNInf, kPZero},
      {pm::softplus, "softplus", 0x41A00001u /* next float above 20 */, 0x41A00001u},
      {pm::softplus, "softplus", 0x41A00000u /* 20: log(1+e^20) = 20 + 2.1e-9 */, 0x41A00000u},
      {pm::rsqrt, "rsqrt", kPZero, kPInf},   {pm::rsqrt, "rsqrt", kNZero, kNInf},
      {pm::rsqrt, "rsqrt", kPInf, kPZero},   {pm::rsqrt, "rsqrt", 0xBF800000u, kNaN},
      {pm::rsqrt, "rsqrt", kNInf, kNaN},     {pm::rsqrt, "rsqrt", 0x40800000u /* 4 */, 0x3F000000u},
      {pm::sqrt, "sqrt", kNZero, kNZero},    {pm::sqrt, "sqrt", kPZero, kPZero},
      {pm::sqrt, "sqrt", 0xBF800000u, kNaN}, {pm::sqrt, "sqrt", kPInf, kPInf},
      {pm::sqrt, "sqrt", kNInf, kNaN},       {pm::sqrt, "sqrt", 0x40800000u, 0x40000000u},
      {pm::sin, "sin", kNZero, kNZero},      {pm::sin, "sin", kPZero, kPZero},
      {pm::sin, "sin", kPInf, kNaN},         {pm::sin, "sin", kNInf, kNaN},
      {pm::sin, "sin", 0x80000001u, 0x80000001u},
      {pm::cos, "cos", kPZero, kOne},        {pm::cos, "cos", kNZero, kOne},
      {pm::cos, "cos", kPInf, kNaN},         {pm::cos, "cos", kNInf, kNaN},
  };
  for (const Special& s : table)
    EXPECT_EQ(f32_bits(s.f(f32_from_bits(s.in))), s.want) << s.name << "(0x" << std::hex << s.in << ")";
}

// Every NaN input, whatever its sign and payload, gives the canonical 0x7FFFFFFF.
TEST(PmathSpecials, NaNInputsGiveCanonicalNaN) {
  for (uint32_t u : {0x7FC00000u, 0xFFC00000u, 0x7F800001u, 0xFF800001u, 0x7FFFFFFFu, 0xFFFFFFFFu, 0x7FA5A5A5u})
    for (const Fn& f : kFns) EXPECT_EQ(f32_bits(f.pmath(f32_from_bits(u))), kNaN) << f.name << "(0x" << std::hex << u << ")";
}

// Exact results: exp2 of an integer is a power of two (subnormal ones included), rsqrt and sqrt of
// an even power of two are powers of two.
TEST(PmathSpecials, ExactPowersOfTwo) {
  for (int k = -149; k <= 127; ++k) EXPECT_EQ(pm::exp2(float(k)), std::ldexp(1.0f, k)) << "exp2(" << k << ")";
  for (int k = -74; k <= 63; ++k) {
    const float x = std::ldexp(1.0f, 2 * k);
    EXPECT_EQ(pm::rsqrt(x), std::ldexp(1.0f, -k)) << "rsqrt(2^" << 2 * k << ")";
    EXPECT_EQ(pm::sqrt(x), std::ldexp(1.0f, k)) << "sqrt(2^" << 2 * k << ")";
  }
}

}  // namespace
