// mhc_head: see mhc_head.h. Shares the mix and the collapse with mhc_pre.
#include "reference/mhc_head.h"

#include <vector>

#include "reference/pmath.h"

namespace v4 {

void mhc_head(const uint16_t* R, const float* fn, const float* base, const float* scale, const MhcShape& s, Recipe r,
              uint16_t* y, float* pre_out, float* mix_out) {
  const int n = s.n;
  std::vector<float> mix_local(mix_out ? 0 : s.T * n), pre_local(pre_out ? 0 : s.T * n);
  float* mix = mix_out ? mix_out : mix_local.data();  // [T, n]
  float* pre = pre_out ? pre_out : pre_local.data();  // [T, n]
  mhc_mix(R, fn, n, s, r, mix);
  for (int64_t t = 0; t < s.T; ++t)
    for (int k = 0; k < n; ++k) pre[t * n + k] = pmath::sigmoid(mix[t * n + k] * scale[0] + base[k]) + s.hc_eps;
  mhc_collapse(R, pre, s, r, y);
}

}  // namespace v4
