// hadamard: see hadamard.h.
#include "reference/hadamard.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference/formats.h"

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
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t i = 0; i < n; ++i) v[i] = bf16_decode(x[r * n + i]);
      for (int64_t h = 1; h < n; h *= 2)
        for (int64_t i = 0; i < n; i += 2 * h)
          for (int64_t j = i; j < i + h; ++j) {
            const float a = v[j], b = v[j + h];
            v[j] = a + b;
            v[j + h] = a - b;
          }
      for (int64_t i = 0; i < n; ++i) y[r * n + i] = bf16_encode(v[i] * s);
    }
  }
}

}  // namespace v4
