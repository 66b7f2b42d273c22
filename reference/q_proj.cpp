// q_proj: see q_proj.h.
#include "reference/q_proj.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "reference/formats.h"
#include "reference/pmath.h"
#include "reference/reduce.h"
#include "reference/rmsnorm.h"

namespace v4 {

void q_head_rms_bf16(uint16_t* q, int64_t rows, int64_t c, float eps, Recipe r) {
  if (c <= 0) throw std::invalid_argument("q_head_rms_bf16: head dim " + std::to_string(c));
#pragma omp parallel
  {
    std::vector<float> sq(static_cast<size_t>(c));  // [c] bf16(q²) as fp32
#pragma omp for schedule(static)
    for (int64_t t = 0; t < rows; ++t) {
      uint16_t* v = q + t * c;
      for (int64_t i = 0; i < c; ++i) sq[i] = bf16_round(bf16_decode(v[i]) * bf16_decode(v[i]));
      const float m = bf16_round(reduce_sum_f32(sq.data(), c, 1, r) / float(c));
      const float s = bf16_round(pmath::rsqrt(bf16_round(m + eps)));
      for (int64_t i = 0; i < c; ++i) v[i] = bf16_encode(bf16_decode(v[i]) * s);
    }
  }
}

void q_proj(const uint16_t* x, int64_t T, const Fp8Weight& wq_a, const float* q_norm, const Fp8Weight& wq_b,
            int64_t H, const int32_t* pos, const RopeTable& table, Recipe r, bool quant, uint16_t* qr, uint16_t* q) {
  if (H <= 0 || wq_b.out % H != 0 || wq_b.in != wq_a.out)
    throw std::invalid_argument("q_proj: wq_b [" + std::to_string(wq_b.out) + ", " + std::to_string(wq_b.in) +
                                "] does not fit H=" + std::to_string(H) + " heads on wq_a's " +
                                std::to_string(wq_a.out) + " outputs");
  const int64_t dc = wq_a.out, c = wq_b.out / H;
  std::vector<uint16_t> a(static_cast<size_t>(T * dc));  // [T, dc] wq_a(x)
  linear_fp8(x, T, wq_a, r, quant, a.data());
  rmsnorm(a.data(), q_norm, T, dc, kRmsNormEps, r, qr);
  linear_fp8(qr, T, wq_b, r, quant, q);  // [T, H·c]
  q_head_rms_bf16(q, T * H, c, kRmsNormEps, r);
  rope_apply(q, T * H, c, pos, H, table, false);
}

}  // namespace v4
