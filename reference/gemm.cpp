// GEMM recipes, the plain reference: what reference/gemm.h computes, written to be read beside
// docs/gemm.md -- every output on its own, its K-blocks in ascending order, one line per recipe step.
// The *_plain functions run these loops. The public functions (fp8_gemm, ...) check their arguments here
// too, then run the tiled kernels of reference/gemm_tiled.cpp, which compute the same bits faster
// (tests/test_gemm_tiled.cpp proves it for every recipe and GEMM).
// Shape legend: A [M, K], B [N, K], C [M, N] = A·Bᵀ; KB = K/128 FP8 scale blocks, KB32 = K/32 FP4 blocks.
//
// Why a block partial summed in double is exact: every e4m3 value is an integer multiple of 2^-9 below 2^9
// and every e2m1 value a multiple of 2^-1 below 2^3, so a product is a multiple of 2^-18 (FP8) or 2^-10
// (FP4×FP8), and a 128-term (32-term) block sum is that unit times an integer of magnitude
// < 128·448²·2^18 < 2^43 (32·448·6·2^10 < 2^27). Every partial sum, in any order, fits binary64's 53 bits:
// the double sum below is the exact block sum, and float(sum) its one IEEE round-to-nearest-even to fp32.
#include "reference/gemm.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference/blocks.h"
#include "reference/exact_acc.h"
#include "reference/formats.h"
#include "reference/gemm_tiled.h"
#include "reference/wgmma_model.h"

namespace v4 {

namespace {

using gemm_tiled::ScaledArgs;

// ---------------------------------------------------------------------------------------------
// One output before it is stored: the fp32 value (what the *_f32acc functions return) and the bf16 output.
struct Out {
  float f32;
  uint16_t bf16;
};
// canonical, hopper: the fp32 accumulator and its bf16 rounding.
// Every fp32 output has the canonical NaN (formats.h: f32_canonical_nan), the GPU kernels' NaN.
Out output(float acc) { return {f32_canonical_nan(acc), bf16_encode(acc)}; }
// exact: the exact value rounded once to fp32, and once -- directly, not through fp32 -- to bf16.
Out output(const ExactAcc& acc) {
  return {f32_canonical_nan(acc.round_to_f32()), bf16_encode(acc.round_to_bf16_value())};
}

// C[m, n] = out(m, n) for every output (c_f32 and/or c_bf16; null skips). Rows run in parallel; each
// output is computed alone, so the thread count cannot change a bit.
template <class OutFn>
void for_each_output(int64_t M, int64_t N, float* c_f32, uint16_t* c_bf16, OutFn out) {
#pragma omp parallel for schedule(static)
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      const Out o = out(m, n);
      if (c_f32) c_f32[m * N + n] = o.f32;
      if (c_bf16) c_bf16[m * N + n] = o.bf16;
    }
}

// The operands as fp32 values, decoded once: value(i, k) for row i (rows × K). Every e4m3, e2m1 and bf16
// value is exactly an fp32 value, so nothing is rounded here. (Callers skip empty outputs first: then
// the operands may be null.)
template <class Value>
std::vector<float> decoded(int64_t rows, int64_t K, Value value) {
  std::vector<float> v(static_cast<size_t>(rows * K));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t k = 0; k < K; ++k) v[size_t(i * K + k)] = value(i, k);
  return v;
}

// ---------------------------------------------------------------------------------------------
// FP8: C[m, n] = Σ_kb (Σ_{k in block kb} A[m, k]·B[n, k]) · sa[m, kb] · sb[n/128, kb].
//   a, b: (K,) row m of A and row n of B, decoded; sa: (KB,) row m of a_scale; sb: (KB,) row n/128 of b_scale.
Out fp8_output(const float* a, const float* b, const uint8_t* sa, const uint8_t* sb, int64_t K, Recipe r) {
  float acc = 0.0f;  // canonical, hopper
  ExactAcc exact;    // exact
  for (int64_t kb = 0; kb < K / kFp8Block; ++kb) {
    const float* ab = a + kb * kFp8Block;  // (128,) block kb of the two rows
    const float* bb = b + kb * kFp8Block;
    if (r == Recipe::exact) {
      exact_add_block(exact, gemm_block_sum(ab, bb, kFp8Block), kFp8PartialExp, sa[kb], sb[kb]);  // scales enter exactly
      continue;
    }
    // canonical: the exact block sum rounded once; hopper: 4 chained k32 instructions from zero instead.
    // Then acc = fma(partial, fp32(sa·sb), acc).
    acc = gemm_fp8_promote(acc, gemm_fp8_block_partial(ab, bb, r), sa[kb], sb[kb]);
  }
  return r == Recipe::exact ? output(exact) : output(acc);
}

