// Exact (Kulisch-style) accumulator for the `exact` recipe: sums of fp32 products and of scaled integers
// with no rounding at all, then one correctly rounded (RNE) conversion to fp32 or to bf16.
// Layout: kLimbs int64 limbs, limb i holding the 32-bit digit of weight 2^(kLsbExp + 32 i); carries are
// deferred (a limb absorbs 2^30 digit additions before it could overflow) and resolved by normalize().
// Covers 2^-330 .. 2^341: every fp32 product (2^-298 .. 2^256), every FP8/FP4 block partial times a
// product of two ue8m0 scales (2^-272 .. 2^279), and sums of up to 2^30 terms below 2^309.
#pragma once
#include <cstdint>
#include <stdexcept>

#include "reference/hd.h"

namespace v4 {

class ExactAcc {
 public:
  static constexpr int kLsbExp = -330;  // weight of bit 0
  static constexpr int kLimbs = 21;     // 672 bits, two's complement in the top limb
  static constexpr int kTopExp = kLsbExp + 32 * kLimbs - 1;  // 2^341
  static constexpr int kMaxTermExp = kTopExp - 32;           // every term < 2^309: 2^30 of them cannot overflow

  ExactAcc() { clear(); }
  void clear() {
    for (int64_t& l : limb_) l = 0;
    pending_ = 0;
    nan_ = pos_inf_ = neg_inf_ = false;
  }

  // Adds mant · 2^exp2 exactly. Requires exp2 >= kLsbExp and |mant| · 2^exp2 < 2^kMaxTermExp.
  void add_scaled_int(int64_t mant, int exp2) {
    if (mant == 0) return;
    const uint64_t mag = mant < 0 ? uint64_t(0) - uint64_t(mant) : uint64_t(mant);
    if (exp2 < kLsbExp || exp2 + (64 - __builtin_clzll(mag)) > kMaxTermExp)
      throw std::out_of_range("ExactAcc::add_scaled_int: term outside the accumulator's range 2^-330..2^309");
    add_in_range(mag, mant < 0, exp2);
  }

  // Adds the exact product a·b (IEEE specials recorded in flags: NaN, 0·inf -> NaN; inf with its sign).
  void add_product(float a, float b) {
    const uint32_t ua = f32_bits(a), ub = f32_bits(b);
    const uint32_t xa = ua & 0x7FFFFFFFu, xb = ub & 0x7FFFFFFFu;
    const bool neg = ((ua ^ ub) >> 31) != 0;
    if (xa > 0x7F800000u || xb > 0x7F800000u) return mark_nan();
    if (xa == 0x7F800000u || xb == 0x7F800000u) {
      if (xa == 0 || xb == 0) return mark_nan();
      (neg ? neg_inf_ : pos_inf_) = true;
      return;
    }
    if (xa == 0 || xb == 0) return;
    int ea, eb;
    const int64_t ma = split(xa, &ea), mb = split(xb, &eb);
    add_in_range(uint64_t(ma * mb), neg, ea + eb);  // |a·b| in 2^-298 .. 2^256: always in range
  }
  void add_float(float a) { add_product(a, 1.0f); }
  void mark_nan() { nan_ = true; }

  // Correctly rounded (RNE) results. NaN 0x7FFFFFFF if any NaN, 0·inf or +inf and -inf were added;
  // else ±inf if an inf was added; an exact zero gives +0; a non-zero value that rounds to zero keeps its sign.
  float round_to_f32() const { return round_to_precision(24); }
  // Rounded once, directly onto the bf16 grid (8 significant bits, subnormals down to 2^-133, overflow
  // -> ±inf); the returned float is that bf16 value exactly, so bf16_encode() of it is lossless.
  float round_to_bf16_value() const { return round_to_precision(8); }

 private:
  // mag · 2^exp2 (mag != 0) split into three 32-bit digits added to (or subtracted from) their limbs.
  void add_in_range(uint64_t mag, bool neg, int exp2) {
    if (mag == 0) return;
    const int pos = exp2 - kLsbExp;
    const int q = pos >> 5, r = pos & 31;
    const unsigned __int128 v = static_cast<unsigned __int128>(mag) << r;  // < 2^95: three digits
    const int64_t d0 = int64_t(uint64_t(v) & 0xFFFFFFFFu);
    const int64_t d1 = int64_t(uint64_t(v >> 32) & 0xFFFFFFFFu);
    const int64_t d2 = int64_t(uint64_t(v >> 64));
    if (neg) {
      limb_[q] -= d0, limb_[q + 1] -= d1, limb_[q + 2] -= d2;
    } else {
      limb_[q] += d0, limb_[q + 1] += d1, limb_[q + 2] += d2;
    }
    if (++pending_ >= (1 << 30)) normalize();
  }

