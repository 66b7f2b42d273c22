// fp4_act_quant: see fp4_act_quant.h. Parallel over rows only.
#include "reference/fp4_act_quant.h"

#include "reference/quant_common.h"

namespace v4 {

void fp4_act_quant(const uint16_t* x, int64_t rows, int64_t n, uint8_t* q_packed, uint8_t* s) {
  quant_check_shape("fp4_act_quant", rows, n, kFp4Block);
  const int64_t nb = n / kFp4Block;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < nb; ++b) {
      const uint16_t* xb = x + r * n + b * kFp4Block;
      const uint8_t sc = fast_round_scale(quant_block_amax(xb, kFp4Block, kFp4AmaxFloor), kFp4InvQmax);
      const float sv = ue8m0_decode(sc);
      s[r * nb + b] = sc;
      for (int i = 0; i < kFp4Block; i += 2)
        q_packed[(r * n + b * kFp4Block + i) / 2] =
            fp4_e2m1_pack(fp4_act_quant_element(bf16_decode(xb[i]), sv), fp4_act_quant_element(bf16_decode(xb[i + 1]), sv));
    }
  }
}

void fp4_act_quant_sim(const uint16_t* x, int64_t rows, int64_t n, uint16_t* y) {
  quant_check_shape("fp4_act_quant", rows, n, kFp4Block);
  const int64_t nb = n / kFp4Block;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < nb; ++b) {
      const uint16_t* xb = x + r * n + b * kFp4Block;
      const float sv = ue8m0_decode(fast_round_scale(quant_block_amax(xb, kFp4Block, kFp4AmaxFloor), kFp4InvQmax));
      for (int i = 0; i < kFp4Block; ++i)
        y[r * n + b * kFp4Block + i] = bf16_encode(fp4_e2m1_decode(fp4_act_quant_element(bf16_decode(xb[i]), sv)) * sv);
    }
  }
}

}  // namespace v4
