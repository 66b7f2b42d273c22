// Number formats: the one definition of every encode/decode the project uses (bf16, fp8 e4m3fn,
// fp8 e5m2, fp4 e2m1, ue8m0), compiled for host and device. Integer bit operations only, so the
// result cannot depend on the compiler, FTZ/DAZ, or contraction. Rules: design.md §3 "Formats",
// numerics.md §1-3; docs/formats.md states every decision and the tests that pin it.
#pragma once
#include "reference/hd.h"

namespace v4 {

// The two named overflow behaviours of a float32 -> fp8 cast.
//   satfinite: CUDA __NV_SATFINITE = PTX cvt.rn.satfinite: overflow and ±inf -> ±max finite,
//              any NaN -> 0x7F.
//   nosat:     PyTorch .to(float8_*) (= ml_dtypes for e4m3fn): overflow -> NaN (e4m3fn, sign kept)
//              or ±inf (e5m2); NaN keeps its sign (0x7F / 0xFF).
enum class Sat : uint8_t { satfinite, nosat };

// ---------------------------------------------------------------------------------------------
// Generic round-to-nearest-even of a finite float32 magnitude onto a sign-less minifloat grid with
// M mantissa bits and minimum normal exponent emin (subnormals kept). Returns the magnitude code
// (exponent field << M | mantissa); a result above the format's largest finite code means overflow.
// The code arithmetic carries a mantissa round-up into the exponent field by itself.
V4_HD uint32_t minifloat_rne_magnitude(uint32_t abs_bits, int M, int emin) {
  int e = int(abs_bits >> 23);
  uint32_t mant = abs_bits & 0x7FFFFFu;
  if (e == 0) {
    e = -126;  // float32 subnormal: no implicit bit
  } else {
    mant |= 0x800000u;
    e -= 127;
  }
  if (e > 64) return 0xFFFFFFu;  // far beyond every format here: overflow marker
  const int ep = e > emin ? e : emin;
  const int shift = 23 - M + (ep - e);
  uint32_t n;
  if (shift >= 26) {
    n = 0;  // below half the smallest subnormal
  } else {
    n = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (n & 1u))) ++n;
  }
  return (uint32_t(ep - emin) << M) + n;
}

// Value of a finite magnitude code (no sign) of a minifloat with M mantissa bits and min normal exp emin.
V4_HD float minifloat_decode_magnitude(uint32_t mag, int M, int emin) {
  const uint32_t ef = mag >> M, m = mag & ((1u << M) - 1u);
  if (ef == 0) return float(m) * f32_pow2(emin - M);  // exact: small integer times a power of two
  return f32_from_bits((uint32_t(int(ef) - 1 + emin + 127) << 23) | (m << (23 - M)));
}

// Canonical float32 NaN produced by every decode here (CUDA's canonical NaN bit pattern).
constexpr uint32_t kF32CanonicalNaN = 0x7FFFFFFFu;
// x, with any NaN replaced by the canonical one. IEEE leaves an arithmetic NaN's payload open (x86
// propagates an operand's, CUDA returns 0x7FFFFFFF): fp32 outputs pass through this to be portable.
V4_HD float f32_canonical_nan(float x) { return f32_is_nan(x) ? f32_from_bits(kF32CanonicalNaN) : x; }

