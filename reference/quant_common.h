// Helpers shared by the block quantizers (act_quant, fp4_act_quant): argument checks and the block
// amax with its floor. Kept here so each quantizer file holds only its own rule.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

#include "reference/formats.h"

namespace v4 {

inline void quant_check_shape(const char* op, int64_t rows, int64_t n, int block) {
  if (rows < 0 || n <= 0 || block <= 0 || n % block != 0)
    throw std::invalid_argument(std::string(op) + ": last dimension " + std::to_string(n) +
                                " is not a positive multiple of the block size " + std::to_string(block));
}

// max(max_i |x_i|, floor) in fp32 over one block of bf16 codes. Any NaN makes the result NaN
// (a NaN activation marks its whole block instead of being silently dropped; docs/quantizers.md).
inline float quant_block_amax(const uint16_t* x, int block, float floor) {
  float amax = floor;
  bool nan = false;
  for (int i = 0; i < block; ++i) {
    const float a = bf16_decode(uint16_t(x[i] & 0x7FFFu));
    nan |= f32_is_nan(a);
    if (a > amax) amax = a;
  }
  return nan ? f32_from_bits(kF32CanonicalNaN) : amax;
}

}  // namespace v4
