// AdamW step (see adamw.h): elementwise, every element independent.
#include "reference/adamw.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "reference/pmath.h"

namespace v4 {

namespace {
// b^t for an integer t >= 1, rounded to binary64 (Python's float ** int calls C pow(), correctly
// rounded by glibc in all but rare cases). Square-and-multiply in double-double carries a relative
// error near 2^-100 · log2(t), so hi is the correctly rounded power unless the exact value lies
// within that distance of a rounding boundary between two doubles.
double pow_int(double b, int64_t t) {
  using namespace pmath::detail;
  dd r{1.0, 0.0}, x{b, 0.0};
  while (t > 0) {
    if (t & 1) r = dd_mul(r, x);
    x = dd_mul(x, x);
    t >>= 1;
  }
  return r.hi + r.lo;
}
}  // namespace

AdamWScalars adamw_scalars(const AdamWParams& p, int64_t t) {
  if (t < 1) throw std::invalid_argument("adamw: update number t=" + std::to_string(t) + " must be >= 1");
  const double bc1 = 1.0 - pow_int(p.beta1, t), bc2 = 1.0 - pow_int(p.beta2, t);
  AdamWScalars s;
  s.decay = float(1.0 - p.lr * p.weight_decay);
  s.w1 = float(1.0 - p.beta1);
  s.beta2 = float(p.beta2);
  s.w2 = float(1.0 - p.beta2);
  s.bc2_sqrt = float(pmath::detail::d_sqrt(bc2));
  s.eps = float(p.eps);
  s.neg_step = float(-(p.lr / bc1));
  return s;
}

void adamw_step(float* w, float* m, float* v, const float* g, int64_t n, const AdamWScalars& s) {
  if (n < 0) throw std::invalid_argument("adamw_step: negative size");
  if (n == 0) return;
  if (!w || !m || !v || !g) throw std::invalid_argument("adamw_step: null pointer");
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float wi = w[i] * s.decay;
    // lerp(m, g, w1): PyTorch's two branches (ATen native/Lerp.h), each one fused multiply-add.
    const float diff = g[i] - m[i];
    const float mi = s.w1 < 0.5f ? std::fma(s.w1, diff, m[i]) : std::fma(-diff, 1.0f - s.w1, g[i]);
    const float vi = std::fma(s.w2, g[i] * g[i], s.beta2 * v[i]);
    const float denom = pmath::sqrt(vi) / s.bc2_sqrt + s.eps;
    w[i] = std::fma(s.neg_step, mi / denom, wi);
    m[i] = mi;
    v[i] = vi;
  }
}

}  // namespace v4
