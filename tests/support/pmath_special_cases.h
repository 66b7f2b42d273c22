// The one specification of the special cases of reference/pmath.h (docs/pmath.md "Special values"),
// written from IEEE 754-2019 and the mathematical limits of each definition, not from pmath's output.
// Used by tests/test_pmath.cpp (sampled, long double reference) and check/check_pmath.cpp (all 2^32
// inputs, long double + MPFR reference), which check pmath and their own reference against it.
// Two parts:
//   fixed_value: the rules that fix f(x) for a class of inputs where evaluating the formula (in long
//     double or MPFR) gives another answer or none: NaN inputs, the limits at +-inf of the composite
//     definitions, softplus' threshold rule, rsqrt(+-0). Both references apply it before evaluating.
//   kSpecialPoints: single inputs with their exact results: zeros, infinities, invalid operations,
//     and the last input on each side of every overflow, underflow and saturation boundary.
#pragma once
#include <cstdint>

#include "reference/pmath_table.h"

namespace v4::pmath_spec {

// Every NaN result, from a NaN input or an invalid operation, is this one encoding (CUDA's canonical
// float NaN; x86 would give 0xFFC00000).
constexpr uint32_t kCanonicalNaN = 0x7FFFFFFFu;

constexpr uint32_t kPInf = 0x7F800000u, kNInf = 0xFF800000u, kPZero = 0, kNZero = 0x80000000u;
constexpr uint32_t kOne = 0x3F800000u, kMinusOne = 0xBF800000u, kHalf = 0x3F000000u;
constexpr uint32_t kMinSub = 0x00000001u, kNegMinSub = 0x80000001u;  // +-2^-149

// PyTorch's softplus threshold rule (torch.nn.functional.softplus, beta = 1, threshold = 20): x > 20
// gives x. For float inputs it changes no result: log(1 + e^x) = x + e^-x(1 + ...) already rounds to x
// for every float x >= 14.56 (kSpecialPoints), so it only fixes the definition at +inf.
constexpr float kSoftplusThreshold = 20.0f;

// f(x) where the definition fixes it outright; false where f(x) is the correctly rounded value of the
// formula (which may be NaN for an invalid operation: canonical NaN, or +-inf/+-0 exactly).
inline bool fixed_value(PmathId id, float x, float* out) {
  const uint32_t b = f32_bits(x);
  auto give = [&](uint32_t bits) { return *out = f32_from_bits(bits), true; };
  if (f32_is_nan(x)) return give(kCanonicalNaN);
  const bool pinf = b == kPInf, ninf = b == kNInf;
  switch (id) {
    case PmathId::sigmoid:  // limits of 1/(1 + e^-x)
      if (pinf) return give(kOne);
      if (ninf) return give(kPZero);
      return false;
    case PmathId::silu:  // limits of x/(1 + e^-x); at -inf the limit of x e^x is -0 (x < 0)
      if (pinf) return give(kPInf);
      if (ninf) return give(kNZero);
      return false;
    case PmathId::softplus:  // threshold rule, then the limit of log(1 + e^x) at -inf
      if (x > kSoftplusThreshold) return give(b);
      if (ninf) return give(kPZero);
      return false;
    case PmathId::rsqrt:  // IEEE 754 rSqrt(+-0) = +-inf (MPFR's mpfr_rec_sqrt gives +inf for -0)
      if (b == kPZero) return give(kPInf);
      if (b == kNZero) return give(kNInf);
      return false;
    case PmathId::exp:
    case PmathId::exp2:
    case PmathId::log:
    case PmathId::log1p:
    case PmathId::expm1:
    case PmathId::sqrt:
    case PmathId::sin:
    case PmathId::cos:
      return false;
  }
  return false;
}

struct SpecialPoint {
  PmathId id;
  uint32_t in, want;
};

// Boundary inputs (the float on each side of the real x where the exact value crosses a float rounding
// boundary) were found by bisection over float inputs with a 400-bit mpmath evaluation; check_pmath
// re-derives every `want` below with MPFR at startup and test_pmath with the long double reference.
inline constexpr SpecialPoint kSpecialPoints[] = {
    // exp: overflow above ln(2^128 - 2^103) = 88.72283908..., underflow below ln(2^-150) = -103.9720770...
    {PmathId::exp, kPInf, kPInf}, {PmathId::exp, kNInf, kPZero},
    {PmathId::exp, kPZero, kOne}, {PmathId::exp, kNZero, kOne},
    {PmathId::exp, 0x42B17217u, 0x7F7FFF84u}, {PmathId::exp, 0x42B17218u, kPInf},
    {PmathId::exp, 0xC2CFF1B4u, kMinSub}, {PmathId::exp, 0xC2CFF1B5u, kPZero},
    // exp2: 2^128 overflows; 2^-150 is an exact tie between +0 and 2^-149, to even (+0).
    {PmathId::exp2, kPInf, kPInf}, {PmathId::exp2, kNInf, kPZero},
    {PmathId::exp2, kPZero, kOne}, {PmathId::exp2, kNZero, kOne},
    {PmathId::exp2, 0x42FFFFFFu, 0x7F7FFFA7u}, {PmathId::exp2, 0x43000000u /* 128 */, kPInf},
    {PmathId::exp2, 0xC3150000u /* -149 */, kMinSub}, {PmathId::exp2, 0xC315FFFFu, kMinSub},
    {PmathId::exp2, 0xC3160000u /* -150 */, kPZero}, {PmathId::exp2, 0xC3160001u, kPZero},
    // log: log(+-0) = -inf (IEEE divideByZero), x < 0 invalid.
    {PmathId::log, kPZero, kNInf}, {PmathId::log, kNZero, kNInf},
    {PmathId::log, kOne, kPZero}, {PmathId::log, kMinusOne, kCanonicalNaN},
    {PmathId::log, kNegMinSub, kCanonicalNaN}, {PmathId::log, kPInf, kPInf},
    {PmathId::log, kNInf, kCanonicalNaN},
    // log1p: pole at -1, x < -1 invalid, log1p(x) = x (sign of zero kept) for the least subnormals.
    {PmathId::log1p, kMinusOne, kNInf}, {PmathId::log1p, 0xBF800001u /* below -1 */, kCanonicalNaN},
    {PmathId::log1p, 0xC0000000u /* -2 */, kCanonicalNaN}, {PmathId::log1p, kNInf, kCanonicalNaN},
    {PmathId::log1p, kPZero, kPZero}, {PmathId::log1p, kNZero, kNZero},
    {PmathId::log1p, kPInf, kPInf}, {PmathId::log1p, kNegMinSub, kNegMinSub},
    // expm1: overflow as exp; -1 + e^x rounds to -1 below ln(2^-25) = -17.3286795...
    {PmathId::expm1, kPZero, kPZero}, {PmathId::expm1, kNZero, kNZero},
    {PmathId::expm1, kNInf, kMinusOne}, {PmathId::expm1, kPInf, kPInf},
    {PmathId::expm1, kMinSub, kMinSub},
    {PmathId::expm1, 0x42B17217u, 0x7F7FFF84u}, {PmathId::expm1, 0x42B17218u, kPInf},
    {PmathId::expm1, 0xC18AA122u, 0xBF7FFFFFu}, {PmathId::expm1, 0xC18AA123u, kMinusOne},
    // sigmoid: 1 above ln(2^25 - 1) = 17.3286795..., +0 below -103.9720770... (as exp).
    {PmathId::sigmoid, kPZero, kHalf}, {PmathId::sigmoid, kNZero, kHalf},
    {PmathId::sigmoid, kPInf, kOne}, {PmathId::sigmoid, kNInf, kPZero},
    {PmathId::sigmoid, 0x418AA122u, 0x3F7FFFFFu}, {PmathId::sigmoid, 0x418AA123u, kOne},
    {PmathId::sigmoid, 0xC2CFF1B4u, kMinSub}, {PmathId::sigmoid, 0xC2CFF1B5u, kPZero},
    // silu(x) = x/2 + x^2/4 + ...: for the least subnormals x/2 is a tie that the x^2 term breaks away
    // from zero for x > 0 and toward zero for x < 0. silu(x) = x from 16.677; -0 below -108.660.
    {PmathId::silu, kPZero, kPZero}, {PmathId::silu, kNZero, kNZero},
    {PmathId::silu, kPInf, kPInf}, {PmathId::silu, kNInf, kNZero},
    {PmathId::silu, kMinSub, kMinSub}, {PmathId::silu, kNegMinSub, kNZero},
    {PmathId::silu, 0x00000003u, 0x00000002u}, {PmathId::silu, 0x80000003u, 0x80000001u},
    {PmathId::silu, 0x41856A70u, 0x41856A6Fu}, {PmathId::silu, 0x41856A71u, 0x41856A71u},
    {PmathId::silu, 0xC2D95213u, 0x80000001u}, {PmathId::silu, 0xC2D95214u, kNZero},
    // softplus: log 2 at +-0; = x from 14.556 on, on both sides of the threshold 20; +0 as exp.
    {PmathId::softplus, kPInf, kPInf}, {PmathId::softplus, kNInf, kPZero},
    {PmathId::softplus, kPZero, 0x3F317218u}, {PmathId::softplus, kNZero, 0x3F317218u},
    {PmathId::softplus, 0x4168E5BFu, 0x4168E5C0u}, {PmathId::softplus, 0x4168E5C0u, 0x4168E5C0u},
    {PmathId::softplus, 0x419FFFFFu, 0x419FFFFFu}, {PmathId::softplus, 0x41A00000u /* 20 */, 0x41A00000u},
    {PmathId::softplus, 0x41A00001u, 0x41A00001u},
    {PmathId::softplus, 0xC2CFF1B4u, kMinSub}, {PmathId::softplus, 0xC2CFF1B5u, kPZero},
    // rsqrt: IEEE rSqrt: +-0 -> +-inf, x < 0 invalid (-0 is not < 0), +inf -> +0.
    {PmathId::rsqrt, kPZero, kPInf}, {PmathId::rsqrt, kNZero, kNInf},
    {PmathId::rsqrt, kPInf, kPZero}, {PmathId::rsqrt, kMinusOne, kCanonicalNaN},
    {PmathId::rsqrt, kNegMinSub, kCanonicalNaN}, {PmathId::rsqrt, kNInf, kCanonicalNaN},
    {PmathId::rsqrt, 0x40800000u /* 4 */, kHalf}, {PmathId::rsqrt, kMinSub, 0x64B504F3u},
    // sqrt: IEEE squareRoot: +-0 -> +-0, x < 0 invalid.
    {PmathId::sqrt, kPZero, kPZero}, {PmathId::sqrt, kNZero, kNZero},
    {PmathId::sqrt, kMinusOne, kCanonicalNaN}, {PmathId::sqrt, kNegMinSub, kCanonicalNaN},
    {PmathId::sqrt, kPInf, kPInf}, {PmathId::sqrt, kNInf, kCanonicalNaN},
    {PmathId::sqrt, 0x40800000u /* 4 */, 0x40000000u},
    // sin, cos: invalid at +-inf; sin keeps the sign of zero and sin(x) = x for tiny x.
    {PmathId::sin, kPZero, kPZero}, {PmathId::sin, kNZero, kNZero},
    {PmathId::sin, kPInf, kCanonicalNaN}, {PmathId::sin, kNInf, kCanonicalNaN},
    {PmathId::sin, kNegMinSub, kNegMinSub},
    {PmathId::cos, kPZero, kOne}, {PmathId::cos, kNZero, kOne},
    {PmathId::cos, kPInf, kCanonicalNaN}, {PmathId::cos, kNInf, kCanonicalNaN},
};

// NaN encodings that stand for all NaN inputs in the sampled test (quiet, signalling, both signs,
// payloads); check_pmath runs every one of them.
inline constexpr uint32_t kNaNInputs[] = {0x7FC00000u, 0xFFC00000u, 0x7F800001u, 0xFF800001u,
                                          0x7FFFFFFFu, 0xFFFFFFFFu, 0x7FA5A5A5u};

}  // namespace v4::pmath_spec
