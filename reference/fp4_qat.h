// FP4 quantization-aware training of MoE expert weights (DeepSeek-V4 report §3.4; v4-model.md §1.4,
// §2.4, §13 item 5): the training-side fake quantization that makes the training forward see exactly
// the weights inference stores as FP4.
//   master W: f32 [rows, cols] (cols = the GEMM K dimension, a multiple of 32)
//   FP4 codes (what inference stores): per row and 32-column block, the quantizer of v4-model.md §2.4
//     amax = max(max|w|, 6·2^-126), s = fast_round_scale(amax, fp32(1/6)), q = e2m1(clamp(w / s, ±6))
//     -> q e2m1 packed [rows, cols/2] (element 2k in the low nibble), s ue8m0 [rows, cols/32]
//   fake-quantized forward weight: w_fq = bf16(fp32(e2m1 value of q) · s), exact (an e2m1 value times
//     a power of two fits in bf16), computed from W without going through the packed codes;
//   FP8 compute form (convert.py's cast_e2m1fn_to_e4m3fn, v4-model.md §13 item 5): per 128 x 128 tile,
//     tile scale = max(block scales) / 2^6, element = e4m3(e2m1 value · (s / tile scale)); lossless while
//     every block scale is within 2^-14 of the tile's largest (fp4_to_fp8_tiles counts the others);
//   backward: the straight-through estimator, dL/dW = dL/dw_fq.
// docs/fp4_qat.md states every choice and what the report leaves open.
#pragma once
#include <cstdint>

namespace v4 {

// q_packed [rows, cols/2], s [rows, cols/32] from master weights w [rows, cols]; cols % 32 == 0.
void fp4_qat_quantize(const float* w, int64_t rows, int64_t cols, uint8_t* q_packed, uint8_t* s);
// w_fq bf16 codes [rows, cols]: the fake-quantized weights the training forward uses.
void fp4_qat_fake_quant(const float* w, int64_t rows, int64_t cols, uint16_t* w_fq);
// FP8 compute form of FP4 codes: w8 e4m3fn codes [rows, cols], s8 ue8m0 [rows/128, cols/128]; rows and
// cols multiples of 128. Returns the number of elements whose FP8 value differs from the FP4 value
// (0: the conversion was lossless).
int64_t fp4_to_fp8_tiles(const uint8_t* q_packed, const uint8_t* s, int64_t rows, int64_t cols, uint8_t* w8,
                         uint8_t* s8);
// Straight-through estimator: grad_master [n] = grad_fq [n].
void fp4_qat_backward(const float* grad_fq, int64_t n, float* grad_master);

}  // namespace v4
