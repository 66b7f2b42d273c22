// mhc_post: see mhc_post.h.
#include "reference/mhc_post.h"

#include <stdexcept>
#include <string>

#include "reference/reduce.h"
#include "reference/formats.h"

namespace v4 {

void mhc_post(const uint16_t* f, const uint16_t* R, const float* post, const float* comb, const MhcShape& s, Recipe r,
              uint16_t* out) {
  if (s.T < 0 || s.d <= 0 || s.n < 1 || s.n > kSinkhornMaxN)
    throw std::invalid_argument("mhc_post: bad shape T=" + std::to_string(s.T) + " n=" + std::to_string(s.n) +
                                " d=" + std::to_string(s.d));
  const int n = s.n;
  const int64_t d = s.d;
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < s.T; ++t) {
    const uint16_t* Rt = R + t * n * d;  // [n, d]
    const float* ct = comb + t * n * n;  // [n, n]
    float coef[kSinkhornMaxN + 1], val[kSinkhornMaxN + 1], res[kSinkhornMaxN];
    for (int64_t i = 0; i < d; ++i) {
      val[0] = bf16_decode(f[t * d + i]);
      for (int j = 0; j < n; ++j) val[1 + j] = bf16_decode(Rt[j * d + i]);
      for (int k = 0; k < n; ++k) {
        coef[0] = post[t * n + k];
        for (int j = 0; j < n; ++j) coef[1 + j] = ct[j * n + k];
        res[k] = reduce_dot_f32(coef, val, n + 1, r);
      }
      for (int k = 0; k < n; ++k) out[t * n * d + k * d + i] = bf16_encode(res[k]);
    }
  }
}

}  // namespace v4
