// Hopper tensor-core model: the fused dot-add of one wgmma instruction, after MMA-Sim (numerics.md §4.2),
// compiled for host and device so the C++ `hopper` recipe and the CUDA kernels share one definition.
// One instruction computes d = c + Σ_{i<k} a_i·b_i (k = 32 for FP8, 16 for bf16) as:
//   1. exact products; each term carries MMA-Sim's alignment exponent (ea + eb of the operands'
//      1.x / 0.x-at-emin forms; c: its fp32 exponent, -126 for subnormals);
//   2. the largest alignment exponent E over the non-zero terms (a zero product or c = 0 has none);
//   3. every term truncated toward zero to `align_bits` fraction bits below 2^E, then summed exactly;
//   4. the sum normalised (fp32 exponent range, subnormals at -126) and truncated toward zero to
//      `out_frac_bits` fraction bits; exponent above 127 -> ±inf; an exact or truncated zero -> +0.
//   Specials as IEEE on the exact sum: any NaN, 0·inf or inf - inf -> NaN 0x7FFFFFFF; else an inf passes.
// FP8 e4m3: 13 / 13 bits (validated bit for bit on an H100, docs/gemm.md); bf16: 25 / 23 (MMA-Sim).
// Integer arithmetic only: the result cannot depend on the compiler, FTZ/DAZ or contraction.
#pragma once
#include "reference/hd.h"

