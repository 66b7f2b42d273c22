// The cuBLASLt candidate's runners (golden op names, inputs and outputs as gpu_op.h), and the GEMM
// timing of the built-in tensor-core kernel against cuBLASLt (v4oracle_gpu_selftest --bench).
#pragma once
#include <string>
#include <vector>

#include "compare/gpu/gpu_op.h"

namespace v4::gpu {

// variant "" (fp8_gemm with 1x128 / 128x128 block scales, and bf16_gemm), "tensorwise" or
// "tensorwise-fastaccum" (fp8_gemm with one scale per tensor: every a_scale and every b_scale code must be
// equal; std::invalid_argument otherwise). std::invalid_argument for an unknown variant.
std::vector<GpuOp> cublaslt_ops(const std::string& variant);
// The algorithm cuBLASLt chose in this thread's last run ("" before any).
const std::string& cublaslt_last_algo();

struct GemmBenchRow {
  long long M, N, K;
  double builtin_us, interleave_us, cublaslt_us;  // medians; cublaslt_us < 0: cuBLASLt unavailable or refused
  long long interleave_diff, cublaslt_diff;       // outputs whose bits differ from the builtin's (-1: not run)
  std::string cublaslt_algo;
};
// Median kernel times (CUDA events, `reps` timed launches after warm-up) of fp8_gemm_wgmma (both shared-
// memory layouts) and cuBLASLt's block-scaled FP8 GEMM on the same random device data, per shape, and
// how many of their outputs differ bitwise from the default layout's.
std::vector<GemmBenchRow> gemm_bench(const std::vector<long long>& Ms, const std::vector<long long>& Ns, long long K,
                                     int reps);

}  // namespace v4::gpu
