// Test fixtures for the attention components: seeded bf16 activations, fp32 weights with bf16 values,
// and FP8 weights quantized from Gaussian fp32 weights per 128×128 block (ue8m0 ceiling scales), so that
// the layer's activations stay near unit scale like a trained model's. Not a reference: only inputs.
#pragma once
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "reference/formats.h"
#include "reference/linear.h"
#include "reference/rope.h"

namespace v4::fixtures {

inline std::vector<uint16_t> bf16_normal(size_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, sigma);
  std::vector<uint16_t> v(n);
  for (auto& x : v) x = bf16_encode(g(rng));
  return v;
}

inline std::vector<float> f32_bf16_normal(size_t n, uint32_t seed, float sigma = 1.0f, float mean = 0.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(mean, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = bf16_round(g(rng));
  return v;
}

// An FP8 weight [out, in] (in % 128 == 0) holding its storage.
struct Fp8W {
  std::vector<uint8_t> w, s;
  int64_t out = 0, in = 0;
  Fp8Weight view() const { return {w.data(), s.data(), out, in}; }
  float value(int64_t i, int64_t j) const {
    return fp8_e4m3_decode(w[i * in + j]) * ue8m0_decode(s[(i / 128) * (in / 128) + j / 128]);
  }
};

// Gaussian N(0, sigma²) weights quantized per 128×128 block: s = smallest power of two >= amax/448.
inline Fp8W fp8_normal(int64_t out, int64_t in, uint32_t seed, float sigma) {
  Fp8W f;
  f.out = out;
  f.in = in;
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, sigma);
  std::vector<float> w(out * in);
  for (auto& x : w) x = g(rng);
  const int64_t rb = (out + 127) / 128, cb = in / 128;
  f.w.resize(out * in);
  f.s.resize(rb * cb);
  for (int64_t bi = 0; bi < rb; ++bi)
    for (int64_t bj = 0; bj < cb; ++bj) {
      float amax = 1e-30f;
      for (int64_t i = bi * 128; i < std::min(out, bi * 128 + 128); ++i)
        for (int64_t j = bj * 128; j < bj * 128 + 128; ++j) amax = std::max(amax, std::fabs(w[i * in + j]));
      const uint8_t sc = ue8m0_encode(amax / 448.0f);
      f.s[bi * cb + bj] = sc;
      for (int64_t i = bi * 128; i < std::min(out, bi * 128 + 128); ++i)
        for (int64_t j = bj * 128; j < bj * 128 + 128; ++j)
          f.w[i * in + j] = fp8_e4m3_encode(w[i * in + j] / ue8m0_decode(sc), Sat::satfinite);
    }
  return f;
}

// Sets the OpenMP thread count for a scope. Long sequential tests (decode loops of many small calls) run on
// one thread: on a loaded 2-core machine every parallel region's barrier can cost milliseconds; thread
// independence has its own tests.
struct ThreadsScope {
  explicit ThreadsScope(int n) : saved(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~ThreadsScope() { omp_set_num_threads(saved); }
  int saved;
};

// A RoPE table (positions 0 .. P-1) holding its storage.
struct Table {
  std::vector<float> c, s;
  RopeTable view() const { return {c.data(), s.data(), int64_t(c.size() / 32), 32}; }
};
inline Table rope_tab(const RopeParams& p, int64_t P) {
  Table t{std::vector<float>(P * 32), std::vector<float>(P * 32)};
  rope_table(p, P, t.c.data(), t.s.data());
  return t;
}

}  // namespace v4::fixtures