  static int64_t split(uint32_t x, int* e) {  // finite non-zero |x| = m · 2^e
    const uint32_t field = x >> 23, frac = x & 0x7FFFFFu;
    *e = field ? int(field) - 150 : -149;
    return field ? int64_t(frac | 0x800000u) : int64_t(frac);
  }

  // Carry-propagates so limbs 0..kLimbs-2 are digits in [0, 2^32) and the top limb is signed.
  void normalize() {
    int64_t carry = 0;
    for (int i = 0; i < kLimbs - 1; ++i) {
      const int64_t v = limb_[i] + carry;
      limb_[i] = v & 0xFFFFFFFF;
      carry = v >> 32;  // arithmetic shift: floor division, keeps negative carries exact
    }
    limb_[kLimbs - 1] += carry;
    pending_ = 0;
  }

  // Round the exact value to `prec` significant bits with fp32's exponent range (emin -126, emax 127).
  float round_to_precision(int prec) const {
    if (nan_ || (pos_inf_ && neg_inf_)) return f32_from_bits(0x7FFFFFFFu);
    if (pos_inf_) return f32_from_bits(0x7F800000u);
    if (neg_inf_) return f32_from_bits(0xFF800000u);
    ExactAcc t = *this;
    t.normalize();
    const bool neg = t.limb_[kLimbs - 1] < 0;
    if (neg) {
      for (int64_t& l : t.limb_) l = -l;
      t.normalize();
    }
    int top = kLimbs - 1;
    while (top >= 0 && t.limb_[top] == 0) --top;
    if (top < 0) return 0.0f;
    const int msb = 32 * top + (63 - __builtin_clzll(uint64_t(t.limb_[top])));  // bit index of the leading 1
    const int e = msb + kLsbExp;
    const int min_lsb = -126 - (prec - 1);
    const int lsb = (e - (prec - 1)) > min_lsb ? e - (prec - 1) : min_lsb;
    const int lsb_bit = lsb - kLsbExp;  // >= 0: the accumulator reaches below fp32's smallest subnormal
    uint64_t q = t.bits(lsb_bit, msb >= lsb_bit ? msb - lsb_bit + 1 : 0);
    const bool round = lsb_bit >= 1 && t.bit(lsb_bit - 1);
    const bool sticky = lsb_bit >= 2 && t.any_below(lsb_bit - 1);
    if (round && (sticky || (q & 1u))) ++q;
    return compose(q, lsb, neg);
  }

  bool bit(int i) const { return (uint64_t(limb_[i >> 5]) >> (i & 31)) & 1u; }
  uint64_t bits(int lo, int count) const {  // count <= 32
    uint64_t v = 0;
    for (int i = count - 1; i >= 0; --i) v = (v << 1) | (bit(lo + i) ? 1u : 0u);
    return v;
  }
  bool any_below(int n) const {  // any of bits 0 .. n-1 set
    const int full = n >> 5;
    for (int i = 0; i < full; ++i)
      if (limb_[i] != 0) return true;
    const int rest = n & 31;
    return rest && (uint64_t(limb_[full]) & ((uint64_t(1) << rest) - 1)) != 0;
  }
  // q · 2^lsb with q < 2^25 and lsb >= -149, as fp32 (overflow -> ±inf).
  static float compose(uint64_t q, int lsb, bool neg) {
    const uint32_t sign = neg ? 0x80000000u : 0u;
    if (q == 0) return f32_from_bits(sign);
    const int msb = 63 - __builtin_clzll(q);
    const int e = msb + lsb;
    if (e > 127) return f32_from_bits(sign | 0x7F800000u);
    if (e < -126) return f32_from_bits(sign | uint32_t(q << (lsb + 149)));
    const uint64_t m = msb <= 23 ? q << (23 - msb) : q >> (msb - 23);  // exact: q has <= 24 significant bits
    return f32_from_bits(sign | (uint32_t(e + 127) << 23) | (uint32_t(m) & 0x7FFFFFu));
  }

  int64_t limb_[kLimbs + 2];  // two zero pads: a small term near the top writes zero digits there
  int pending_;
  bool nan_, pos_inf_, neg_inf_;
};

}  // namespace v4
