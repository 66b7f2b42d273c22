// fp4_act_quant: see fp4_act_quant.h. The block walk (parallel over rows only) is quant_for_each_block.
#include "reference/fp4_act_quant.h"

#include "reference/quant_common.h"

namespace v4 {

void fp4_act_quant(const uint16_t* x, int64_t rows, int64_t n, uint8_t* q_packed, uint8_t* s) {
  quant_for_each_block("fp4_act_quant", x, rows, n, kFp4Block, kFp4AmaxFloor, kFp4InvQmax,
                       [&](int64_t at, int64_t si, const uint16_t* xb, uint8_t sc, float sv) {
                         s[si] = sc;
                         // n is even, so the packed rows are one continuous packed row of rows * n elements.
                         for (int i = 0; i < kFp4Block; ++i)
                           fp4_e2m1_set(q_packed, at + i, fp4_act_quant_element(bf16_decode(xb[i]), sv));
                       });
}

void fp4_act_quant_sim(const uint16_t* x, int64_t rows, int64_t n, uint16_t* y) {
  quant_for_each_block("fp4_act_quant", x, rows, n, kFp4Block, kFp4AmaxFloor, kFp4InvQmax,
                       [&](int64_t at, int64_t, const uint16_t* xb, uint8_t, float sv) {
                         for (int i = 0; i < kFp4Block; ++i)
                           y[at + i] = fp4_act_quant_sim_element(bf16_decode(xb[i]), sv);
                       });
}

}  // namespace v4
