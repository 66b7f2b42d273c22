// The block sizes of V4's scaled low-precision formats (v4-model.md §2.2-2.7), named once. Every
// quantizer, GEMM, op and kernel takes them from here.
#pragma once

namespace v4 {

inline constexpr int kFp8Block = 128;   // FP8: one ue8m0 scale per 128 activations along K, per 128×128
                                        // weight tile; the FP8 GEMM's K-block (one promotion each)
inline constexpr int kKvFp8Block = 64;  // FP8 simulation of the KV cache and act_quant's 64-wide variant
inline constexpr int kFp4Block = 32;    // FP4: one ue8m0 scale per 32 elements along K; the FP4 GEMM's K-block

}  // namespace v4
