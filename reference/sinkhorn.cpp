// sinkhorn: see sinkhorn.h.
#include "reference/sinkhorn.h"

#include <stdexcept>
#include <string>

namespace v4 {

void sinkhorn(const float* logits, int64_t T, int n, int iters, float eps, float* comb) {
  if (n < 1 || n > kSinkhornMaxN || iters < 1 || T < 0)
    throw std::invalid_argument("sinkhorn: need 1 <= n <= " + std::to_string(kSinkhornMaxN) +
                                " and iters >= 1 (n=" + std::to_string(n) + ", iters=" + std::to_string(iters) + ")");
  const int64_t nn = int64_t(n) * n;
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < T; ++t) {
    float* m = comb + t * nn;
    for (int64_t i = 0; i < nn; ++i) m[i] = logits[t * nn + i];
    sinkhorn_matrix(m, n, iters, eps);
  }
}

}  // namespace v4