//   a (M, K) e4m3, a_scale (M, KB) ue8m0, b (N, K) e4m3, b_scale (ceil(N/128), KB) ue8m0.
void fp8_plain(const ScaledArgs& g, Recipe r, float* c_f32, uint16_t* c_bf16) {
  const int64_t K = g.K, KB = K / kFp8Block;
  if (g.M == 0 || g.N == 0) return;  // an empty output reads nothing
  const std::vector<float> A = decoded(g.M, K, [&](int64_t m, int64_t k) { return fp8_e4m3_decode(g.a[m * K + k]); });
  const std::vector<float> B = decoded(g.N, K, [&](int64_t n, int64_t k) { return fp8_e4m3_decode(g.b[n * K + k]); });
  for_each_output(g.M, g.N, c_f32, c_bf16, [&](int64_t m, int64_t n) {
    return fp8_output(A.data() + m * K, B.data() + n * K, g.a_scale + m * KB, g.b_scale + (n / kFp8Block) * KB, K, r);
  });
}

// ---------------------------------------------------------------------------------------------
// FP4×FP8: C[m, n] = Σ_kb32 ((Σ_{k in block kb32} A[m, k]·B[n, k]) · sa[m, k/128]) · sb[n, kb32].
//   a, b: (K,) row m of A and row n of B, decoded; sa: (KB,) row m of a_scale; sb: (KB32,) row n of b_scale.
Out fp4_output(const float* a, const float* b, const uint8_t* sa, const uint8_t* sb, int64_t K, Recipe r) {
  float acc = 0.0f;  // canonical, hopper
  ExactAcc exact;    // exact
  for (int64_t kb32 = 0; kb32 < K / kFp4Block; ++kb32) {
    const int64_t k0 = kb32 * kFp4Block;
    const float* ab = a + k0;  // (32,) block kb32 of the two rows
    const float* bb = b + k0;
    const uint8_t sa_k = sa[k0 / kFp8Block];  // the activation scale of the 128-block that holds this block
    if (r == Recipe::exact) {
      exact_add_block(exact, gemm_block_sum(ab, bb, kFp4Block), kFp4PartialExp, sa_k, sb[kb32]);  // scales enter exactly
      continue;
    }
    // canonical: the exact block sum rounded once; hopper: one k32 instruction from zero instead (the e2m1
    // values converted exactly to e4m3). Then the kernel's (p·sa)·sb, the last multiply-add fused.
    acc = gemm_fp4_promote(acc, gemm_fp4_block_partial(ab, bb, r), sa_k, sb[kb32]);
  }
  return r == Recipe::exact ? output(exact) : output(acc);
}

//   a (M, K) e4m3, a_scale (M, KB) ue8m0, b (N, K) e2m1 packed (fp4_e2m1_row_bytes(K) bytes a row),
//   b_scale (N, KB32) ue8m0.
void fp4_plain(const ScaledArgs& g, Recipe r, float* c_f32, uint16_t* c_bf16) {
  const int64_t K = g.K, KB = K / kFp8Block, KB32 = K / kFp4Block;
  if (g.M == 0 || g.N == 0) return;  // an empty output reads nothing
  const std::vector<float> A = decoded(g.M, K, [&](int64_t m, int64_t k) { return fp8_e4m3_decode(g.a[m * K + k]); });
  const std::vector<float> B = decoded(g.N, K, [&](int64_t n, int64_t k) {
    return fp4_e2m1_decode(fp4_e2m1_get(g.b + n * fp4_e2m1_row_bytes(K), k));
  });
  for_each_output(g.M, g.N, c_f32, c_bf16, [&](int64_t m, int64_t n) {
    return fp4_output(A.data() + m * K, B.data() + n * K, g.a_scale + m * KB, g.b_scale + n * KB32, K, r);
  });
}

