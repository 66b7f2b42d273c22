// The long double reference for reference/pmath.h, shared by tests/test_pmath.cpp (its only reference)
// and check/check_pmath.cpp (its first reference, MPFR settles the rest): each function's definition
// in glibc long double (64-bit significand), written from the spec and not from pmath.h, and the rule
// that says when that value decides the correctly rounded float. Also the small helpers both use.
#pragma once
#include <cmath>
#include <cstdint>

#include "reference/pmath_table.h"
#include "reference/rng.h"
#include "tests/support/pmath_special_cases.h"

namespace v4::pmath_ref {

// glibc's long double exp/log/sin/... are within a few ulp (2^-63) and the composites add a few
// roundings; check_pmath --sample measured at most 2^-61.9 relative error (softplus) against MPFR, so
// 2^-56 leaves a factor 60.
constexpr long double kLdRelErr = 0x1p-56L;

// f(x) by the definition of docs/pmath.md in long double (the special cases the formulas do not give
// are pmath_spec::fixed_value's).
inline long double ld_eval(PmathId id, long double x) {
  switch (id) {
    case PmathId::exp: return expl(x);
    case PmathId::exp2: return exp2l(x);
    case PmathId::log: return logl(x);
    case PmathId::log1p: return log1pl(x);
    case PmathId::expm1: return expm1l(x);
    case PmathId::sigmoid: return 1.0L / (1.0L + expl(-x));
    case PmathId::silu: return x / (1.0L + expl(-x));
    case PmathId::softplus: return log1pl(expl(x));
    case PmathId::rsqrt: return 1.0L / sqrtl(x);
    case PmathId::sqrt: return sqrtl(x);
    case PmathId::sin: return sinl(x);
    case PmathId::cos: return cosl(x);
  }
  return NAN;
}

struct LdRef {
  bool decided;
  float value;    // decided: the correctly rounded f(x)
  float lo, hi;   // undecided: the two floats around the long double value
  long double v;  // the long double value (NaN where the spec fixed the result)
};

// The long double value v decides when v(1 +- kLdRelErr) rounds to one float; a NaN value (invalid
// operation) gives the canonical NaN, an infinite or zero value (pole, exact or underflowed zero) is
// the answer with its sign.
inline LdRef ld_reference(PmathId id, float x) {
  float s;
  if (pmath_spec::fixed_value(id, x, &s)) return {true, s, 0, 0, NAN};
  const long double v = ld_eval(id, x);
  if (std::isnan(v)) return {true, f32_from_bits(pmath_spec::kCanonicalNaN), 0, 0, v};
  if (std::isinf(v) || v == 0) return {true, float(v), 0, 0, v};
  const long double e = fabsl(v) * kLdRelErr;
  const float a = float(v - e), b = float(v + e);
  if (f32_bits(a) == f32_bits(b)) return {true, a, 0, 0, v};
  return {false, 0, a, b, v};
}

// |fast - f| / |f| for a stage's double value against the long double value (0 where v is not finite
// and nonzero).
inline double fast_rel_err(double fast, long double v) {
  if (std::isnan(v) || std::isinf(v) || v == 0) return 0;
  return double(fabsl((long double)fast - v) / fabsl(v));
}

// Position of a float on the number line in representable steps (+0 and -0 are both 0).
inline int64_t ordinal(float f) {
  const uint32_t b = f32_bits(f);
  return (b >> 31) ? -int64_t(b & 0x7FFFFFFFu) : int64_t(b);
}

// SplitMix64 stream (Weyl step + reference/rng.h's finaliser): the pseudo-random input patterns.
inline uint64_t splitmix64(uint64_t& s) { return rng_mix64(s += 0x9E3779B97F4A7C15ull); }

}  // namespace v4::pmath_ref