// ---------------------------------------------------------------------------------------------
// bf16: RNE, subnormals kept, overflow -> ±inf, any NaN -> 0x7FFF (CUDA cvt.rn.bf16.f32).
V4_HD uint16_t bf16_encode(float x) {
  const uint32_t u = f32_bits(x);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FFF;
  return uint16_t((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}
V4_HD float bf16_decode(uint16_t b) { return f32_from_bits(uint32_t(b) << 16); }
V4_HD float bf16_round(float x) { return bf16_decode(bf16_encode(x)); }

// ---------------------------------------------------------------------------------------------
// fp8 e4m3fn: s eeee mmm, bias 7, max 448 (0x7E), NaN 0x7F/0xFF, no inf.
constexpr int kE4M3Mant = 3, kE4M3Emin = -6;
constexpr uint8_t kE4M3MaxCode = 0x7E, kE4M3NaN = 0x7F;
constexpr float kE4M3Max = 448.0f;

V4_HD uint8_t fp8_e4m3_encode(float x, Sat sat) {
  const uint32_t u = f32_bits(x), a = u & 0x7FFFFFFFu;
  const uint8_t sign = uint8_t((u >> 24) & 0x80u);
  if (a > 0x7F800000u) return sat == Sat::satfinite ? kE4M3NaN : uint8_t(kE4M3NaN | sign);
  const uint32_t mag = a == 0x7F800000u ? 0xFFFFFFu : minifloat_rne_magnitude(a, kE4M3Mant, kE4M3Emin);
  if (mag > kE4M3MaxCode) return uint8_t((sat == Sat::satfinite ? kE4M3MaxCode : kE4M3NaN) | sign);
  return uint8_t(mag | sign);
}
V4_HD float fp8_e4m3_decode(uint8_t c) {
  const uint32_t mag = c & 0x7Fu;
  if (mag == kE4M3NaN) return f32_from_bits(kF32CanonicalNaN);
  const float v = minifloat_decode_magnitude(mag, kE4M3Mant, kE4M3Emin);
  return (c & 0x80u) ? -v : v;
}

// ---------------------------------------------------------------------------------------------
// fp8 e5m2: s eeeee mm, bias 15, max 57344 (0x7B), inf 0x7C/0xFC, NaN 0x7D-0x7F / 0xFD-0xFF.
constexpr int kE5M2Mant = 2, kE5M2Emin = -14;
constexpr uint8_t kE5M2MaxCode = 0x7B, kE5M2Inf = 0x7C, kE5M2NaN = 0x7F;

V4_HD uint8_t fp8_e5m2_encode(float x, Sat sat) {
  const uint32_t u = f32_bits(x), a = u & 0x7FFFFFFFu;
  const uint8_t sign = uint8_t((u >> 24) & 0x80u);
  if (a > 0x7F800000u) return sat == Sat::satfinite ? kE5M2NaN : uint8_t(kE5M2NaN | sign);
  const uint32_t mag = a == 0x7F800000u ? 0xFFFFFFu : minifloat_rne_magnitude(a, kE5M2Mant, kE5M2Emin);
  if (mag > kE5M2MaxCode) return uint8_t((sat == Sat::satfinite ? kE5M2MaxCode : kE5M2Inf) | sign);
  return uint8_t(mag | sign);
}
V4_HD float fp8_e5m2_decode(uint8_t c) {
  const uint32_t mag = c & 0x7Fu;
  const bool neg = (c & 0x80u) != 0;
  if (mag > kE5M2Inf) return f32_from_bits(kF32CanonicalNaN);
  if (mag == kE5M2Inf) return f32_from_bits(neg ? 0xFF800000u : 0x7F800000u);
  const float v = minifloat_decode_magnitude(mag, kE5M2Mant, kE5M2Emin);
  return neg ? -v : v;
}

// ---------------------------------------------------------------------------------------------
// fp4 e2m1: s ee m, bias 1, magnitudes {0, .5, 1, 1.5, 2, 3, 4, 6}; RNE (ties to the even code),
// saturate at ±6 (inf too), −0 kept, any NaN -> +6 (0x7) as CUDA's software path on sm_90.
constexpr int kE2M1Mant = 1, kE2M1Emin = 0;
constexpr uint8_t kE2M1MaxCode = 0x7;

V4_HD uint8_t fp4_e2m1_encode(float x) {
  const uint32_t u = f32_bits(x), a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return kE2M1MaxCode;
  const uint8_t sign = uint8_t((u >> 28) & 0x8u);
  uint32_t mag = a == 0x7F800000u ? 0xFFFFFFu : minifloat_rne_magnitude(a, kE2M1Mant, kE2M1Emin);
  if (mag > kE2M1MaxCode) mag = kE2M1MaxCode;
  return uint8_t(mag | sign);
}
V4_HD float fp4_e2m1_decode(uint8_t nibble) {
  const float v = minifloat_decode_magnitude(nibble & 0x7u, kE2M1Mant, kE2M1Emin);
  return (nibble & 0x8u) ? -v : v;
}
// Packing: element 2k in the low nibble, element 2k+1 in the high nibble (OCP MX, PyTorch
// float4_e2m1fn_x2, DeepGEMM, V4 convert.py).
V4_HD uint8_t fp4_e2m1_pack(uint8_t first, uint8_t second) { return uint8_t((first & 0xFu) | ((second & 0xFu) << 4)); }
V4_HD uint8_t fp4_e2m1_unpack(uint8_t byte, int which) { return which ? uint8_t(byte >> 4) : uint8_t(byte & 0xFu); }
// Packed rows (the e2m1x2 storage format): element k of a row is in byte k/2, the low nibble for even
// k; a row of n elements takes (n + 1)/2 bytes, an odd row ending in a zero high nibble. The one place
// this addressing is written; everything else calls these.
V4_HD constexpr int64_t fp4_e2m1_row_bytes(int64_t n) { return ceil_div(n, 2); }
V4_HD uint8_t fp4_e2m1_get(const uint8_t* row, int64_t k) { return fp4_e2m1_unpack(row[k / 2], int(k % 2)); }
V4_HD void fp4_e2m1_set(uint8_t* row, int64_t k, uint8_t code) {
  uint8_t& byte = row[k / 2];
  byte = k % 2 ? fp4_e2m1_pack(fp4_e2m1_unpack(byte, 0), code) : fp4_e2m1_pack(code, fp4_e2m1_unpack(byte, 1));
}

// ---------------------------------------------------------------------------------------------
// ue8m0: value 2^(code-127) for code 0..254, 0xFF NaN. Encoding is the ceiling rule: the smallest
// power of two >= |x|, clamped to [2^-127, 2^127]; ±inf -> 0xFE; NaN -> 0xFF. This is CUDA's
// __nv_cvt_float_to_e8m0(x, __NV_SATFINITE, cudaRoundPosInf) and, for every normal x, exactly the
// kernels' fast_round_scale bit formula "exponent field + (mantissa != 0)" (v4-model.md §2.2).
constexpr uint8_t kUE8M0NaN = 0xFF, kUE8M0MaxCode = 0xFE;

V4_HD uint8_t ue8m0_encode(float x) {
  const uint32_t a = f32_bits(x) & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return kUE8M0NaN;
  if (a <= 0x00400000u) return 0;  // |x| <= 2^-127 (and ±0)
  const uint32_t e = a >> 23, m = a & 0x7FFFFFu;
  if (e == 0) return 1;            // subnormal in (2^-127, 2^-126)
  const uint32_t c = e + (m != 0 ? 1u : 0u);
  return uint8_t(c > kUE8M0MaxCode ? kUE8M0MaxCode : c);
}
V4_HD float ue8m0_decode(uint8_t c) {
  if (c == kUE8M0NaN) return f32_from_bits(kF32CanonicalNaN);
  return c == 0 ? f32_from_bits(0x00400000u) : f32_from_bits(uint32_t(c) << 23);
}
// The exponent e of the value 2^e of a non-NaN code (code 0: -127); exact scale arithmetic uses it.
V4_HD int ue8m0_exponent(uint8_t c) { return int(c) - 127; }

}  // namespace v4