// ---------------------------------------------------------------------------------------------
// bf16 / fp32: C[m, n] = Σ_k A[m, k]·B[n, k].
//   a, b: (K,) row m of A and row n of B as fp32 values; init: the hopper chain's initial accumulator
//   (hopper_bf16_gemm_f32's c_init; 0 otherwise).
Out dot_output(const float* a, const float* b, int64_t K, Recipe r, float init) {
  if (r == Recipe::canonical) return output(gemm_fma_chain(a, b, K, 0.0f));  // sequential fp32 fma in ascending k
  // bf16 only: one chain of k16 instructions over all of K, a tail padded with zeros
  if (r == Recipe::hopper) return output(gemm_bf16_wgmma_chain(a, b, K, init));
  ExactAcc exact;  // exact: every product added exactly
  for (int64_t k = 0; k < K; ++k) exact.add_product(a[k], b[k]);
  return output(exact);
}

//   a (M, K), b (N, K) bf16 codes; c_init (M, N) or null.
void bf16_plain(const uint16_t* a, const uint16_t* b, int64_t M, int64_t N, int64_t K, Recipe r, const float* c_init,
                float* c_f32, uint16_t* c_bf16) {
  if (M == 0 || N == 0) return;  // an empty output reads nothing
  const std::vector<float> A = decoded(M, K, [&](int64_t m, int64_t k) { return bf16_decode(a[m * K + k]); });
  const std::vector<float> B = decoded(N, K, [&](int64_t n, int64_t k) { return bf16_decode(b[n * K + k]); });
  for_each_output(M, N, c_f32, c_bf16, [&](int64_t m, int64_t n) {
    return dot_output(A.data() + m * K, B.data() + n * K, K, r, c_init ? c_init[m * N + n] : 0.0f);
  });
}

// ---------------------------------------------------------------------------------------------
// Unscaled Hopper FP8 chains (hopper_fp8_gemm_f32): one chain of k32 instructions over all of K from
// init, or a chain from zero per promote_every-wide K group, each added to the accumulator (from init)
// with one RN add.  a, b: (K,) row m of A and row n of B, decoded.
float hopper_fp8_chain(const float* a, const float* b, int64_t K, int64_t promote_every, float init) {
  auto chain = [&](int64_t k0, int64_t k1, float d) {
    for (int64_t q = k0; q < k1; q += kWgmmaE4M3K)
      d = wgmma_dot_add_values(kWgmmaE4M3, kWgmmaE4M3K, a + q, b + q, kWgmmaE4M3K, d);
    return d;
  };
  if (promote_every == 0) return chain(0, K, init);
  float acc = init;
  for (int64_t g0 = 0; g0 < K; g0 += promote_every) acc = hopper_promote_add(acc, chain(g0, g0 + promote_every, 0.0f));
  return acc;
}

// ---------------------------------------------------------------------------------------------
// Argument checks, shared by the tiled and the plain paths (before any parallel region: nothing may
// throw inside one).
void check_shape(const char* fn, int64_t M, int64_t N, int64_t K) {
  if (M < 0 || N < 0 || K < 0)
    throw std::invalid_argument(std::string(fn) + ": negative shape M=" + std::to_string(M) +
                                " N=" + std::to_string(N) + " K=" + std::to_string(K));
}
void check_k_multiple(const char* fn, int64_t K, int64_t multiple, const std::string& why) {
  if (K % multiple != 0)
    throw std::invalid_argument(std::string(fn) + ": K=" + std::to_string(K) + " is not a multiple of " +
                                std::to_string(multiple) + " (" + why + ")");
}
void check_ptr(const char* fn, const void* p, const char* name, bool needed) {
  if (needed && p == nullptr) throw std::invalid_argument(std::string(fn) + ": " + name + " is null");
}

// FP8 / FP4×FP8 operands and output c (named c_name).
void check_scaled(const char* fn, const ScaledArgs& g, bool fp4, const void* c, const char* c_name) {
  check_shape(fn, g.M, g.N, g.K);
  check_k_multiple(fn, g.K, kFp8Block,
                   std::string(fp4 ? "the FP8 activation scale block is " : "the FP8 scale block is ") +
                       std::to_string(kFp8Block) + " wide");
  const bool any = g.M > 0 && g.N > 0 && g.K > 0;
  check_ptr(fn, g.a, "a", any);
  check_ptr(fn, g.a_scale, "a_scale", any);
  check_ptr(fn, g.b, fp4 ? "b_packed" : "b", any);
  check_ptr(fn, g.b_scale, "b_scale", any);
  check_ptr(fn, c, c_name, g.M > 0 && g.N > 0);
}

