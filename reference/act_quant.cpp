// act_quant: see act_quant.h. Parallel over rows only (each row is independent).
#include "reference/act_quant.h"

#include "reference/quant_common.h"

namespace v4 {

void act_quant(const uint16_t* x, int64_t rows, int64_t n, int block, uint8_t* q, uint8_t* s) {
  quant_check_shape("act_quant", rows, n, block);
  const int64_t nb = n / block;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < nb; ++b) {
      const uint16_t* xb = x + r * n + b * block;
      const uint8_t sc = fast_round_scale(quant_block_amax(xb, block, kActQuantAmaxFloor), kFp8InvQmax);
      const float sv = ue8m0_decode(sc);
      s[r * nb + b] = sc;
      for (int i = 0; i < block; ++i) q[r * n + b * block + i] = act_quant_element(bf16_decode(xb[i]), sv);
    }
  }
}

void act_quant_sim(const uint16_t* x, int64_t rows, int64_t n, int block, uint16_t* y) {
  quant_check_shape("act_quant", rows, n, block);
  const int64_t nb = n / block;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < nb; ++b) {
      const uint16_t* xb = x + r * n + b * block;
      const float sv = ue8m0_decode(fast_round_scale(quant_block_amax(xb, block, kActQuantAmaxFloor), kFp8InvQmax));
      for (int i = 0; i < block; ++i)
        y[r * n + b * block + i] = bf16_encode(fp8_e4m3_decode(act_quant_element(bf16_decode(xb[i]), sv)) * sv);
    }
  }
}

}  // namespace v4
