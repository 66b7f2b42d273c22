// rope: see rope.h. Transcendentals come only from reference/pmath.h.
#include "reference/rope.h"

#include <stdexcept>
#include <string>

#include "reference/formats.h"
#include "reference/pmath.h"

namespace v4 {

namespace {

// fp32(base ^ e) for base > 0 and 0 <= e < 1 (both exact inputs): e^(e·ln base) by the portable
// double kernels of pmath.h (relative error below ~2^-46, docs/rope.md), rounded once to fp32. The
// test checks the 64 values V4 uses against a long-double powl: each is the correctly rounded pow.
float pow_f32(double base, float e) {
  const double y = pmath::detail::exp_core(pmath::detail::d_mul(double(e), pmath::detail::log_core(base)));
  return pmath::detail::d_to_f(y);
}

// Python's find_correction_dim in double: dim·ln(orig / (n_rot·2π)) / (2·ln base).
double correction_dim(double n_rot, int dim, double base, int64_t orig) {
  using namespace pmath::detail;
  const double pi = 2.0 * kPio2Hi;  // = Python's math.pi exactly
  const double rot = d_mul(d_mul(n_rot, 2.0), pi);
  return d_div(d_mul(double(dim), log_core(d_div(double(orig), rot))), d_mul(2.0, log_core(base)));
}

double floor_d(double v) {  // v is far from the int64 limits here
  const double t = double(int64_t(v));
  return t > v ? t - 1.0 : t;
}
double ceil_d(double v) {
  const double t = double(int64_t(v));
  return t < v ? t + 1.0 : t;
}

}  // namespace

void rope_yarn_range(const RopeParams& p, double* low, double* high) {
  double lo = floor_d(correction_dim(p.beta_fast, p.dim, p.base, p.original_seq_len));
  double hi = ceil_d(correction_dim(p.beta_slow, p.dim, p.base, p.original_seq_len));
  lo = lo > 0.0 ? lo : 0.0;
  hi = hi < double(p.dim - 1) ? hi : double(p.dim - 1);
  if (lo == hi) hi += 0.001;
  *low = lo;
  *high = hi;
}

void rope_inv_freq(const RopeParams& p, float* inv) {
  if (p.dim <= 0 || p.dim % 2 != 0) throw std::invalid_argument("rope: dim " + std::to_string(p.dim) + " is not even");
  const int half = p.dim / 2;
  for (int i = 0; i < half; ++i) inv[i] = 1.0f / pow_f32(p.base, float(2 * i) / float(p.dim));
  if (p.original_seq_len <= 0) return;
  double low, high;
  rope_yarn_range(p, &low, &high);
  const float flow = float(low), span = float(high - low), factor = float(p.factor);
  for (int i = 0; i < half; ++i) {
    float ramp = (float(i) - flow) / span;  // linear_ramp_factor, fp32
    ramp = ramp < 0.0f ? 0.0f : (ramp > 1.0f ? 1.0f : ramp);
    const float smooth = 1.0f - ramp;
    inv[i] = (inv[i] / factor) * (1.0f - smooth) + inv[i] * smooth;  // -ffp-contract=off: each op rounds
  }
}

void rope_table(const RopeParams& p, int64_t positions, float* cos, float* sin) {
  if (positions < 0) throw std::invalid_argument("rope_table: negative number of positions");
  const int half = p.dim / 2;
  float inv[256];
  if (half > 256) throw std::invalid_argument("rope_table: dim above 512");
  rope_inv_freq(p, inv);
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < positions; ++t)
    for (int i = 0; i < half; ++i) {
      const float angle = float(t) * inv[i];
      cos[t * half + i] = pmath::cos(angle);
      sin[t * half + i] = pmath::sin(angle);
    }
}

void rope_apply(uint16_t* x, int64_t rows, int64_t n, const int32_t* pos, int64_t rows_per_pos, const RopeTable& table,
                bool inverse) {
  const int64_t dim = 2 * int64_t(table.half);
  if (n < dim || rows_per_pos <= 0)
    throw std::invalid_argument("rope_apply: row length " + std::to_string(n) + " shorter than the rotated " +
                                std::to_string(dim) + " dims, or rows_per_pos <= 0");
  for (int64_t r = 0; r < rows; r += rows_per_pos)
    if (pos[r / rows_per_pos] < 0 || pos[r / rows_per_pos] >= table.positions)
      throw std::invalid_argument("rope_apply: position " + std::to_string(pos[r / rows_per_pos]) +
                                  " outside the table of " + std::to_string(table.positions) + " positions");
  const int64_t nope = n - dim;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = pos[r / rows_per_pos];
    const float* c = table.cos + t * table.half;
    const float* s = table.sin + t * table.half;
    uint16_t* v = x + r * n + nope;
    for (int i = 0; i < table.half; ++i) {
      const float a = bf16_decode(v[2 * i]), b = bf16_decode(v[2 * i + 1]);
      const float si = inverse ? -s[i] : s[i];
      const float ra = a * c[i] - b * si;  // complex product (a + ib)(c + is): real = ac - bs, imag = as + bc
      const float rb = a * si + b * c[i];
      v[2 * i] = bf16_encode(ra);
      v[2 * i + 1] = bf16_encode(rb);
    }
  }
}

}  // namespace v4
