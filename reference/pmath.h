// Portable float32 math (design.md §3 "Transcendentals", numerics.md §5): exp, exp2, log, log1p,
// expm1, sigmoid, silu, softplus, rsqrt, sqrt, sin, cos, each correctly rounded (round to nearest
// even) for every float32 input, one definition compiled by the host compiler and by nvcc.
// Built only from IEEE round-to-nearest + - * /, sqrt, explicit fma, float<->double conversions and
// integer bit operations: no libm, no CUDA math library, and no product that a compiler could fuse
// (every multiply goes through d_mul, which is __dmul_rn on the device).
//
// Shape of every function (docs/pmath.md has the algorithms, error bounds and exhaustive results):
//   1. specials (NaN, infinities, zeros, saturated ranges) answered exactly;
//   2. a fast evaluation in double with relative error < kFastRelErr = 2^-46, rounded to float only
//      when the whole error interval rounds to one float (round_fast);
//   3. otherwise (at most 1021 of the 2^32 inputs of any function) a double-double evaluation
//      (truncation < 2^-117, rounding errors about 2^-98), rounded to float through round-to-odd.
// NaN results are always the canonical quiet NaN 0x7FFFFFFF (CUDA's canonical float NaN).
// The detail:: stages are public so that check/check_pmath.cpp can measure each one.
#pragma once
#include <cstdint>

#include "reference/hd.h"
#if !defined(__CUDACC__) && defined(__SSE2__)
#include <immintrin.h>
#endif

