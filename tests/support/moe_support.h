// Helpers shared by the mHC and MoE tests: seeded std::mt19937 fills (independent of the project's own
// generators), bf16 decoding in double, the bf16 rounding bound, bitwise comparison with the first
// mismatch reported (index, both bit patterns, both values), and the double-precision pieces of the
// expert tests (generated expert weights with their dequantized copies, act_quant dequantized, dot
// products with their magnitudes, the SwiGLU middle).
#pragma once
#include <gtest/gtest.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "reference/act_quant.h"
#include "reference/expert_ffn.h"
#include "reference/formats.h"
#include "reference/shared_expert.h"
#include "reference/weight_dequant.h"
#include "reference/weights.h"

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

// One expert's weights from the model weight generator, with their dequantized bf16 copies
// (d1, d3 [I, d], d2 [d, I]): FP4 routed or FP8 shared (make_expert_store).
struct ExpertStore {
  int64_t T = 0, d = 0, I = 0;
  std::vector<uint8_t> w1, s1, w3, s3, w2, s2;
  std::vector<uint16_t> d1, d3, d2;
  ExpertFp4Weights fp4() const { return {w1.data(), s1.data(), w3.data(), s3.data(), w2.data(), s2.data()}; }
  ExpertFp8Weights fp8() const { return {w1.data(), s1.data(), w3.data(), s3.data(), w2.data(), s2.data()}; }
  ExpertBf16Weights bf16() const { return {d1.data(), d3.data(), d2.data()}; }
};
// fp8 = false: "ffn.experts.w1/w3/w2" FP4; true: "ffn.shared_experts.w1/w3/w2" FP8 (128×128 scales).
inline ExpertStore make_expert_store(const WeightId& id, bool fp8, int64_t T, int64_t d, int64_t I) {
  ExpertStore x;
  x.T = T;
  x.d = d;
  x.I = I;
  auto one = [&](const char* m, int64_t N, int64_t K, std::vector<uint8_t>& w, std::vector<uint8_t>& s,
                 std::vector<uint16_t>& deq) {
    const std::string name = std::string(fp8 ? "ffn.shared_experts." : "ffn.experts.") + m;
    deq.resize(N * K);
    if (fp8) {
      w.resize(N * K);
      s.resize(((N + 127) / 128) * (K / 128));
      weights_fp8(id, name.c_str(), N, K, w.data(), s.data());
      weight_dequant_fp8(w.data(), s.data(), N, K, deq.data());
    } else {
      w.resize(N * K / 2);
      s.resize(N * K / 32);
      weights_fp4(id, name.c_str(), N, K, w.data(), s.data());
      weight_dequant_fp4(w.data(), s.data(), N, K, deq.data());
    }
  };
  one("w1", I, d, x.w1, x.s1, x.d1);
  one("w3", I, d, x.w3, x.s3, x.d3);
  one("w2", d, I, x.w2, x.s2, x.d2);
  return x;
}

// Dequantized act_quant of rows [T, n] (block 128): fp8(q)·s exactly, in double.
inline std::vector<double> act_quant_dequantized(const std::vector<uint16_t>& a, int64_t T, int64_t n) {
  std::vector<uint8_t> q(T * n), s(T * n / 128);
  act_quant(a.data(), T, n, 128, q.data(), s.data());
  std::vector<double> v(T * n);
  for (int64_t i = 0; i < T * n; ++i) v[i] = double(fp8_e4m3_decode(q[i])) * ue8m0_decode(s[(i / n) * (n / 128) + (i % n) / 128]);
  return v;
}

// C = A·Bᵀ in double with the sum of |terms| per output: A [T, K] (double), B [N, K] bf16.
inline void dot_rows(const std::vector<double>& A, const std::vector<uint16_t>& B, int64_t T, int64_t N, int64_t K,
                     std::vector<double>& c, std::vector<double>& mag) {
  c.assign(T * N, 0.0);
  mag.assign(T * N, 0.0);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) {
        const double p = A[t * K + k] * bf(B[n * K + k]);
        c[t * N + n] += p;
        mag[t * N + n] += std::abs(p);
      }
}

// The SwiGLU middle in double: w · silu(min(g, limit)) · clamp(u, ±limit); limit 0 disables both clamps.
inline double swiglu_exact(double g, double u, double w, double limit) {
  if (limit > 0) {
    u = std::min(std::max(u, -limit), limit);
    g = std::min(g, limit);
  }
  return w * (g / (1 + std::exp(-g))) * u;
}

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
