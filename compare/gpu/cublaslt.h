// cuBLASLt as a candidate: loaded at run time (dlopen), so the binary runs where the library is absent and
// says so. Row-major C[M,N] = A[M,K]·B[N,K]ᵀ through the usual column-major transposition (cuBLASLt
// computes Cᵀ = B·Aᵀ, "TN", the only FP8 layout on Hopper). Raw device pointers; C++17, no CUDA headers.
#pragma once
#include <cstdint>
#include <string>

namespace v4::gpu {

// Whether the library loaded: "libcublasLt.so.13 (cuBLASLt 130100)" or why not. V4ORACLE_CUBLASLT names
// the library file to try first.
struct CublasLtStatus {
  bool available = false;
  std::string detail;
};
const CublasLtStatus& cublaslt_status();

enum class LtGemm {
  bf16,            // bf16 A, B; fp32 compute; bf16 C
  fp8_blockwise,   // e4m3 A with 1x128 fp32 scales (VEC128_32F), e4m3 B with 128x128 scales (BLK128x128_32F)
  fp8_tensorwise,  // e4m3 A, B with one fp32 scale each (SCALAR_32F)
};

// Scale layouts cuBLASLt expects (cuBLAS docs; as torch._scaled_mm passes them):
//   fp8_blockwise: a_scale[kb * M + m] (M a multiple of 4: pad A's rows), b_scale[nb * roundup(K/128, 4) + kb];
//   fp8_tensorwise: one float each. Scales are device pointers; bf16 takes none.
// fast_accum: CUBLASLT_MATMUL_DESC_FAST_ACCUM (FP8 only; cuBLASLt refuses it with block scaling).
// Returns the chosen algorithm ("algo 66 tile 128x128 splitK 1 reduction none stages 3");
// std::runtime_error when the library is absent or refuses the problem.
std::string cublaslt_gemm(LtGemm kind, const void* a, const float* a_scale, const void* b, const float* b_scale,
                          int64_t M, int64_t N, int64_t K, bool fast_accum, uint16_t* c_bf16, void* stream);

}  // namespace v4::gpu
