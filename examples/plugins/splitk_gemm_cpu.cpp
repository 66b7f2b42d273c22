// An example gpu-check plug-in (docs/gpu-check.md §Plug-ins) that is deliberately NOT batch-invariant:
// bf16_gemm, C[M,N] = A[M,K]·B[N,K]ᵀ, with a split-K whose split count depends on M, as a GEMM library
// picking its schedule by problem size does:
//   M < 64:  K in 4 contiguous parts of L = ceil(K/4) (the last one shorter), each an fp32 fma chain in
//            ascending k from +0, the 4 partials added in order: ((p0 + p1) + p2) + p3;
//   M >= 64: one fp32 fma chain over all of K (the canonical recipe).
// Output: bf16, round to nearest even. So a row's bits depend on how many rows share its batch, and
// `v4oracle gpu-check --op bf16_gemm --candidate plugin:libsplitk_gemm_cpu.so` reports the first break at
// batch 64. Host memory; plain loops, independent of the v4oracle sources (only the ABI header).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "compare/harness/v4oracle_plugin.h"

namespace {

constexpr int64_t kSplitBelowM = 64;
constexpr int64_t kSplits = 4;

float bf16_value(uint16_t code) {
  const uint32_t bits = uint32_t(code) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t bf16_rne(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FFF;  // NaN
  return uint16_t((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

const v4o_tensor* find(const v4o_tensor* t, int32_t n, const char* name) {
  for (int32_t i = 0; i < n; ++i)
    if (std::strcmp(t[i].name, name) == 0) return &t[i];
  return nullptr;
}

int fail(char* err, size_t len, const char* what) {
  std::snprintf(err, len, "%s", what);
  return 1;
}

const v4o_plugin_info kInfo = {V4O_PLUGIN_ABI_VERSION, "splitk_bf16_gemm", V4O_MEMORY_HOST};

}  // namespace

extern "C" {

const v4o_plugin_info* v4o_info(void) { return &kInfo; }

const char* v4o_kernel(const char* op, const char* /*recipe*/) {
  return std::strcmp(op, "bf16_gemm") == 0 ? "splitk_bf16_gemm (4 K splits below M=64)" : nullptr;
}

int v4o_run(const char* op, const char* /*recipe*/, const v4o_tensor* in, int32_t n_in, v4o_tensor* out, int32_t n_out,
            void* /*stream*/, char* err, size_t err_len) {
  if (std::strcmp(op, "bf16_gemm") != 0) return fail(err, err_len, "only bf16_gemm");
  const v4o_tensor *a = find(in, n_in, "a"), *b = find(in, n_in, "b"), *c = find(out, n_out, "c");
  if (!a || !b || !c) return fail(err, err_len, "needs inputs a, b and output c");
  if (a->rank != 2 || b->rank != 2 || c->rank != 2 || std::strcmp(a->fmt, "bf16") || std::strcmp(b->fmt, "bf16") ||
      std::strcmp(c->fmt, "bf16") || a->shape[1] != b->shape[1] || c->shape[0] != a->shape[0] || c->shape[1] != b->shape[0])
    return fail(err, err_len, "a, b, c must be bf16 matrices [M,K], [N,K], [M,N]");
  const int64_t M = a->shape[0], N = b->shape[0], K = a->shape[1];
  const uint16_t* A = static_cast<const uint16_t*>(a->data);
  const uint16_t* B = static_cast<const uint16_t*>(b->data);
  uint16_t* C = static_cast<uint16_t*>(c->data);
  const int64_t splits = M < kSplitBelowM ? kSplits : 1, L = (K + splits - 1) / splits;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      float sum = 0.0f;
      for (int64_t s = 0; s < splits; ++s) {
        float part = 0.0f;
        for (int64_t k = s * L; k < K && k < (s + 1) * L; ++k) part = std::fma(bf16_value(A[m * K + k]), bf16_value(B[n * K + k]), part);
        sum = s == 0 ? part : sum + part;
      }
      C[m * N + n] = bf16_rne(sum);
    }
  return 0;
}

}  // extern "C"