namespace v4 {

// Per-instruction parameters. mant_bits/emin describe the operand formats (e4m3: 3, -6; bf16: 7, -126).
struct WgmmaModel {
  int a_mant_bits, a_emin, b_mant_bits, b_emin;
  int align_bits;     // fraction bits kept below the largest exponent when aligning terms
  int out_frac_bits;  // fraction bits of the written-back fp32 accumulator (RZ)
};
constexpr WgmmaModel kWgmmaE4M3 = {3, -6, 3, -6, 13, 13};     // wgmma .f32.e4m3.e4m3, k32
constexpr WgmmaModel kWgmmaBF16 = {7, -126, 7, -126, 25, 23};  // wgmma .f32.bf16.bf16, k16
constexpr int kWgmmaE4M3K = 32, kWgmmaBF16K = 16;

// One operand split into integer significand and alignment exponent:
// finite v = sig · 2^(exp − mant_bits), exp = max(floor(log2|v|), emin), |sig| < 2^(mant_bits+1), zero: sig = 0.
// Specials: exp = kWgmmaExpInf (sig = ±1) or kWgmmaExpNaN.
struct WgmmaOperand {
  int32_t sig;
  int32_t exp;
};
constexpr int32_t kWgmmaExpInf = 1 << 20, kWgmmaExpNaN = (1 << 20) + 1;

V4_HD int wgmma_bit_length(uint64_t x) {
#if defined(__CUDA_ARCH__)
  return x ? 64 - __clzll((long long)x) : 0;
#else
  return x ? 64 - __builtin_clzll(x) : 0;
#endif
}

// Split a float that holds a value of the (mant_bits, emin) format (exactly: e4m3, e5m2, bf16, fp16 and
// fp32 values are floats). Low bits that the format cannot hold are dropped (never happens for valid inputs).
V4_HD WgmmaOperand wgmma_operand(float v, int mant_bits, int emin) {
  const uint32_t u = f32_bits(v), a = u & 0x7FFFFFFFu;
  const int32_t sign = (u >> 31) ? -1 : 1;
  if (a > 0x7F800000u) return {0, kWgmmaExpNaN};
  if (a == 0x7F800000u) return {sign, kWgmmaExpInf};
  if (a == 0) return {0, emin};
  const int field = int(a >> 23);
  const int32_t m24 = int32_t((a & 0x7FFFFFu) | (field ? 0x800000u : 0u));  // v = m24 · 2^(e − 23)
  const int e = field ? field - 127 : -126;
  const int exp = e > emin ? e : emin;
  const int shift = 23 - mant_bits + (exp - e);
  const int32_t sig = shift >= 31 ? 0 : (m24 >> shift);
  return {sign * sig, exp};
}

// Magnitude |m| · 2^sh (sh may be negative: right shift, i.e. truncation toward zero of the magnitude).
V4_HD uint64_t wgmma_shift_magnitude(uint64_t mag, int sh) {
  if (sh >= 0) return mag << sh;  // callers keep |term| < 2^(align_bits + 3): no overflow
  return -sh >= 64 ? 0 : mag >> -sh;
}

// Exact fp32 of mag · 2^lsb_exp where the value is known to be representable (mag < 2^25 after RZ).
V4_HD float wgmma_f32_from_scaled(uint64_t mag, int lsb_exp, bool neg) {
  if (mag == 0) return 0.0f;
  const int msb = wgmma_bit_length(mag) - 1;
  const int e = msb + lsb_exp;
  uint32_t bits;
  if (e > 127) {
    bits = 0x7F800000u;
  } else if (e >= -126) {
    const uint64_t m = msb <= 23 ? mag << (23 - msb) : mag >> (msb - 23);
    bits = (uint32_t(e + 127) << 23) | (uint32_t(m) & 0x7FFFFFu);
  } else {
    bits = uint32_t(mag << (lsb_exp + 149));  // subnormal: lsb_exp >= -149 by construction
  }
  return f32_from_bits(bits | (neg ? 0x80000000u : 0u));
}

constexpr int kWgmmaMaxK = kWgmmaE4M3K;  // the widest instruction K modelled (FP8 k32)

// Specials of one instruction (some operand or c is inf or NaN), as IEEE on the exact sum: any NaN,
// 0·inf or inf - inf -> NaN 0x7FFFFFFF; else ±inf.
V4_HD float wgmma_specials(const WgmmaOperand* a, const WgmmaOperand* b, int k, const WgmmaOperand& cc) {
  bool nan = cc.exp == kWgmmaExpNaN, pinf = false, ninf = false;
  if (cc.exp == kWgmmaExpInf) (cc.sig > 0 ? pinf : ninf) = true;
  for (int i = 0; i < k; ++i) {
    const bool ai = a[i].exp == kWgmmaExpInf, bi = b[i].exp == kWgmmaExpInf;
    if (a[i].exp == kWgmmaExpNaN || b[i].exp == kWgmmaExpNaN) {
      nan = true;
    } else if (ai || bi) {
      if (a[i].sig == 0 || b[i].sig == 0) nan = true;  // 0 · inf
      else ((a[i].sig > 0) == (b[i].sig > 0) ? pinf : ninf) = true;
    }
  }
  return f32_from_bits(nan || (pinf && ninf) ? 0x7FFFFFFFu : pinf ? 0x7F800000u : 0xFF800000u);
}

// d = c + Σ_{i<k} a[i]·b[i] as one tensor-core instruction (see the file comment); k <= kWgmmaMaxK.
// The finite path is written as flat loops over the k terms so that compilers vectorise it.
V4_HD float wgmma_fused_dot_add(const WgmmaOperand* a, const WgmmaOperand* b, int k, float c, WgmmaModel m) {
  const WgmmaOperand cc = wgmma_operand(c, 23, -126);

  // Exact products P_i = sig_a·sig_b (|P| < 2^16) with alignment exponent E_i = exp_a + exp_b.
  constexpr int kNone = -(1 << 30);
  int32_t p[kWgmmaMaxK], e[kWgmmaMaxK];
  int emax = cc.sig != 0 ? cc.exp : kNone, raw = cc.exp;
  for (int i = 0; i < k; ++i) {
    p[i] = a[i].sig * b[i].sig;
    e[i] = a[i].exp + b[i].exp;
    const int ei = p[i] != 0 ? e[i] : kNone;  // zero products take no part in the alignment
    emax = ei > emax ? ei : emax;
    const int ri = a[i].exp > b[i].exp ? a[i].exp : b[i].exp;
    raw = ri > raw ? ri : raw;
  }
  if (raw >= kWgmmaExpInf) return wgmma_specials(a, b, k, cc);
  if (emax == kNone) return 0.0f;

  // Align to 2^(emax - align_bits), truncate each term toward zero, add exactly: the sum is S·2^lsb.
  const int lsb = emax - m.align_bits;
  const int up = m.align_bits - (m.a_mant_bits + m.b_mant_bits) - emax;  // term shift = e[i] + up
  int64_t s = 0;
  for (int i = 0; i < k; ++i) {
    const int64_t mag = p[i] < 0 ? -int64_t(p[i]) : int64_t(p[i]);
    const int sh = e[i] + up;  // <= align_bits - prod_frac: |term| < 2^(align_bits + 2)
    const int64_t t = sh >= 0 ? mag << (sh & 63) : mag >> ((-sh) < 63 ? -sh : 63);
    s += p[i] < 0 ? -t : t;
  }
  if (cc.sig != 0) {
    const uint64_t t = wgmma_shift_magnitude(uint64_t(cc.sig < 0 ? -int64_t(cc.sig) : cc.sig), cc.exp - lsb - 23);
    s += cc.sig < 0 ? -int64_t(t) : int64_t(t);
  }
  if (s == 0) return 0.0f;

  // Normalise and truncate toward zero to out_frac_bits (fp32 exponent range, subnormals at -126).
  const bool neg = s < 0;
  uint64_t mag = uint64_t(neg ? -s : s);
  const int top = wgmma_bit_length(mag) - 1 + lsb;
  const int e_out = top > -126 ? top : -126;
  const int drop = (e_out - m.out_frac_bits) - lsb;
  if (drop <= 0) return wgmma_f32_from_scaled(mag, lsb, neg);
  mag = drop >= 64 ? 0 : mag >> drop;
  if (mag == 0) return 0.0f;
  return wgmma_f32_from_scaled(mag, lsb + drop, neg);
}

// One instruction on operand values: d = c + Σ_{i<k_instr} a[i]·b[i], of which the first n terms are given
// and the rest are zero products (a K tail padded to a whole instruction). a, b hold values of the
// instruction's input formats (e4m3 holds every e2m1 value); k_instr <= kWgmmaMaxK. The model is passed by
// value: device code may copy a constexpr model but not take its address.
V4_HD float wgmma_dot_add_values(WgmmaModel model, int k_instr, const float* a, const float* b, int64_t n, float c) {
  WgmmaOperand ao[kWgmmaMaxK], bo[kWgmmaMaxK];
  for (int i = 0; i < k_instr; ++i) {
    ao[i] = wgmma_operand(i < n ? a[i] : 0.0f, model.a_mant_bits, model.a_emin);
    bo[i] = wgmma_operand(i < n ? b[i] : 0.0f, model.b_mant_bits, model.b_emin);
  }
  return wgmma_fused_dot_add(ao, bo, k_instr, c, model);
}

}  // namespace v4
