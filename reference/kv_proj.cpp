// kv_proj: see kv_proj.h.
#include "reference/kv_proj.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference/act_quant.h"
#include "reference/blocks.h"
#include "reference/rmsnorm.h"

namespace v4 {

void kv_fp8_sim(uint16_t* kv, int64_t rows, int64_t c, int rope_dim) {
  const int64_t n = c - rope_dim;  // the non-RoPE dims
  if (n <= 0 || n % kKvFp8Block != 0)
    throw std::invalid_argument("kv_fp8_sim: " + std::to_string(n) + " non-RoPE dims are not a multiple of 64");
  std::vector<uint16_t> part(static_cast<size_t>(rows * n));  // [rows, n] the non-RoPE dims, contiguous
  for (int64_t t = 0; t < rows; ++t) std::copy(kv + t * c, kv + t * c + n, part.begin() + t * n);
  act_quant_sim(part.data(), rows, n, kKvFp8Block, part.data());  // reads each block's amax before writing it
  for (int64_t t = 0; t < rows; ++t) std::copy(part.begin() + t * n, part.begin() + (t + 1) * n, kv + t * c);
}

void kv_proj(const uint16_t* x, int64_t T, const Fp8Weight& wkv, const float* kv_norm, const int32_t* pos,
             const RopeTable& table, Recipe r, bool quant, bool kv_fp8_sim_on, uint16_t* kv) {
  const int64_t c = wkv.out;
  std::vector<uint16_t> raw(static_cast<size_t>(T * c));  // [T, c] wkv(x)
  linear_fp8(x, T, wkv, r, quant, raw.data());
  rmsnorm(raw.data(), kv_norm, T, c, kRmsNormEps, r, kv);
  rope_apply(kv, T, c, pos, 1, table, false);
  if (kv_fp8_sim_on) kv_fp8_sim(kv, T, c, 2 * table.half);
}

}  // namespace v4
