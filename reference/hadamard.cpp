// hadamard: see hadamard.h.
#include "reference/hadamard.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace v4 {

float hadamard_scale(int64_t n) {
  // Python's `n ** -0.5` in double, passed to the kernel as float: sqrt and the division are correctly
  // rounded in double; the final float conversion is the kernel's argument rounding.
  return float(1.0 / std::sqrt(double(n)));
}

void hadamard(const uint16_t* x, int64_t rows, int64_t n, uint16_t* y) {
  if (n <= 0 || (n & (n - 1)) != 0)
    throw std::invalid_argument("hadamard: last dimension " + std::to_string(n) + " is not a power of two");
  const float s = hadamard_scale(n);
#pragma omp parallel
  {
    std::vector<float> v(static_cast<size_t>(n));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) hadamard_row(x + r * n, n, s, v.data(), y + r * n);
  }
}

}  // namespace v4
