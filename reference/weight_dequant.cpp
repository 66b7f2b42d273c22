// weight_dequant: see weight_dequant.h.
#include "reference/weight_dequant.h"

#include <stdexcept>
#include <string>

namespace v4 {

void weight_dequant_fp8(const uint8_t* w, const uint8_t* scale, int64_t rows, int64_t cols, uint16_t* out) {
  if (rows <= 0 || cols <= 0) throw std::invalid_argument("weight_dequant: empty weight");
  const int64_t scale_cols = ceil_div(cols, kFp8Block);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      out[i * cols + j] = weight_dequant_fp8_element(w[i * cols + j], scale[(i / kFp8Block) * scale_cols + j / kFp8Block]);
}

void weight_dequant_fp4(const uint8_t* w_packed, const uint8_t* scale, int64_t rows, int64_t cols, uint16_t* out) {
  if (rows <= 0 || cols <= 0 || cols % kFp4Block != 0)
    throw std::invalid_argument("weight_dequant_fp4: columns " + std::to_string(cols) +
                                " must be a positive multiple of " + std::to_string(kFp4Block));
  const int64_t scale_cols = cols / kFp4Block;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < rows; ++i) {
    const uint8_t* row = w_packed + i * fp4_e2m1_row_bytes(cols);
    for (int64_t j = 0; j < cols; ++j)
      out[i * cols + j] = weight_dequant_fp4_element(fp4_e2m1_get(row, j), scale[i * scale_cols + j / kFp4Block]);
  }
}

}  // namespace v4
