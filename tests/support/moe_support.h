// Helpers shared by the mHC and MoE tests: seeded std::mt19937 fills (independent of the project's own
// generators), bf16 decoding in double, the bf16 rounding bound, and bitwise comparison with the first
// mismatch reported (index, both bit patterns, both values).
#pragma once
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "reference/formats.h"

namespace v4::testsupport {

constexpr double kU32 = 0x1p-24;  // fp32 unit roundoff

// bf16 codes of N(0, sigma²) values (RNE), optionally with exact zeros.
inline std::vector<uint16_t> normal_bf16(size_t n, float sigma, uint32_t seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<uint16_t> v(n);
  for (auto& c : v) c = bf16_encode(d(g));
  return v;
}
inline std::vector<float> normal_f32(size_t n, float sigma, uint32_t seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}
// bf16 codes of small integers in [lo, hi] (exact in bf16 and in every sum of a few of them).
inline std::vector<uint16_t> int_bf16(size_t n, int lo, int hi, uint32_t seed) {
  std::mt19937 g(seed);
  std::vector<uint16_t> v(n);
  for (auto& c : v) c = bf16_encode(float(lo + int(g() % uint32_t(hi - lo + 1))));
  return v;
}

inline double bf(uint16_t c) { return double(bf16_decode(c)); }

// Half an ulp of bf16 at magnitude |x| (normal range): the most an RNE cast to bf16 moves x.
inline double bf16_half_ulp(double x) {
  const double a = std::abs(x);
  if (a < 0x1p-126) return 0x1p-134;
  int e;
  std::frexp(a, &e);  // a in [2^(e-1), 2^e)
  return std::ldexp(1.0, e - 1 - 8);
}

// |got - exact| within err (an fp32 error bound) plus the bf16 rounding of a value within err of exact.
inline bool bf16_within(uint16_t got, double exact, double err) {
  const double g = bf(got);
  return std::abs(g - exact) <= err + bf16_half_ulp(std::abs(exact) + err);
}

// gamma_n = n u / (1 - n u): the relative bound of an n-term sequential fma dot product.
inline double dot_gamma(int64_t n) { return double(n) * kU32 / (1.0 - double(n) * kU32); }

template <class T>
::testing::AssertionResult same_bits(const std::vector<T>& a, const std::vector<T>& b, const std::string& what) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << what << ": sizes " << a.size() << " vs " << b.size();
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) {
      std::ostringstream os;
      os << what << ": first mismatch at flat index " << i << std::hex << ": 0x" << uint64_t(a[i]) << " vs 0x"
         << uint64_t(b[i]);
      return ::testing::AssertionFailure() << os.str();
    }
  return ::testing::AssertionSuccess();
}
inline ::testing::AssertionResult same_bits(const std::vector<float>& a, const std::vector<float>& b,
                                            const std::string& what) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << what << ": sizes differ";
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], 4) != 0) {
      uint32_t x, y;
      std::memcpy(&x, &a[i], 4);
      std::memcpy(&y, &b[i], 4);
      std::ostringstream os;
      os << what << ": first mismatch at flat index " << i << ": " << a[i] << " (0x" << std::hex << x << ") vs "
         << std::dec << b[i] << " (0x" << std::hex << y << ")";
      return ::testing::AssertionFailure() << os.str();
    }
  return ::testing::AssertionSuccess();
}

// Runs f() with exactly `threads` OpenMP threads, restoring the previous setting.
template <class F>
void with_threads(int threads, F&& f) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  f();
  omp_set_num_threads(saved);
}

}  // namespace v4::testsupport
