// Muon optimizer step (see muon.h): momentum, Nesterov input, Newton-Schulz, rescaled update and
// decoupled weight decay, per logical matrix.
#include "reference/muon.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference/formats.h"
#include "reference/pmath.h"

namespace v4 {

MuonScalars muon_scalars(const MuonParams& p, int64_t n, int64_t m) {
  const double ratio = p.update_rms * pmath::detail::d_sqrt(double(n > m ? n : m));  // Moonlight's adjusted_ratio
  return {float(p.momentum), float(1.0 - p.lr * p.weight_decay), float(-(p.lr * ratio))};
}

void muon_step(float* w, float* mom, const float* g, int64_t n, int64_t m, const MuonScalars& s, const NsCoeffs* coeffs,
               int64_t ns_steps, float ns_eps, Recipe r, float* nesterov_out, uint16_t* o_out) {
  if (n < 0 || m < 0) throw std::invalid_argument("muon_step: negative size");
  const int64_t nm = n * m;
  if (nm == 0) return;
  if (!w || !mom || !g) throw std::invalid_argument("muon_step: null pointer");
  const float mu = s.momentum;
  std::vector<uint16_t> x(static_cast<size_t>(nm)), o(static_cast<size_t>(nm));  // bf16 [n, m]
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < nm; ++i) {
    const float mt = mu * mom[i] + g[i];  // two roundings: -ffp-contract=off keeps them apart
    mom[i] = mt;
    const float xn = std::fma(mu, mt, g[i]);
    if (nesterov_out) nesterov_out[i] = xn;
    x[i] = bf16_encode(xn);
  }
  newton_schulz(x.data(), n, m, coeffs, ns_steps, ns_eps, r, o.data());
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < nm; ++i) {
    const float wd = w[i] * s.decay;
    w[i] = std::fma(s.alpha, bf16_decode(o[i]), wd);
  }
  if (o_out) std::copy(o.begin(), o.end(), o_out);
}

void muon_step_stack(float* w, float* mom, const float* g, int64_t E, int64_t rows, int64_t cols,
                     const int64_t* split_rows, int64_t nsplit, float momentum, float decay, const float* alpha,
                     const NsCoeffs* coeffs, int64_t ns_steps, float ns_eps, Recipe r, float* nesterov_out,
                     uint16_t* o_out) {
  if (E < 0 || rows < 0 || cols < 0 || nsplit < 1 || !split_rows || !alpha)
    throw std::invalid_argument("muon_step_stack: bad shape");
  int64_t sum = 0;
  for (int64_t k = 0; k < nsplit; ++k) {
    if (split_rows[k] < 0) throw std::invalid_argument("muon_step_stack: negative split");
    sum += split_rows[k];
  }
  if (sum != rows)
    throw std::invalid_argument("muon_step_stack: splits sum to " + std::to_string(sum) + ", rows is " +
                                std::to_string(rows));
  // Blocks run one after another; each parallelises inside (GEMM tiles, elements), so the bits do not
  // depend on the thread count.
  for (int64_t e = 0; e < E; ++e) {
    int64_t r0 = 0;
    for (int64_t k = 0; k < nsplit; ++k) {
      const int64_t at = (e * rows + r0) * cols;  // block [split_rows[k], cols] is contiguous
      muon_step(w + at, mom + at, g + at, split_rows[k], cols, MuonScalars{momentum, decay, alpha[k]}, coeffs,
                ns_steps, ns_eps, r, nesterov_out ? nesterov_out + at : nullptr, o_out ? o_out + at : nullptr);
      r0 += split_rows[k];
    }
  }
}

}  // namespace v4