void check_dot(const char* fn, const void* a, const void* b, const void* c, int64_t M, int64_t N, int64_t K) {
  check_shape(fn, M, N, K);
  check_ptr(fn, a, "a", M > 0 && K > 0);
  check_ptr(fn, b, "b", N > 0 && K > 0);
  check_ptr(fn, c, "c", M > 0 && N > 0);
}

void check_hopper_fp8(const char* fn, const void* a, const void* b, const void* c, int64_t M, int64_t N, int64_t K,
                      int64_t promote_every) {
  check_shape(fn, M, N, K);
  check_k_multiple(fn, K, kWgmmaE4M3K, "one FP8 wgmma is k" + std::to_string(kWgmmaE4M3K));
  if (promote_every < 0 || (promote_every > 0 && (promote_every % kWgmmaE4M3K != 0 || K % promote_every != 0)))
    throw std::invalid_argument(std::string(fn) + ": promote_every=" + std::to_string(promote_every) +
                                " must be 0 or a multiple of " + std::to_string(kWgmmaE4M3K) +
                                " that divides K=" + std::to_string(K));
  check_dot(fn, a, b, c, M, N, K);
}

// fp32 linears have no tensor-core path (TF32 off): their hopper recipe is the canonical one (docs/gemm.md).
Recipe f32_recipe(Recipe r) { return r == Recipe::hopper ? Recipe::canonical : r; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// The public functions: checks, then the tiled kernels.
void fp8_gemm(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b, const uint8_t* b_scale, int64_t M,
              int64_t N, int64_t K, Recipe r, uint16_t* c_bf16) {
  const ScaledArgs g{a, a_scale, b, b_scale, M, N, K};
  check_scaled("fp8_gemm", g, false, c_bf16, "c_bf16");
  gemm_tiled::fp8_gemm(g, r, nullptr, c_bf16);
}
void fp8_gemm_f32acc(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b, const uint8_t* b_scale,
                     int64_t M, int64_t N, int64_t K, Recipe r, float* c) {
  const ScaledArgs g{a, a_scale, b, b_scale, M, N, K};
  check_scaled("fp8_gemm_f32acc", g, false, c, "c");
  gemm_tiled::fp8_gemm(g, r, c, nullptr);
}
void fp4_gemm(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b_packed, const uint8_t* b_scale,
              int64_t M, int64_t N, int64_t K, Recipe r, uint16_t* c_bf16) {
  const ScaledArgs g{a, a_scale, b_packed, b_scale, M, N, K};
  check_scaled("fp4_gemm", g, true, c_bf16, "c_bf16");
  gemm_tiled::fp4_gemm(g, r, nullptr, c_bf16);
}
void fp4_gemm_f32acc(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b_packed, const uint8_t* b_scale,
                     int64_t M, int64_t N, int64_t K, Recipe r, float* c) {
  const ScaledArgs g{a, a_scale, b_packed, b_scale, M, N, K};
  check_scaled("fp4_gemm_f32acc", g, true, c, "c");
  gemm_tiled::fp4_gemm(g, r, c, nullptr);
}
void bf16_gemm(const uint16_t* a, const uint16_t* b, int64_t M, int64_t N, int64_t K, Recipe r, uint16_t* c_bf16) {
  check_dot("bf16_gemm", a, b, c_bf16, M, N, K);
  gemm_tiled::bf16_gemm(a, b, M, N, K, r, nullptr, nullptr, c_bf16);
}
void bf16_gemm_f32acc(const uint16_t* a, const uint16_t* b, int64_t M, int64_t N, int64_t K, Recipe r, float* c) {
  check_dot("bf16_gemm_f32acc", a, b, c, M, N, K);
  gemm_tiled::bf16_gemm(a, b, M, N, K, r, nullptr, c, nullptr);
}
void f32_gemm(const float* a, const float* b, int64_t M, int64_t N, int64_t K, Recipe r, float* c) {
  check_dot("f32_gemm", a, b, c, M, N, K);
  gemm_tiled::f32_gemm(a, b, M, N, K, f32_recipe(r), c);
}
void hopper_fp8_gemm_f32(const uint8_t* a, const uint8_t* b, int64_t M, int64_t N, int64_t K, int64_t promote_every,
                         const float* c_init, float* c) {
  check_hopper_fp8("hopper_fp8_gemm_f32", a, b, c, M, N, K, promote_every);
  gemm_tiled::hopper_fp8_chains(a, b, M, N, K, promote_every, c_init, c);
}
void hopper_bf16_gemm_f32(const uint16_t* a, const uint16_t* b, int64_t M, int64_t N, int64_t K,
                          const float* c_init, float* c) {
  check_dot("hopper_bf16_gemm_f32", a, b, c, M, N, K);
  gemm_tiled::bf16_gemm(a, b, M, N, K, Recipe::hopper, c_init, c, nullptr);
}

// ---------------------------------------------------------------------------------------------
// The plain twins: the same checks, then the loops above.
void fp8_gemm_plain(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b, const uint8_t* b_scale, int64_t M,
                    int64_t N, int64_t K, Recipe r, uint16_t* c_bf16) {
  const ScaledArgs g{a, a_scale, b, b_scale, M, N, K};
  check_scaled("fp8_gemm_plain", g, false, c_bf16, "c_bf16");
  fp8_plain(g, r, nullptr, c_bf16);
}
void fp8_gemm_f32acc_plain(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b, const uint8_t* b_scale,
                           int64_t M, int64_t N, int64_t K, Recipe r, float* c) {
  const ScaledArgs g{a, a_scale, b, b_scale, M, N, K};
  check_scaled("fp8_gemm_f32acc_plain", g, false, c, "c");
  fp8_plain(g, r, c, nullptr);
}
void fp4_gemm_plain(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b_packed, const uint8_t* b_scale,
                    int64_t M, int64_t N, int64_t K, Recipe r, uint16_t* c_bf16) {
  const ScaledArgs g{a, a_scale, b_packed, b_scale, M, N, K};
  check_scaled("fp4_gemm_plain", g, true, c_bf16, "c_bf16");
  fp4_plain(g, r, nullptr, c_bf16);
}
void fp4_gemm_f32acc_plain(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b_packed, const uint8_t* b_scale,
                           int64_t M, int64_t N, int64_t K, Recipe r, float* c) {
  const ScaledArgs g{a, a_scale, b_packed, b_scale, M, N, K};
  check_scaled("fp4_gemm_f32acc_plain", g, true, c, "c");
  fp4_plain(g, r, c, nullptr);
}
void bf16_gemm_plain(const uint16_t* a, const uint16_t* b, int64_t M, int64_t N, int64_t K, Recipe r,
                     uint16_t* c_bf16) {
  check_dot("bf16_gemm_plain", a, b, c_bf16, M, N, K);
  bf16_plain(a, b, M, N, K, r, nullptr, nullptr, c_bf16);
}
void bf16_gemm_f32acc_plain(const uint16_t* a, const uint16_t* b, int64_t M, int64_t N, int64_t K, Recipe r,
                            float* c) {
  check_dot("bf16_gemm_f32acc_plain", a, b, c, M, N, K);
  bf16_plain(a, b, M, N, K, r, nullptr, c, nullptr);
}
void f32_gemm_plain(const float* a, const float* b, int64_t M, int64_t N, int64_t K, Recipe r, float* c) {
  check_dot("f32_gemm_plain", a, b, c, M, N, K);
  for_each_output(M, N, c, nullptr,
                  [&](int64_t m, int64_t n) { return dot_output(a + m * K, b + n * K, K, f32_recipe(r), 0.0f); });
}
void hopper_fp8_gemm_f32_plain(const uint8_t* a, const uint8_t* b, int64_t M, int64_t N, int64_t K,
                               int64_t promote_every, const float* c_init, float* c) {
  check_hopper_fp8("hopper_fp8_gemm_f32_plain", a, b, c, M, N, K, promote_every);
  if (M == 0 || N == 0) return;  // an empty output reads nothing
  const std::vector<float> A = decoded(M, K, [&](int64_t m, int64_t k) { return fp8_e4m3_decode(a[m * K + k]); });
  const std::vector<float> B = decoded(N, K, [&](int64_t n, int64_t k) { return fp8_e4m3_decode(b[n * K + k]); });
  for_each_output(M, N, c, nullptr, [&](int64_t m, int64_t n) {
    return output(hopper_fp8_chain(A.data() + m * K, B.data() + n * K, K, promote_every, c_init ? c_init[m * N + n] : 0.0f));
  });
}
void hopper_bf16_gemm_f32_plain(const uint16_t* a, const uint16_t* b, int64_t M, int64_t N, int64_t K,
                                const float* c_init, float* c) {
  check_dot("hopper_bf16_gemm_f32_plain", a, b, c, M, N, K);
  bf16_plain(a, b, M, N, K, Recipe::hopper, c_init, c, nullptr);
}

}  // namespace v4
