// The tensor-core FP8 GEMM: fp8_gemm's `hopper` recipe (reference/gemm.h) computed with Hopper wgmma
// instructions, bit for bit. Per output and 128-wide K block: four chained m64n128k32 e4m3 wgmma from zero
// (the block partial), then promoted into the fp32 accumulator as fmaf(partial, sa·sb, acc) in ascending
// K-block order (DeepGEMM's promotion); bf16 output by the shared bf16_encode. Fixed 128x128 output
// tiles, no split-K: every output is computed the same way whatever M is (batch invariant by design).
// Raw device pointers, the layouts of fp8_gemm; K % 128 == 0 (the caller checks).
#pragma once
#include <cstdint>

namespace v4::gpu {

inline constexpr const char* kFp8GemmWgmmaKernel = "fp8_gemm_wgmma_128x128x128_4stage";

// How tiles sit in shared memory (fp8_gemm_wgmma.cu): the plain core-matrix layout, or the 128-byte
// swizzle (faster: no bank conflicts). Same bits either way; the benchmark times both.
enum class WgmmaSmem { interleave, swizzle128 };

void fp8_gemm_wgmma(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b, const uint8_t* b_scale, int64_t M,
                    int64_t N, int64_t K, uint16_t* c_bf16, void* stream, WgmmaSmem layout = WgmmaSmem::swizzle128);

// golden's fp8_gemm (inputs a, a_scale, b, b_scale; output c) through fp8_gemm_wgmma: the `hopper`
// runner of the built-in fp8_gemm (gemm.cu). GpuInputs/GpuOutputs as gpu_op.h.
}  // namespace v4::gpu

#include "compare/gpu/gpu_op.h"

namespace v4::gpu {

GpuOutputs run_fp8_gemm_wgmma(const GpuInputs& in);
// The CUDA-core alternatives of built-in runners (gemm.cu): fp8_gemm's hopper recipe through the wgmma
// model on CUDA cores; the `builtin:cudacore` candidate runs them in place of the tensor-core kernel.
std::vector<GpuOp> gpu_ops_gemm_cudacore();
// The built-in runners (gpu_op_registry) with those alternatives in place of the tensor-core kernels.
std::vector<GpuOp> gpu_ops_cudacore();

}  // namespace v4::gpu
