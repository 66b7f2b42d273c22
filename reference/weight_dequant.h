// weight_dequant: expand block-scaled low-precision weights to bf16 (v4-model.md §13 item 4, §1.4).
//   fp8: w e4m3fn codes [rows, cols], scale ue8m0 codes [ceil(rows/128), ceil(cols/128)];
//        W[i,j] = bf16(f32(w[i,j]) * f32(scale[i/128, j/128])).
//   fp4: w e2m1 packed [rows, cols/2] (element 2k in the low nibble), scale ue8m0 [rows, cols/32];
//        W[i,j] = bf16(f32(w[i,j]) * f32(scale[i, j/32])).
// Output: bf16 codes [rows, cols]. The product is exact unless it leaves the normal range.
#pragma once
#include <cstdint>

#include "reference/blocks.h"
#include "reference/formats.h"

namespace v4 {

// One output element (host and device): bf16(f32(w) · f32(scale)) from the weight code and its scale code.
V4_HD uint16_t weight_dequant_fp8_element(uint8_t w, uint8_t scale) {
  return bf16_encode(fp8_e4m3_decode(w) * ue8m0_decode(scale));
}
V4_HD uint16_t weight_dequant_fp4_element(uint8_t w_nibble, uint8_t scale) {
  return bf16_encode(fp4_e2m1_decode(w_nibble) * ue8m0_decode(scale));
}

void weight_dequant_fp8(const uint8_t* w, const uint8_t* scale, int64_t rows, int64_t cols, uint16_t* out);
void weight_dequant_fp4(const uint8_t* w_packed, const uint8_t* scale, int64_t rows, int64_t cols, uint16_t* out);

}  // namespace v4
