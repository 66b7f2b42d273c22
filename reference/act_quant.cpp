// act_quant: see act_quant.h. The block walk (parallel over rows only) is quant_for_each_block.
#include "reference/act_quant.h"

#include "reference/quant_common.h"

namespace v4 {

void act_quant(const uint16_t* x, int64_t rows, int64_t n, int block, uint8_t* q, uint8_t* s) {
  quant_for_each_block("act_quant", x, rows, n, block, kActQuantAmaxFloor, kFp8InvQmax,
                       [&](int64_t at, int64_t si, const uint16_t* xb, uint8_t sc, float sv) {
                         s[si] = sc;
                         for (int i = 0; i < block; ++i) q[at + i] = act_quant_element(bf16_decode(xb[i]), sv);
                       });
}

void act_quant_sim(const uint16_t* x, int64_t rows, int64_t n, int block, uint16_t* y) {
  quant_for_each_block("act_quant", x, rows, n, block, kActQuantAmaxFloor, kFp8InvQmax,
                       [&](int64_t at, int64_t, const uint16_t* xb, uint8_t, float sv) {
                         for (int i = 0; i < block; ++i)
                           y[at + i] = act_quant_sim_element(bf16_decode(xb[i]), sv);
                       });
}

}  // namespace v4
