// Independent brute-force oracle for the number formats: every code of a format is decoded from the
// format's definition with std::ldexp in double (not from reference/formats.h), the finite values are
// sorted, and a float32 input is encoded by finding its two neighbours on that grid and picking the
// nearer one (ties to the even code). Used by tests/test_formats.cpp (sampled) and
// check/check_formats.cpp (all 2^32 inputs).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace v4::oracle {

struct MiniFormat {
  int exp_bits, mant_bits, bias;
  bool ieee_specials;   // e5m2/bf16: all-ones exponent = inf/NaN
  bool fn_nan_only;     // e4m3fn: only S.1111.111 is NaN, no inf
  bool no_specials;     // e2m1
};
inline constexpr MiniFormat kE4M3{4, 3, 7, false, true, false};
inline constexpr MiniFormat kE5M2{5, 2, 15, true, false, false};
inline constexpr MiniFormat kE2M1{2, 1, 1, false, false, true};
inline constexpr MiniFormat kBF16{8, 7, 127, true, false, false};

// Value of a code straight from the definition: (-1)^s 2^(e-bias) (1 + m/2^M), subnormal 2^(1-bias) m/2^M.
// Returns NaN for NaN codes, ±inf for inf codes.
inline double definition_decode(const MiniFormat& f, uint32_t code) {
  const int total = 1 + f.exp_bits + f.mant_bits;
  const bool neg = (code >> (total - 1)) & 1u;
  const uint32_t e = (code >> f.mant_bits) & ((1u << f.exp_bits) - 1u);
  const uint32_t m = code & ((1u << f.mant_bits) - 1u);
  const uint32_t emax_field = (1u << f.exp_bits) - 1u;
  double v;
  if (f.ieee_specials && e == emax_field) {
    v = m == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  } else if (f.fn_nan_only && e == emax_field && m == (1u << f.mant_bits) - 1u) {
    v = std::numeric_limits<double>::quiet_NaN();
  } else if (e == 0) {
    v = std::ldexp(double(m), 1 - f.bias - f.mant_bits);
  } else {
    v = std::ldexp(double((1u << f.mant_bits) + m), int(e) - f.bias - f.mant_bits);
  }
  return neg ? -v : v;
}

// The non-negative finite grid of a format with each value's magnitude code, ascending, plus one
// "overflow" point past the largest finite value: the value the next code would have if the top
// binade continued, carrying that next code's parity (it decides the tie at the overflow midpoint).
struct Grid {
  std::vector<double> value;
  std::vector<uint32_t> code;  // magnitude code; the last entry is the virtual overflow code
};

inline Grid make_grid(const MiniFormat& f) {
  Grid g;
  const uint32_t n = 1u << (f.exp_bits + f.mant_bits);
  uint32_t max_code = 0;
  for (uint32_t c = 0; c < n; ++c) {
    const double v = definition_decode(f, c);
    if (std::isfinite(v)) {
      g.value.push_back(v);
      g.code.push_back(c);
      max_code = c;
    }
  }
  // The top binade's step is the spacing of its last two values.
  const double step = g.value[g.value.size() - 1] - g.value[g.value.size() - 2];
  g.value.push_back(g.value.back() + step);
  g.code.push_back(max_code + 1);
  return g;
}

// Nearest grid point to |x| (x finite), ties to the even code. Returns the magnitude code; the virtual
// overflow code means "overflow". Distances are exact in long double here: both neighbours lie within
// one binade step of x, so their differences with x are exact.
inline uint32_t nearest_code(const Grid& g, float x) {
  const long double a = std::fabs(static_cast<long double>(x));
  const auto it = std::lower_bound(g.value.begin(), g.value.end(), double(a));
  if (it == g.value.end()) return g.code.back();  // beyond the overflow point
  const size_t hi = size_t(it - g.value.begin());
  if (g.value[hi] == a || hi == 0) return g.code[hi];
  const size_t lo = hi - 1;
  const long double dlo = a - g.value[lo], dhi = g.value[hi] - a;
  if (dlo < dhi) return g.code[lo];
  if (dhi < dlo) return g.code[hi];
  return (g.code[lo] & 1u) == 0 ? g.code[lo] : g.code[hi];
}

inline uint32_t f32_bits_of(float x) { uint32_t u; std::memcpy(&u, &x, 4); return u; }

// Expected encodings, from the rules in docs/formats.md, built on nearest_code.
enum class Mode { satfinite, nosat };

inline uint8_t expect_e4m3(const Grid& g, float x, Mode mode) {
  const uint32_t u = f32_bits_of(x);
  const uint8_t sign = (u >> 31) ? 0x80 : 0x00;
  if (std::isnan(x)) return mode == Mode::satfinite ? 0x7F : uint8_t(0x7F | sign);
  const uint32_t c = std::isinf(x) ? g.code.back() : nearest_code(g, x);
  if (c == g.code.back()) return mode == Mode::satfinite ? uint8_t(0x7E | sign) : uint8_t(0x7F | sign);
  return uint8_t(c | sign);
}
inline uint8_t expect_e5m2(const Grid& g, float x, Mode mode) {
  const uint32_t u = f32_bits_of(x);
  const uint8_t sign = (u >> 31) ? 0x80 : 0x00;
  if (std::isnan(x)) return mode == Mode::satfinite ? 0x7F : uint8_t(0x7F | sign);
  const uint32_t c = std::isinf(x) ? g.code.back() : nearest_code(g, x);
  if (c == g.code.back()) return mode == Mode::satfinite ? uint8_t(0x7B | sign) : uint8_t(0x7C | sign);
  return uint8_t(c | sign);
}
inline uint8_t expect_e2m1(const Grid& g, float x) {
  const uint32_t u = f32_bits_of(x);
  if (std::isnan(x)) return 0x7;
  const uint8_t sign = (u >> 31) ? 0x8 : 0x0;
  uint32_t c = std::isinf(x) ? g.code.back() : nearest_code(g, x);
  if (c == g.code.back()) c = 0x7;  // saturate
  return uint8_t(c | sign);
}
inline uint16_t expect_bf16(const Grid& g, float x) {
  const uint32_t u = f32_bits_of(x);
  if (std::isnan(x)) return 0x7FFF;
  const uint16_t sign = (u >> 31) ? 0x8000 : 0x0000;
  if (std::isinf(x)) return uint16_t(0x7F80 | sign);
  const uint32_t c = nearest_code(g, x);  // the virtual overflow code is 0x7F80 = inf
  return uint16_t(c | sign);
}
// ue8m0: smallest k in [-127, 127] with 2^k >= |x| (clamped), inf -> 2^127 (0xFE), NaN -> 0xFF.
// frexp gives |x| = m 2^e with m in [0.5, 1): the ceiling power is 2^(e-1) when m == 0.5, else 2^e.
inline uint8_t expect_ue8m0(float x) {
  if (std::isnan(x)) return 0xFF;
  if (std::isinf(x)) return 0xFE;
  if (x == 0.0f) return 0x00;
  int e = 0;
  const double m = std::frexp(std::fabs(double(x)), &e);
  const int k = std::clamp(m == 0.5 ? e - 1 : e, -127, 127);
  return uint8_t(k + 127);
}

}  // namespace v4::oracle
