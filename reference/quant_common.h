// Helpers shared by the block quantizers (act_quant, fp4_act_quant): argument checks and the block
// amax with its floor and scale (host and device). Kept here so each quantizer file holds only its own rule.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

#include "reference/act_quant.h"
#include "reference/formats.h"

namespace v4 {

inline void quant_check_shape(const char* op, int64_t rows, int64_t n, int block) {
  if (rows < 0 || n <= 0 || block <= 0 || n % block != 0)
    throw std::invalid_argument(std::string(op) + ": last dimension " + std::to_string(n) +
                                " is not a positive multiple of the block size " + std::to_string(block));
}

// max(max_i |x_i|, floor) in fp32 over one block of bf16 codes. Any NaN makes the result NaN
// (a NaN activation marks its whole block instead of being silently dropped; docs/quantizers.md).
// Host and device (the GPU runners of compare/gpu/ call it per block).
V4_HD float quant_block_amax(const uint16_t* x, int block, float floor) {
  float amax = floor;
  bool nan = false;
  for (int i = 0; i < block; ++i) {
    const float a = bf16_decode(uint16_t(x[i] & 0x7FFFu));
    nan |= f32_is_nan(a);
    if (a > amax) amax = a;
  }
  return nan ? f32_from_bits(kF32CanonicalNaN) : amax;
}

// The ue8m0 scale code of one block of bf16 codes: fast_round_scale of its floored amax.
V4_HD uint8_t quant_block_scale(const uint16_t* x, int block, float amax_floor, float inv_qmax) {
  return fast_round_scale(quant_block_amax(x, block, amax_floor), inv_qmax);
}

// The block walk both quantizers share: for every row (in parallel: rows are independent) and every
// block of `block` elements, the block's scale code and value from its floored amax, then
// body(element offset of the block, block index in the row's scale row, xb, scale code, scale value).
template <class Body>
void quant_for_each_block(const char* op, const uint16_t* x, int64_t rows, int64_t n, int block, float amax_floor,
                          float inv_qmax, Body body) {
  quant_check_shape(op, rows, n, block);
  const int64_t nb = n / block;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t at = r * n + b * block;
      const uint16_t* xb = x + at;
      const uint8_t sc = quant_block_scale(xb, block, amax_floor, inv_qmax);
      body(at, r * nb + b, xb, sc, ue8m0_decode(sc));
    }
  }
}

}  // namespace v4
