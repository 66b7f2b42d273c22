// The tiled GEMM kernels (reference/gemm_tiled.cpp, run by the public functions of reference/gemm.h)
// against the plain loops that define the recipes (the *_plain functions, reference/gemm.cpp): every GEMM
// flavour and recipe, odd M and N that cut every OpenMP tile, sub-tile and register tile, K from one block
// to ten, 1 and 2 OpenMP threads, every output compared bit for bit (fp32 outputs by their bits, NaN
// payloads included). The inputs mix ordinary values with the special cases the recipes define -- NaN
// element codes and scales, scale products outside fp32's range, subnormals, signed zeros, infinities --
// so the agreement covers them too. That the plain loops compute the recipes of docs/gemm.md is shown by
// independent derivations in tests/test_gemm.cpp (run on the public functions, equal to these).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference/formats.h"
#include "reference/gemm.h"
#include "reference/wgmma_model.h"

using namespace v4;

namespace {

const Recipe kRecipes[] = {Recipe::canonical, Recipe::hopper, Recipe::exact};
const int kThreadCounts[] = {1, 2};

// Odd shapes: every value of {1, 3, 37, 99, 130, 257} as M and as N, and one shape that spans several
// tiles in both directions (tiles are 64 or 128 rows and 128 to 512 columns; register tiles 8/16 × 6).
// To keep the test to seconds, a shape runs at a K only within kMaxMacs multiply-adds (the thin shapes
// run at every K), and the large shape at the smallest non-empty K.
struct MN {
  int64_t M, N;
};
const MN kShapes[] = {{1, 257}, {3, 130}, {37, 99}, {99, 37}, {130, 3}, {257, 1}};
const MN kLargeShape = {130, 257};
constexpr int64_t kMaxMacs = int64_t(1) << 22;

// ---------------------------------------------------------------------------------------------
// Inputs. Rates are chosen so that most outputs stay finite while NaN and overflow cases still occur in
// every sweep (at K = 1280 about a quarter of the FP8 outputs meet a NaN code).
std::vector<uint8_t> e4m3_codes(std::mt19937_64& rng, int64_t n) {
  std::vector<uint8_t> v(static_cast<size_t>(n));
  for (auto& c : v) {
    const uint64_t r = rng();
    c = uint8_t(r);
    if ((c & 0x7F) == kE4M3NaN && (r >> 8) % 64 != 0) c ^= 1;  // keep 1 in 64 NaN codes; else ±448
  }
  return v;
}
// ue8m0 scale codes uniform in [lo, hi]; 1 in 32 from the edges (2^-127, 2^-126, 2^126, 2^127, NaN), so
// that scale products below 2^-149 (-> +0) and above 2^127 (-> inf) occur.
std::vector<uint8_t> scale_codes(std::mt19937_64& rng, int64_t n, int lo, int hi) {
  static const uint8_t kEdges[] = {0, 1, 253, 254, kUE8M0NaN};
  std::vector<uint8_t> v(static_cast<size_t>(n));
  for (auto& c : v) {
    const uint64_t r = rng();
    c = r % 32 == 0 ? kEdges[(r >> 8) % 5] : uint8_t(lo + int((r >> 8) % uint64_t(hi - lo + 1)));
  }
  return v;
}
// Two scale families: ordinary (2^-7 .. 2^7), and tiny, where every promoted block lands near fp32's
// subnormal range (A scales 2^-127 .. 2^-119, B scales 2^-27 .. 2^-12: products 2^-154 .. 2^-131) --
// there the single rounding of the fused promotion differs from a multiply-then-add.
struct ScaleFamily {
  const char* name;
  int a_lo, a_hi, b_lo, b_hi;
  std::vector<int64_t> ks;
  bool large;  // also the large shape
};
const ScaleFamily kScaleFamilies[] = {{"ordinary", 120, 134, 120, 134, {128, 384, 1280}, true},
                                      {"tiny", 0, 8, 100, 115, {128, 384}, false}};
std::vector<uint8_t> random_bytes(std::mt19937_64& rng, int64_t n) {
  std::vector<uint8_t> v(static_cast<size_t>(n));
  for (auto& c : v) c = uint8_t(rng());
  return v;
}
// fp32 values: random sign and 23-bit mantissa, exponent within ±30 of 1; 1 in 64 a zero or subnormal,
// 1 in 1024 an infinity or a NaN (two payloads and both signs).
float random_f32(std::mt19937_64& rng) {
  const uint64_t r = rng();
  const uint32_t sign = uint32_t(r & 1) << 31, mant = uint32_t(r >> 1) & 0x7FFFFFu;
  if ((r >> 32) % 1024 == 0) {
    static const uint32_t kSpecial[] = {0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00001u, 0x7FA00000u};
    return f32_from_bits(kSpecial[(r >> 42) % 5]);
  }
  if ((r >> 32) % 64 == 1) return f32_from_bits(sign | ((r >> 44) % 2 ? mant : 0u));
  return f32_from_bits(sign | (uint32_t(127 - 30 + (r >> 24) % 61) << 23) | mant);
}
std::vector<float> f32_values(std::mt19937_64& rng, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = random_f32(rng);
  return v;
}
// bf16 codes of the same distribution (the fp32 bits cut to their top half: a bf16 code of that class).
std::vector<uint16_t> bf16_codes(std::mt19937_64& rng, int64_t n) {
  std::vector<uint16_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = uint16_t(f32_bits(random_f32(rng)) >> 16);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Bitwise comparison of two [M, N] outputs; a failure names the case, the mismatch count and the first
// mismatch with its coordinates and both bit patterns.
uint32_t bits_of(float x) { return f32_bits(x); }
uint32_t bits_of(uint16_t x) { return x; }

template <class T>
void expect_same_bits(const std::vector<T>& plain, const std::vector<T>& tiled, int64_t N, const std::string& what) {
  ASSERT_EQ(plain.size(), tiled.size()) << what;
  int64_t bad = 0, first = -1;
  for (size_t i = 0; i < plain.size(); ++i)
    if (bits_of(plain[i]) != bits_of(tiled[i])) {
      if (first < 0) first = int64_t(i);
      ++bad;
    }
  if (bad == 0) return;
  char buf[160];
  std::snprintf(buf, sizeof buf, "first at (m=%lld, n=%lld): plain 0x%08X tiled 0x%08X",
                (long long)(first / N), (long long)(first % N), bits_of(plain[size_t(first)]),
                bits_of(tiled[size_t(first)]));
  ADD_FAILURE() << what << ": " << bad << " of " << plain.size() << " outputs differ; " << buf;
}

// Runs one GEMM (run(plain?, out)): the tiled kernels at 1 and 2 threads must equal the plain loops on
// 1 thread. On the large shape the plain loops on 2 threads are compared as well (their rows split
// between the threads there).
template <class T>
void compare(int64_t M, int64_t N, const std::string& what, const std::function<void(bool, T*)>& run) {
  const int saved = omp_get_max_threads();
  std::vector<T> reference(size_t(M * N));
  omp_set_num_threads(1);
  run(true, reference.data());
  for (int threads : kThreadCounts)
    for (bool plain : {false, true}) {
      if (plain && (threads == 1 || M != kLargeShape.M || N != kLargeShape.N)) continue;
      omp_set_num_threads(threads);
      std::vector<T> got(size_t(M * N));
      run(plain, got.data());
      expect_same_bits(reference, got, N,
                       what + (plain ? " plain" : " tiled") + ", " + std::to_string(threads) + " thread(s)");
    }
  omp_set_num_threads(saved);
}

std::string case_name(const char* gemm, Recipe r, int64_t M, int64_t N, int64_t K) {
  return std::string(gemm) + " " + recipe_name(r) + " M=" + std::to_string(M) + " N=" + std::to_string(N) +
         " K=" + std::to_string(K);
}

// The shapes at every K (within kMaxMacs); the large shape (unless !large) at the first non-empty K.
template <class F>
void for_each_shape(const std::vector<int64_t>& ks, F&& f, bool large = true) {
  bool large_done = !large;
  for (int64_t K : ks) {
    for (const MN& s : kShapes)
      if (s.M * s.N * K <= kMaxMacs) f(s.M, s.N, K);
    if (K > 0 && !large_done) {
      f(kLargeShape.M, kLargeShape.N, K);
      large_done = true;
    }
  }
}

}  // namespace

// =============================================================================================
namespace {
using ScaledBf16 = void (*)(const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, int64_t, int64_t, int64_t,
                            Recipe, uint16_t*);
using ScaledF32 = void (*)(const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, int64_t, int64_t, int64_t,
                           Recipe, float*);
// One of the scaled GEMMs: its name, its B operand (e4m3 codes or packed e2m1) and b_scale shape, and its
// four functions (bf16 and fp32 outputs, tiled and plain).
struct ScaledGemm {
  const char* name;
  bool fp4;
  ScaledBf16 tiled, plain;
  ScaledF32 tiled_f32acc, plain_f32acc;
};

void scaled_sweep(const ScaledGemm& gemm, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (const ScaleFamily& f : kScaleFamilies) {
    auto one_shape = [&](int64_t M, int64_t N, int64_t K) {
      const auto a = e4m3_codes(rng, M * K);
      const auto b = gemm.fp4 ? random_bytes(rng, N * fp4_e2m1_row_bytes(K)) : e4m3_codes(rng, N * K);
      const auto sa = scale_codes(rng, M * (K / 128), f.a_lo, f.a_hi);
      const auto sb = scale_codes(rng, gemm.fp4 ? N * (K / 32) : (N + 127) / 128 * (K / 128), f.b_lo, f.b_hi);
      for (Recipe r : kRecipes) {
        const std::string at = case_name(gemm.name, r, M, N, K) + " scales " + f.name;
        compare<uint16_t>(M, N, at, [&](bool plain, uint16_t* c) {
          (plain ? gemm.plain : gemm.tiled)(a.data(), sa.data(), b.data(), sb.data(), M, N, K, r, c);
        });
        compare<float>(M, N, at + " f32acc", [&](bool plain, float* c) {
          (plain ? gemm.plain_f32acc : gemm.tiled_f32acc)(a.data(), sa.data(), b.data(), sb.data(), M, N, K, r, c);
        });
      }
    };
    for_each_shape(f.ks, one_shape, f.large);
  }
}
}  // namespace

TEST(GemmTiled, Fp8EqualsPlainLoops) {
  scaled_sweep({"fp8_gemm", false, fp8_gemm, fp8_gemm_plain, fp8_gemm_f32acc, fp8_gemm_f32acc_plain}, 101);
}

TEST(GemmTiled, Fp4EqualsPlainLoops) {
  scaled_sweep({"fp4_gemm", true, fp4_gemm, fp4_gemm_plain, fp4_gemm_f32acc, fp4_gemm_f32acc_plain}, 102);
}

// The FP4×FP8 GEMM takes K in whole 128-wide activation scale blocks: K = 32, 96, 160 (whole FP4 blocks
// but not whole FP8 ones) are refused by both implementations alike.
TEST(GemmTiled, Fp4RefusesPartialActivationScaleBlocksInBothPaths) {
  std::vector<uint8_t> buf(4096, 0);
  std::vector<uint16_t> c16(4);
  std::vector<float> c32(4);
  for (int64_t K : {32, 96, 160}) {
    EXPECT_THROW(fp4_gemm(buf.data(), buf.data(), buf.data(), buf.data(), 2, 2, K, Recipe::canonical, c16.data()),
                 std::invalid_argument);
    EXPECT_THROW(fp4_gemm_plain(buf.data(), buf.data(), buf.data(), buf.data(), 2, 2, K, Recipe::canonical, c16.data()),
                 std::invalid_argument);
    EXPECT_THROW(fp4_gemm_f32acc_plain(buf.data(), buf.data(), buf.data(), buf.data(), 2, 2, K, Recipe::exact, c32.data()),
                 std::invalid_argument);
  }
}

TEST(GemmTiled, Bf16AndF32EqualPlainLoops) {
  std::mt19937_64 rng(103);
  for_each_shape({0, 1, 7, 300}, [&](int64_t M, int64_t N, int64_t K) {
    const auto a16 = bf16_codes(rng, M * K), b16 = bf16_codes(rng, N * K);
    const auto a32 = f32_values(rng, M * K), b32 = f32_values(rng, N * K);
    for (Recipe r : kRecipes) {
      compare<uint16_t>(M, N, case_name("bf16_gemm", r, M, N, K), [&](bool plain, uint16_t* c) {
        (plain ? bf16_gemm_plain : bf16_gemm)(a16.data(), b16.data(), M, N, K, r, c);
      });
      compare<float>(M, N, case_name("bf16_gemm_f32acc", r, M, N, K), [&](bool plain, float* c) {
        (plain ? bf16_gemm_f32acc_plain : bf16_gemm_f32acc)(a16.data(), b16.data(), M, N, K, r, c);
      });
      compare<float>(M, N, case_name("f32_gemm", r, M, N, K), [&](bool plain, float* c) {
        (plain ? f32_gemm_plain : f32_gemm)(a32.data(), b32.data(), M, N, K, r, c);
      });
    }
  });
}

// The unscaled Hopper chains: K in whole k32 instructions (32, 96, 160: odd instruction counts; 384: three
// 128-groups), every valid promotion width of {0, 32, 128, K}; an initial accumulator with 0 and 32.
TEST(GemmTiled, HopperChainsEqualPlainLoops) {
  std::mt19937_64 rng(104);
  for_each_shape({32, 96, 160, 384}, [&](int64_t M, int64_t N, int64_t K) {
    const auto a = e4m3_codes(rng, M * K), b = e4m3_codes(rng, N * K);
    const auto c_init = f32_values(rng, M * N);
    for (int64_t promote : {int64_t(0), int64_t(32), int64_t(128), K}) {
      if ((promote > 0 && K % promote != 0) || (promote == K && (K == 32 || K == 128))) continue;  // invalid, or listed
      for (const float* init : {static_cast<const float*>(nullptr), c_init.data()}) {
        if (init && promote > kWgmmaE4M3K) continue;  // c_init: with one chain and with promotion every 32
        compare<float>(M, N,
                       "hopper_fp8_gemm_f32 promote_every=" + std::to_string(promote) + (init ? " c_init" : "") +
                           " M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K),
                       [&](bool plain, float* c) {
                         (plain ? hopper_fp8_gemm_f32_plain : hopper_fp8_gemm_f32)(a.data(), b.data(), M, N, K,
                                                                                   promote, init, c);
                       });
      }
    }
  });
  for_each_shape({0, 1, 7, 300}, [&](int64_t M, int64_t N, int64_t K) {
    const auto a = bf16_codes(rng, M * K), b = bf16_codes(rng, N * K);
    const auto c_init = f32_values(rng, M * N);
    for (const float* init : {static_cast<const float*>(nullptr), c_init.data()})
      compare<float>(M, N,
                     std::string("hopper_bf16_gemm_f32") + (init ? " c_init" : "") + " M=" + std::to_string(M) +
                         " N=" + std::to_string(N) + " K=" + std::to_string(K),
                     [&](bool plain, float* c) {
                       (plain ? hopper_bf16_gemm_f32_plain : hopper_bf16_gemm_f32)(a.data(), b.data(), M, N, K, init, c);
                     });
  });
}

// Empty outputs read and write nothing in both paths, which accept or refuse null operands alike (the
// scaled GEMMs need no operand for an empty output, the others need a row operand whenever its rows and K
// are non-empty), and K = 0 gives +0 in every recipe with null operands.
TEST(GemmTiled, EmptyOutputsAndEmptyKInBothPaths) {
  auto throws = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const std::invalid_argument&) {
      return true;
    }
    return false;
  };
  for (auto [M, N] : {std::pair<int64_t, int64_t>{3, 0}, {0, 3}})
    for (Recipe r : kRecipes) {
      const std::string at = std::string(recipe_name(r)) + " M=" + std::to_string(M) + " N=" + std::to_string(N);
      EXPECT_FALSE(throws([&] { fp8_gemm_plain(nullptr, nullptr, nullptr, nullptr, M, N, 128, r, nullptr); })) << at;
      EXPECT_FALSE(throws([&] { fp4_gemm_f32acc_plain(nullptr, nullptr, nullptr, nullptr, M, N, 128, r, nullptr); }))
          << at;
      EXPECT_EQ(throws([&] { bf16_gemm(nullptr, nullptr, M, N, 5, r, nullptr); }),
                throws([&] { bf16_gemm_plain(nullptr, nullptr, M, N, 5, r, nullptr); }))
          << at;
      EXPECT_EQ(throws([&] { f32_gemm(nullptr, nullptr, M, N, 5, r, nullptr); }),
                throws([&] { f32_gemm_plain(nullptr, nullptr, M, N, 5, r, nullptr); }))
          << at;
      const std::vector<uint8_t> e4m3(3 * 64, 0x38);
      const std::vector<uint16_t> bf16(3 * 5, 0x3F80);
      EXPECT_FALSE(throws([&] { hopper_fp8_gemm_f32_plain(e4m3.data(), e4m3.data(), M, N, 64, 32, nullptr, nullptr); }))
          << at;
      EXPECT_FALSE(throws([&] { hopper_bf16_gemm_f32_plain(bf16.data(), bf16.data(), M, N, 5, nullptr, nullptr); }))
          << at;
    }
  for (Recipe r : kRecipes) {
    std::vector<uint16_t> c16(4, 0xFFFF);
    std::vector<float> c32(4, -1.0f);
    fp8_gemm_plain(nullptr, nullptr, nullptr, nullptr, 2, 2, 0, r, c16.data());
    EXPECT_EQ(c16, std::vector<uint16_t>(4, 0)) << recipe_name(r);
    fp4_gemm_f32acc_plain(nullptr, nullptr, nullptr, nullptr, 2, 2, 0, r, c32.data());
    for (float x : c32) EXPECT_EQ(f32_bits(x), 0u) << recipe_name(r);
    c32.assign(4, -1.0f);
    bf16_gemm_f32acc_plain(nullptr, nullptr, 2, 2, 0, r, c32.data());
    for (float x : c32) EXPECT_EQ(f32_bits(x), 0u) << recipe_name(r);
  }
}

// The comparison can fail: a plain result with one output changed is reported (guards against a
// comparison that always passes, e.g. both sides writing nothing).
TEST(GemmTiled, ComparisonDetectsADifference) {
  std::mt19937_64 rng(105);
  const int64_t M = 3, N = 37, K = 128;
  const auto a = e4m3_codes(rng, M * K), b = e4m3_codes(rng, N * K);
  const std::vector<uint8_t> sa(M, 127), sb(1, 127);
  std::vector<float> plain(M * N, -1.0f), tiled(M * N, -2.0f);
  fp8_gemm_f32acc_plain(a.data(), sa.data(), b.data(), sb.data(), M, N, K, Recipe::canonical, plain.data());
  fp8_gemm_f32acc(a.data(), sa.data(), b.data(), sb.data(), M, N, K, Recipe::canonical, tiled.data());
  expect_same_bits(plain, tiled, N, "unchanged");
  tiled[40] = std::nextafter(tiled[40], INFINITY);
  EXPECT_NONFATAL_FAILURE(expect_same_bits(plain, tiled, N, "changed"), "1 of 111 outputs differ; first at (m=1, n=3)");
}
