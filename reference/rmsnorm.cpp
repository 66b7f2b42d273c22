// rmsnorm: see rmsnorm.h.
#include "reference/rmsnorm.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "reference/formats.h"
#include "reference/pmath.h"
#include "reference/reduce.h"

namespace v4 {

void rmsnorm(const uint16_t* x, const float* w, int64_t rows, int64_t n, float eps, Recipe r, uint16_t* y) {
  if (rows < 0 || n <= 0) throw std::invalid_argument("rmsnorm: bad shape rows=" + std::to_string(rows) +
                                                      " n=" + std::to_string(n));
#pragma omp parallel
  {
    std::vector<float> xf(static_cast<size_t>(n));  // [n] one row widened to fp32
#pragma omp for schedule(static)
    for (int64_t t = 0; t < rows; ++t) {
      for (int64_t i = 0; i < n; ++i) xf[i] = bf16_decode(x[t * n + i]);
      const float ms = reduce_dot_f32(xf.data(), xf.data(), n, r) / float(n);
      const float rs = pmath::rsqrt(ms + eps);
      for (int64_t i = 0; i < n; ++i) y[t * n + i] = bf16_encode(w[i] * (xf[i] * rs));
    }
  }
}

}  // namespace v4