namespace v4::pmath {
namespace detail {

// ---- IEEE primitives. Device: intrinsics that nvcc never fuses or approximates, whatever -fmad,
// -prec-div or -prec-sqrt say. -ftz must stay false (nvcc's default): the float comparisons and
// float -> double conversions of subnormal inputs below would flush under -ftz=true/-use_fast_math.
// Host: plain operators (the build has -ffp-contract=off), and SSE sqrt because GCC's __builtin_sqrt
// keeps a libm tail call (errno) for negative inputs.

V4_HD double d_mul(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
V4_HD double d_div(double a, double b) {
#ifdef __CUDA_ARCH__
  return __ddiv_rn(a, b);
#else
  return a / b;
#endif
}
V4_HD double d_fma(double a, double b, double c) {
#ifdef __CUDA_ARCH__
  return __fma_rn(a, b, c);
#else
  return __builtin_fma(a, b, c);
#endif
}
V4_HD double d_sqrt(double a) {
#if defined(__CUDA_ARCH__)
  return __dsqrt_rn(a);
#elif !defined(__CUDACC__) && defined(__SSE2__)
  return _mm_cvtsd_f64(_mm_sqrt_sd(_mm_setzero_pd(), _mm_set_sd(a)));
#else
  return __builtin_sqrt(a);
#endif
}
V4_HD float f_sqrt(float a) {
#if defined(__CUDA_ARCH__)
  return __fsqrt_rn(a);
#elif !defined(__CUDACC__) && defined(__SSE2__)
  return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(a)));
#else
  return __builtin_sqrtf(a);
#endif
}
// double -> float, round to nearest even, subnormal results kept (IEEE convertFormat).
V4_HD float d_to_f(double a) {
#ifdef __CUDA_ARCH__
  return __double2float_rn(a);
#else
  return static_cast<float>(a);
#endif
}
V4_HD double d_abs(double a) { return f64_from_bits(f64_bits(a) & 0x7FFFFFFFFFFFFFFFull); }
// 2^k as a double, k in [-1022, 1023].
V4_HD double d_pow2(int k) { return f64_from_bits(uint64_t(k + 1023) << 52); }

V4_HD float canonical_nan() { return f32_from_bits(0x7FFFFFFFu); }
V4_HD bool answer(float* out, float v) {  // a special stage's "handled exactly" result
  *out = v;
  return true;
}
V4_HD float f_inf() { return f32_from_bits(0x7F800000u); }
V4_HD bool f_is_inf(float x) { return (f32_bits(x) & 0x7FFFFFFFu) == 0x7F800000u; }

// ---- Constants, derived by scripts/pmath_constants.py (pi by Machin's formula, ln 2 = 2 atanh(1/3),
// in exact integer arithmetic). check_pmath verifies them against MPFR at startup.
constexpr double kLn2_1 = 0x1.62e42fefa3ap-1;      // ln 2 to 44 bits: k * kLn2_1 exact for |k| < 512
constexpr double kLn2_2 = -0x1.0ca86c3898cp-49;    // next 44 bits
constexpr double kLn2_3 = -0x1.ff0342542fc33p-94;  // rest (double-double path)
constexpr double kLn2Lo = -0x1.0ca86c3898dp-49;    // ln 2 - kLn2_1, rounded (double path)
constexpr double kLn2 = 0x1.62e42fefa39efp-1;      // ln 2 = kLn2 + kLn2Tail to 2^-110
constexpr double kLn2Tail = 0x1.abc9e3b39803fp-56;
constexpr double kInvLn2 = 0x1.71547652b82fep+0;   // only picks k; any rounding of it works
constexpr double kPio2Hi = 0x1.921fb54442d18p+0;   // pi/2 = kPio2Hi + kPio2Lo to 2^-109
constexpr double kPio2Lo = 0x1.1a62633145c07p-54;
constexpr double kSqrt2 = 0x1.6a09e667f3bcdp+0;    // split point of the log reduction (any value near)
constexpr double kRoundMagic = 0x1.8p52;           // (t + M) - M = t rounded to an integer, |t| < 2^51
// Bound on the relative error of every fast double evaluation below. The a priori bounds are
// <= 2^-50 (docs/pmath.md); check_pmath measures the actual maximum over all 2^32 inputs.
constexpr double kFastRelErr = 0x1p-46;

// 2/pi = sum_i two_over_pi_word(i) * 2^(-32(i+1)), i = 0..8 (288 bits; the reduction reads at most
// word 8, for exponent 127).
V4_HD uint32_t two_over_pi_word(int i) {
  constexpr uint32_t w[9] = {0xA2F9836Eu, 0x4E441529u, 0xFC2757D1u, 0xF534DDC0u, 0xDB629599u,
                             0x3C439041u, 0xFE5163ABu, 0xDEBBC561u, 0xB7246E3Au};
  return w[i];
}

// ---- Rounding of an approximation to float.

// If every value within y*(1 +- kFastRelErr) rounds to the same float, that float is the correctly
// rounded f(x), because the exact value lies in that interval. Rounding y +- e to double moves the
// ends by < 2^-53 |y|, far less than the margin between kFastRelErr and the a priori bounds.
V4_HD bool round_fast(double y, float* out) {
  const double e = d_mul(d_abs(y), kFastRelErr);
  const float lo = d_to_f(y - e), hi = d_to_f(y + e);
  if (f32_bits(lo) != f32_bits(hi)) return false;
  *out = lo;
  return true;
}

// Double-double: value hi + lo, |lo| <= ulp(hi)/2.
struct dd {
  double hi, lo;
};
V4_HD dd dd_two_sum(double a, double b) {
  const double s = a + b, bb = s - a;
  return {s, (a - (s - bb)) + (b - bb)};
}
V4_HD dd dd_fast_two_sum(double a, double b) {  // |a| >= |b| or a == 0
  const double s = a + b;
  return {s, b - (s - a)};
}
V4_HD dd dd_two_prod(double a, double b) {
  const double p = d_mul(a, b);
  return {p, d_fma(a, b, -p)};
}
V4_HD dd dd_neg(dd a) { return {-a.hi, -a.lo}; }
V4_HD dd dd_add(dd a, dd b) {
  const dd s = dd_two_sum(a.hi, b.hi), t = dd_two_sum(a.lo, b.lo);
  const dd u = dd_fast_two_sum(s.hi, s.lo + t.hi);
  return dd_fast_two_sum(u.hi, u.lo + t.lo);
}
V4_HD dd dd_add(dd a, double b) {
  const dd s = dd_two_sum(a.hi, b);
  return dd_fast_two_sum(s.hi, s.lo + a.lo);
}
V4_HD dd dd_mul(dd a, dd b) {
  const dd p = dd_two_prod(a.hi, b.hi);
  return dd_fast_two_sum(p.hi, p.lo + d_fma(a.hi, b.lo, d_mul(a.lo, b.hi)));
}
V4_HD dd dd_mul(dd a, double b) {
  const dd p = dd_two_prod(a.hi, b);
  return dd_fast_two_sum(p.hi, d_fma(a.lo, b, p.lo));
}
V4_HD dd dd_scale(dd a, double pow2) { return {d_mul(a.hi, pow2), d_mul(a.lo, pow2)}; }
// Long division with three partial quotients; relative error about 2^-104.
V4_HD dd dd_div(dd a, dd b) {
  const double q1 = d_div(a.hi, b.hi);
  dd r = dd_add(a, dd_neg(dd_mul(b, q1)));
  const double q2 = d_div(r.hi, b.hi);
  r = dd_add(r, dd_neg(dd_mul(b, q2)));
  const double q3 = d_div(r.hi, b.hi);
  return dd_add(dd_fast_two_sum(q1, q2), q3);
}

// Round hi + lo to float correctly: first round it to odd at 53 bits (if lo != 0 and hi is even,
// step hi one ulp toward lo, which keeps it on the same side of every float rounding boundary),
// then let the double -> float conversion round to nearest. Round-to-odd with p >= 24 + 2 bits
// followed by round-to-nearest equals a single round-to-nearest (Boldo & Melquiond).
V4_HD float dd_to_f32(dd v) {
  uint64_t b = f64_bits(v.hi);
  if (v.lo != 0 && (b & 1u) == 0) b = ((v.lo > 0) == (v.hi > 0)) ? b + 1 : b - 1;
  return d_to_f(f64_from_bits(b));
}

// ---- Fast double kernels.

// e^r - 1 for |r| <= 0.3466: Taylor degree 13, relative truncation error < 2^-55.5.
V4_HD double expm1_poly(double r) {
  constexpr double c[12] = {0x1.0000000000000p-1, 0x1.5555555555555p-3, 0x1.5555555555555p-5,
                            0x1.1111111111111p-7, 0x1.6c16c16c16c17p-10, 0x1.a01a01a01a01ap-13,
                            0x1.a01a01a01a01ap-16, 0x1.71de3a556c734p-19, 0x1.27e4fb7789f5cp-22,
                            0x1.ae64567f544e4p-26, 0x1.1eed8eff8d898p-29, 0x1.6124613a86d09p-33};  // 1/n!, n = 2..13
  double q = c[11];
  for (int i = 10; i >= 0; --i) q = d_fma(q, r, c[i]);
  return d_fma(d_mul(q, r), r, r);
}

// 2 atanh(s) = log((1+s)/(1-s)) for |s| <= 0.1716: 2s (1 + z/3 + ... + z^9/19), z = s^2, relative
// truncation error < 2^-55.
V4_HD double atanh2_poly(double s) {
  constexpr double c[9] = {0x1.5555555555555p-2, 0x1.999999999999ap-3, 0x1.2492492492492p-3,
                           0x1.c71c71c71c71cp-4, 0x1.745d1745d1746p-4, 0x1.3b13b13b13b14p-4,
                           0x1.1111111111111p-4, 0x1.e1e1e1e1e1e1ep-5, 0x1.af286bca1af28p-5};  // 1/(2n+1), n = 1..9
  const double z = d_mul(s, s), t = s + s;
  double q = c[8];
  for (int i = 7; i >= 0; --i) q = d_fma(q, z, c[i]);
  return d_fma(d_mul(t, z), q, t);
}

// sin r for |r| <= pi/4: Taylor degree 17, relative truncation error < 2^-62.
V4_HD double sin_poly(double r) {
  constexpr double c[8] = {-0x1.5555555555555p-3, 0x1.1111111111111p-7, -0x1.a01a01a01a01ap-13,
                           0x1.71de3a556c734p-19, -0x1.ae64567f544e4p-26, 0x1.6124613a86d09p-33,
                           -0x1.ae7f3e733b81fp-41, 0x1.952c77030ad4ap-49};  // (-1)^n/(2n+1)!, n = 1..8
  const double z = d_mul(r, r);
  double q = c[7];
  for (int i = 6; i >= 0; --i) q = d_fma(q, z, c[i]);
  return d_fma(d_mul(r, z), q, r);
}

// cos r for |r| <= pi/4: Taylor degree 16, relative truncation error < 2^-58.
V4_HD double cos_poly(double r) {
  constexpr double c[8] = {-0x1.0000000000000p-1, 0x1.5555555555555p-5, -0x1.6c16c16c16c17p-10,
                           0x1.a01a01a01a01ap-16, -0x1.27e4fb7789f5cp-22, 0x1.1eed8eff8d898p-29,
                           -0x1.93974a8c07c9dp-37, 0x1.ae7f3e733b81fp-45};  // (-1)^n/(2n)!, n = 1..8
  const double z = d_mul(r, r);
  double q = c[7];
  for (int i = 6; i >= 0; --i) q = d_fma(q, z, c[i]);
  return d_fma(z, q, 1.0);
}

// x = k ln2 + r with |r| <= ln2/2 (+2^-40), for float-valued |x| <= 160. x - k*kLn2_1 is exact
// (both are multiples of 2^-44 or x is below 0.35 and k = 0), so r carries one rounding.
V4_HD double exp_reduce(double x, int* k) {
  const double kd = (d_mul(x, kInvLn2) + kRoundMagic) - kRoundMagic;
  *k = int(kd);
  return d_fma(-kd, kLn2Lo, d_fma(-kd, kLn2_1, x));
}
// e^x for float-valued |x| <= 160, relative error < 2^-51.
V4_HD double exp_core(double x) {
  int k;
  const double r = exp_reduce(x, &k);
  return d_mul(1.0 + expm1_poly(r), d_pow2(k));
}

// log u for a positive normal double u: u = 2^e m, m in [sqrt(1/2), sqrt(2)),
// log u = e ln2 + 2 atanh((m-1)/(m+1)); relative error < 2^-50.
V4_HD double log_core(double u) {
  const uint64_t b = f64_bits(u);
  int e = int(b >> 52) - 1023;
  double m = f64_from_bits((b & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);
  if (m > kSqrt2) {
    m = d_mul(m, 0.5);
    ++e;
  }
  const double l = atanh2_poly(d_div(m - 1.0, m + 1.0));  // m - 1 exact (Sterbenz)
  if (e == 0) return l;
  const double ed = e;
  return d_mul(ed, kLn2_1) + d_fma(ed, kLn2Lo, l);
}

// log(1 + t) for a double t > -1, relative error < 2^-50. Near 0, 2 atanh(t / (2 + t)) keeps the
// relative accuracy; elsewhere 1 + t = u.hi + u.lo exactly and log(u.hi + u.lo) = log u.hi + u.lo/u.hi
// up to 2^-106.
V4_HD double log1p_core(double t) {
  if (t > -0x1.2bec333018867p-2 && t < 0x1.a827999fcef32p-2) return atanh2_poly(d_div(t, 2.0 + t));
  const dd u = dd_two_sum(1.0, t);
  return log_core(u.hi) + d_div(u.lo, u.hi);
}

// ---- Double-double kernels (slow path). Taylor series in nested form, so no coefficient table:
// each step divides by a small integer in double-double.

// e^r - 1 = r (1 + r/2 (1 + r/3 (1 + ...))) for |r| <= 0.35, 24 terms: truncation < 2^-119.
V4_HD dd expm1_dd(dd r) {
  dd p = {1.0, 0.0};
  for (int n = 24; n >= 2; --n) p = dd_add(dd_div(dd_mul(p, r), dd{double(n), 0.0}), 1.0);
  return dd_mul(p, r);
}

// 2 atanh(s) = 2s (1 + z/3 + z^2/5 + ...) for |s| <= 0.1716, 23 terms: truncation < 2^-117.
V4_HD dd atanh2_dd(dd s) {
  const dd z = dd_mul(s, s);
  dd p = dd_div(dd{1.0, 0.0}, dd{45.0, 0.0});
  for (int n = 21; n >= 0; --n) p = dd_add(dd_mul(p, z), dd_div(dd{1.0, 0.0}, dd{double(2 * n + 1), 0.0}));
  return dd_scale(dd_mul(p, s), 2.0);
}

// sin r = r (1 - z/(2*3) (1 - z/(4*5) (1 - ...))), cos r = 1 - z/(1*2) (1 - z/(3*4) (...)),
// z = r^2, |r| <= pi/4, 14 levels: truncation < 2^-117.
V4_HD dd sin_dd(dd r) {
  const dd z = dd_mul(r, r);
  dd p = {1.0, 0.0};
  for (int n = 14; n >= 1; --n) p = dd_add(dd_neg(dd_div(dd_mul(p, z), dd{double(2 * n * (2 * n + 1)), 0.0})), 1.0);
  return dd_mul(p, r);
}
V4_HD dd cos_dd(dd r) {
  const dd z = dd_mul(r, r);
  dd p = {1.0, 0.0};
  for (int n = 14; n >= 1; --n) p = dd_add(dd_neg(dd_div(dd_mul(p, z), dd{double((2 * n - 1) * 2 * n), 0.0})), 1.0);
  return p;
}

// x = k ln2 + r in double-double, float-valued |x| <= 160: the first two products are exact.
V4_HD dd exp_reduce_dd(double x, int* k) {
  const double kd = (d_mul(x, kInvLn2) + kRoundMagic) - kRoundMagic;
  *k = int(kd);
  const dd r = dd_two_sum(d_fma(-kd, kLn2_1, x), -d_mul(kd, kLn2_2));
  return dd_add(r, -d_mul(kd, kLn2_3));
}
V4_HD dd exp_dd(double x) {
  int k;
  const dd r = exp_reduce_dd(x, &k);
  return dd_scale(dd_add(expm1_dd(r), 1.0), d_pow2(k));
}

// log u for u.hi a positive normal double; same reduction as log_core.
V4_HD dd log_dd(dd u) {
  int e = int(f64_bits(u.hi) >> 52) - 1023;
  dd m = dd_scale(u, d_pow2(-e));
  if (m.hi > kSqrt2) {
    m = dd_scale(m, 0.5);
    ++e;
  }
  const dd l = atanh2_dd(dd_div(dd_add(m, -1.0), dd_add(m, 1.0)));
  const double ed = e;
  const dd eln2 = dd_add(dd_two_sum(d_mul(ed, kLn2_1), d_mul(ed, kLn2_2)), d_mul(ed, kLn2_3));
  return dd_add(eln2, l);
}
V4_HD dd log1p_dd(dd t) {
  if (t.hi > -0x1.2bec333018867p-2 && t.hi < 0x1.a827999fcef32p-2) return atanh2_dd(dd_div(t, dd_add(t, 2.0)));
  return log_dd(dd_add(t, 1.0));
}

// ---- Payne-Hanek reduction of a float ax >= pi/4 (finite), exact to 2^-128 absolute.
// ax = m 2^q (m < 2^24 integer). ax * 2/pi mod 4 comes from six words of 2/pi starting at word i0:
// earlier words contribute multiples of 4, later words less than 2^(24+33-192) = 2^-135.
struct PiReduction {
  int quadrant;      // ax = quadrant * pi/2 + f * pi/2 (mod 2 pi)
  bool negative;     // sign of f
  uint32_t frac[4];  // |f| = frac * 2^-128 (frac[0] most significant), |f| <= 1/2
};
V4_HD uint32_t bits32_at(const uint32_t* v, int pos) {  // bits [pos, pos+32) of the 224-bit v
  const int i = pos >> 5, off = pos & 31;
  return off == 0 ? v[i] : (v[i] >> off) | (v[i + 1] << (32 - off));
}
V4_HD PiReduction reduce_pio2(float ax) {
  const uint32_t b = f32_bits(ax);
  const uint64_t m = (b & 0x7FFFFFu) | 0x800000u;
  const int q = int(b >> 23) - 150;  // in [-24, 104] for pi/4 <= ax < 2^128
  const int i0 = (q + 30) / 32 - 1;  // floor((q - 2) / 32), q + 30 > 0
  const int sh = q - 32 * i0;        // in [2, 33]
  uint32_t v[7];                     // v = m * (words i0..i0+5), little-endian 32-bit limbs
  uint64_t carry = 0;
  for (int t = 5; t >= 0; --t) {
    const uint64_t prod = m * (i0 + t >= 0 ? two_over_pi_word(i0 + t) : 0u) + carry;
    v[5 - t] = uint32_t(prod);
    carry = prod >> 32;
  }
  v[6] = uint32_t(carry);
  const int bp = 192 - sh;  // ax * 2/pi = v * 2^-bp (mod 4); bp in [159, 190]
  PiReduction r;
  r.quadrant = int(bits32_at(v, bp) & 3u);
  for (int j = 0; j < 4; ++j) r.frac[j] = bits32_at(v, bp - 32 * (j + 1));
  r.negative = (r.frac[0] >> 31) != 0;
  if (r.negative) {  // fraction >= 1/2: round the quadrant up, f = fraction - 1
    r.quadrant = (r.quadrant + 1) & 3;
    uint64_t c = 1;
    for (int j = 3; j >= 0; --j) {
      const uint64_t s = uint64_t(~r.frac[j]) + c;
      r.frac[j] = uint32_t(s);
      c = s >> 32;
    }
  }
  return r;
}
// |f| as a double-double (exact to 2^-106 relative).
V4_HD dd reduction_fraction(const PiReduction& r) {
  dd s = dd_two_sum(d_mul(double(r.frac[0]), 0x1p-32), d_mul(double(r.frac[1]), 0x1p-64));
  s = dd_add(s, d_mul(double(r.frac[2]), 0x1p-96));
  return dd_add(s, d_mul(double(r.frac[3]), 0x1p-128));
}
constexpr uint32_t kPio4Bits = 0x3F490FDBu;  // float(pi/4) > pi/4: below it no reduction is needed

// sin x (want_cos = false) or cos x = sin(|x| + pi/2): quadrant k selects +-sin r or +-cos r.
V4_HD double sincos_fast(float x, bool want_cos) {
  const float ax = f32_from_bits(f32_bits(x) & 0x7FFFFFFFu);
  if (f32_bits(ax) < kPio4Bits) return want_cos ? cos_poly(x) : sin_poly(x);
  const PiReduction p = reduce_pio2(ax);
  double r = d_mul(reduction_fraction(p).hi, kPio2Hi);
  if (p.negative) r = -r;
  const int k = p.quadrant + (want_cos ? 1 : 0);
  double v = (k & 1) ? cos_poly(r) : sin_poly(r);
  if (k & 2) v = -v;
  return (!want_cos && x < 0) ? -v : v;
}
V4_HD dd sincos_dd(float x, bool want_cos) {
  const float ax = f32_from_bits(f32_bits(x) & 0x7FFFFFFFu);
  if (f32_bits(ax) < kPio4Bits) return want_cos ? cos_dd(dd{x, 0.0}) : sin_dd(dd{x, 0.0});
  const PiReduction p = reduce_pio2(ax);
  dd r = dd_mul(reduction_fraction(p), dd{kPio2Hi, kPio2Lo});
  if (p.negative) r = dd_neg(r);
  const int k = p.quadrant + (want_cos ? 1 : 0);
  dd v = (k & 1) ? cos_dd(r) : sin_dd(r);
  if (k & 2) v = dd_neg(v);
  return (!want_cos && x < 0) ? dd_neg(v) : v;
}

// ---- Per-function stages: <f>_special answers exactly and returns true, or leaves the input to
// <f>_fast (double, relative error < kFastRelErr) and, when round_fast cannot decide, <f>_slow.

V4_HD bool exp_special(float x, float* out) {
  if (f32_is_nan(x)) return answer(out, canonical_nan());
  if (x > 128.0f) return answer(out, f_inf());   // e^x > 2^184
  if (x < -150.0f) return answer(out, 0.0f);     // e^x < 2^-216
  return false;
}
V4_HD double exp_fast(float x) { return exp_core(x); }
V4_HD float exp_slow(float x) { return dd_to_f32(exp_dd(x)); }

// 2^x = 2^k e^(f ln2), k = nearest integer, f = x - k exact.
V4_HD bool exp2_special(float x, float* out) {
  if (f32_is_nan(x)) return answer(out, canonical_nan());
  if (x >= 128.0f) return answer(out, f_inf());
  if (x <= -152.0f) return answer(out, 0.0f);  // 2^x <= 2^-152 < half the least subnormal
  return false;
}
V4_HD double exp2_fast(float x) {
  const double kd = (double(x) + kRoundMagic) - kRoundMagic;
  return d_mul(1.0 + expm1_poly(d_mul(double(x) - kd, kLn2)), d_pow2(int(kd)));
}
V4_HD float exp2_slow(float x) {
  const double kd = (double(x) + kRoundMagic) - kRoundMagic;
  const dd r = dd_mul(dd{kLn2, kLn2Tail}, double(x) - kd);
  return dd_to_f32(dd_scale(dd_add(expm1_dd(r), 1.0), d_pow2(int(kd))));
}

// e^x - 1: |x| < ln2/2 directly; else (2^k - 1) + 2^k (e^r - 1), no cancellation worse than 3.5x.
constexpr double kHalfLn2 = 0x1.62e42fefa39efp-2;
V4_HD bool expm1_special(float x, float* out) {
  if (f32_is_nan(x)) return answer(out, canonical_nan());
  if (x == 0.0f) return answer(out, x);           // keeps the sign of zero
  if (x > 128.0f) return answer(out, f_inf());
  if (x < -30.0f) return answer(out, -1.0f);      // -1 + e^x with e^x < 2^-43 << 2^-25 (half spacing)
  return false;
}
V4_HD double expm1_fast(float x) {
  if (d_abs(x) < kHalfLn2) return expm1_poly(x);
  int k;
  const double p = expm1_poly(exp_reduce(x, &k)), s = d_pow2(k);
  return d_fma(s, p, s - 1.0);
}
V4_HD float expm1_slow(float x) {
  if (d_abs(x) < kHalfLn2) return dd_to_f32(expm1_dd(dd{x, 0.0}));
  int k;
  const dd p = expm1_dd(exp_reduce_dd(x, &k));
  const double s = d_pow2(k);
  return dd_to_f32(dd_add(dd_two_sum(s, -1.0), dd_scale(p, s)));
}

V4_HD bool log_special(float x, float* out) {
  if (f32_is_nan(x) || x < 0.0f) return answer(out, canonical_nan());
  if (x == 0.0f) return answer(out, -f_inf());  // log(+-0) = -inf
  if (f_is_inf(x)) return answer(out, x);
  return false;
}
V4_HD double log_fast(float x) { return log_core(x); }
V4_HD float log_slow(float x) { return dd_to_f32(log_dd(dd{x, 0.0})); }

V4_HD bool log1p_special(float x, float* out) {
  if (f32_is_nan(x) || x < -1.0f) return answer(out, canonical_nan());
  if (x == -1.0f) return answer(out, -f_inf());
  if (x == 0.0f || f_is_inf(x)) return answer(out, x);
  return false;
}
V4_HD double log1p_fast(float x) { return log1p_core(x); }
V4_HD float log1p_slow(float x) { return dd_to_f32(log1p_dd(dd{x, 0.0})); }

// sigmoid = 1 / (1 + e^-x). Outside (-120, 30) the correctly rounded value is +0 or 1.
V4_HD bool sigmoid_special(float x, float* out) {
  if (f32_is_nan(x)) return answer(out, canonical_nan());
  if (x >= 30.0f) return answer(out, 1.0f);    // 1 - e^-x, e^-x < 2^-43
  if (x <= -120.0f) return answer(out, 0.0f);  // < e^-120 < 2^-173
  return false;
}
V4_HD double sigmoid_fast(float x) { return d_div(1.0, 1.0 + exp_core(-double(x))); }
V4_HD float sigmoid_slow(float x) {
  return dd_to_f32(dd_div(dd{1.0, 0.0}, dd_add(exp_dd(-double(x)), 1.0)));
}

// silu = x * sigmoid(x) = x / (1 + e^-x). Limits: silu(+inf) = +inf, silu(-inf) = -0.
V4_HD bool silu_special(float x, float* out) {
  if (f32_is_nan(x)) return answer(out, canonical_nan());
  if (x == 0.0f || x >= 30.0f) return answer(out, x);  // x (1 - e^-x + ...), e^-x < 2^-43
  if (x <= -120.0f) return answer(out, -0.0f);         // |x e^x| < 2^-165
  // |x| < 2^-60: silu = x/2 + x^2/4 + O(x^4). x/2 is exact and, for subnormal results, often a float
  // midpoint; the positive x^2/4 (< half a double ulp of x/2) breaks the tie through dd_to_f32.
  // Without this, half the inputs below 2^-125 would take the slow path.
  if (d_abs(x) < 0x1p-60) return answer(out, dd_to_f32(dd{d_mul(x, 0.5), d_mul(d_mul(x, x), 0.25)}));
  return false;
}
V4_HD double silu_fast(float x) { return d_div(double(x), 1.0 + exp_core(-double(x))); }
V4_HD float silu_slow(float x) { return dd_to_f32(dd_div(dd{x, 0.0}, dd_add(exp_dd(-double(x)), 1.0))); }

// softplus: PyTorch's threshold rule (beta = 1, threshold = 20): x > 20 -> x, else log(1 + e^x).
V4_HD bool softplus_special(float x, float* out) {
  if (f32_is_nan(x)) return answer(out, canonical_nan());
  if (x > 20.0f) return answer(out, x);
  if (x <= -120.0f) return answer(out, 0.0f);  // log(1 + e^x) < e^-120
  return false;
}
V4_HD double softplus_fast(float x) { return log1p_core(exp_core(x)); }
V4_HD float softplus_slow(float x) { return dd_to_f32(log1p_dd(exp_dd(x))); }

// rsqrt = 1/sqrt(x): two correctly rounded double operations (relative error < 2^-52).
V4_HD bool rsqrt_special(float x, float* out) {
  if (f32_is_nan(x) || x < 0.0f) return answer(out, canonical_nan());
  if (x == 0.0f) return answer(out, f32_from_bits(f32_bits(x) | 0x7F800000u));  // +-0 -> +-inf
  if (f_is_inf(x)) return answer(out, 0.0f);
  return false;
}
V4_HD double rsqrt_fast(float x) { return d_div(1.0, d_sqrt(x)); }
// Exact decision at the float midpoint mid between the two candidates a < b:
// 1/sqrt(x) < mid  <=>  mid^2 x > 1, with mid^2 exact (50 bits) and mid^2 x = p.hi + p.lo exactly.
V4_HD float rsqrt_slow(float x) {
  const double y = rsqrt_fast(x), e = d_mul(y, kFastRelErr);
  const float a = d_to_f(y - e), b = d_to_f(y + e);
  if (f32_bits(a) == f32_bits(b)) return a;
  const double mid = d_mul(double(a) + double(b), 0.5);
  const dd p = dd_two_prod(d_mul(mid, mid), x);
  const double d = (p.hi - 1.0) + p.lo;  // p.hi - 1 exact (Sterbenz); the sum keeps the sign
  if (d > 0) return a;
  if (d < 0) return b;
  return (f32_bits(a) & 1u) ? b : a;  // exact tie (cannot happen for float inputs)
}

V4_HD bool sin_special(float x, float* out) {
  if (f32_is_nan(x) || f_is_inf(x)) return answer(out, canonical_nan());
  if (x == 0.0f) return answer(out, x);
  return false;
}
V4_HD double sin_fast(float x) { return sincos_fast(x, false); }
V4_HD float sin_slow(float x) { return dd_to_f32(sincos_dd(x, false)); }

V4_HD bool cos_special(float x, float* out) {
  if (f32_is_nan(x) || f_is_inf(x)) return answer(out, canonical_nan());
  return false;
}
V4_HD double cos_fast(float x) { return sincos_fast(x, true); }
V4_HD float cos_slow(float x) { return dd_to_f32(sincos_dd(x, true)); }

}  // namespace detail

// ---- Public API: float32 in, correctly rounded float32 out (round to nearest even), subnormals
// kept, NaN out = 0x7FFFFFFF. docs/pmath.md lists every special value.

V4_HD float exp(float x) {
  float r;
  if (detail::exp_special(x, &r) || detail::round_fast(detail::exp_fast(x), &r)) return r;
  return detail::exp_slow(x);
}
V4_HD float exp2(float x) {
  float r;
  if (detail::exp2_special(x, &r) || detail::round_fast(detail::exp2_fast(x), &r)) return r;
  return detail::exp2_slow(x);
}
V4_HD float log(float x) {
  float r;
  if (detail::log_special(x, &r) || detail::round_fast(detail::log_fast(x), &r)) return r;
  return detail::log_slow(x);
}
V4_HD float log1p(float x) {
  float r;
  if (detail::log1p_special(x, &r) || detail::round_fast(detail::log1p_fast(x), &r)) return r;
  return detail::log1p_slow(x);
}
V4_HD float expm1(float x) {
  float r;
  if (detail::expm1_special(x, &r) || detail::round_fast(detail::expm1_fast(x), &r)) return r;
  return detail::expm1_slow(x);
}
V4_HD float sigmoid(float x) {
  float r;
  if (detail::sigmoid_special(x, &r) || detail::round_fast(detail::sigmoid_fast(x), &r)) return r;
  return detail::sigmoid_slow(x);
}
V4_HD float silu(float x) {
  float r;
  if (detail::silu_special(x, &r) || detail::round_fast(detail::silu_fast(x), &r)) return r;
  return detail::silu_slow(x);
}
V4_HD float softplus(float x) {
  float r;
  if (detail::softplus_special(x, &r) || detail::round_fast(detail::softplus_fast(x), &r)) return r;
  return detail::softplus_slow(x);
}
V4_HD float rsqrt(float x) {
  float r;
  if (detail::rsqrt_special(x, &r) || detail::round_fast(detail::rsqrt_fast(x), &r)) return r;
  return detail::rsqrt_slow(x);
}
V4_HD float sin(float x) {
  float r;
  if (detail::sin_special(x, &r) || detail::round_fast(detail::sin_fast(x), &r)) return r;
  return detail::sin_slow(x);
}
V4_HD float cos(float x) {
  float r;
  if (detail::cos_special(x, &r) || detail::round_fast(detail::cos_fast(x), &r)) return r;
  return detail::cos_slow(x);
}

// sqrt is one IEEE operation; only the NaN encoding needs care (x86 returns 0xFFC00000).
V4_HD float sqrt(float x) {
  if (f32_is_nan(x) || x < 0.0f) return detail::canonical_nan();
  return detail::f_sqrt(x);
}

}  // namespace v4::pmath
