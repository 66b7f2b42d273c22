// compressor: see compressor.h. Shape legend: s tokens, d hidden, c entry width, w = c or 2c projection
// width, r ratio, n = s/r entries; state rows R = r (HCA) or 2r (CSA).
#include "reference/compressor.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference/fp4_act_quant.h"
#include "reference/formats.h"
#include "reference/hadamard.h"
#include "reference/kv_proj.h"
#include "reference/linear.h"
#include "reference/pmath.h"
#include "reference/reduce.h"
#include "reference/rmsnorm.h"

namespace v4 {

namespace {

constexpr float kNegInf = -__builtin_inff();

void check_cfg(const CompressorConfig& cfg) {
  if (cfg.d <= 0 || cfg.c <= 64 || cfg.r <= 0)
    throw std::invalid_argument("compressor: bad config d=" + std::to_string(cfg.d) + " c=" + std::to_string(cfg.c) +
                                " r=" + std::to_string(cfg.r));
}

}  // namespace

void compressor_state_reset(const CompressorConfig& cfg, float* kv_state, float* score_state) {
  const int64_t n = cfg.state_rows() * cfg.width();
  std::fill(kv_state, kv_state + n, 0.0f);
  std::fill(score_state, score_state + n, kNegInf);
}

void compressor_project(const CompressorConfig& cfg, const CompressorWeights& W, const uint16_t* x, int64_t M,
                        int64_t pos0, Recipe rc, float* KV, float* Z) {
  const int64_t w = cfg.width(), d = cfg.d;
  std::vector<float> xf(static_cast<size_t>(M * d));  // [M, d] f32(x): the code runs x.float()
  for (int64_t i = 0; i < M * d; ++i) xf[i] = bf16_decode(x[i]);
  linear_f32(xf.data(), M, W.wkv, w, d, rc, KV);
  linear_f32(xf.data(), M, W.wgate, w, d, rc, Z);
  for (int64_t t = 0; t < M; ++t) {
    const float* ape = W.ape + ((pos0 + t) % cfg.r) * w;
    for (int64_t k = 0; k < w; ++k) Z[t * w + k] += ape[k];
  }
}

void compressor_pool_rows(const float* const* kv_rows, const float* const* z_rows, int n, int64_t c, Recipe rc,
                          float* out) {
  std::vector<float> e(static_cast<size_t>(n)), v(static_cast<size_t>(n));  // [n] one channel's weights, values
  for (int64_t k = 0; k < c; ++k) {
    float m = kNegInf;
    for (int j = 0; j < n; ++j) m = z_rows[j][k] > m ? z_rows[j][k] : m;
    for (int j = 0; j < n; ++j) e[j] = pmath::exp(z_rows[j][k] - m);  // -inf rows (missing block) -> 0
    const float sum = reduce_sum_f32(e.data(), n, 1, rc);
    for (int j = 0; j < n; ++j) {
      e[j] = e[j] / sum;  // softmax: exp(z - max) / Σ
      v[j] = kv_rows[j][k];
    }
    out[k] = reduce_dot_f32(e.data(), v.data(), n, rc);  // Σ_rows softmax · KV
  }
}

void compressor_pool_prefill(const CompressorConfig& cfg, const float* KV, const float* Z, int64_t s, Recipe rc,
                             float* C) {
  check_cfg(cfg);
  const int64_t r = cfg.r, c = cfg.c, w = cfg.width(), n = s / r;
  const std::vector<float> zeros(static_cast<size_t>(c), 0.0f), neg(static_cast<size_t>(c), kNegInf);
#pragma omp parallel
  {
    std::vector<const float*> kvp(static_cast<size_t>(cfg.state_rows())), zp(kvp.size());
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      if (!cfg.overlap) {  // rows: tokens r·i + j, channels [0, c)
        for (int64_t j = 0; j < r; ++j) {
          kvp[j] = KV + (r * i + j) * w;
          zp[j] = Z + (r * i + j) * w;
        }
      } else {  // rows 0..r-1: block i-1, first half; rows r..2r-1: block i, second half
        for (int64_t j = 0; j < r; ++j) {
          kvp[j] = i > 0 ? KV + (r * (i - 1) + j) * w : zeros.data();
          zp[j] = i > 0 ? Z + (r * (i - 1) + j) * w : neg.data();
          kvp[r + j] = KV + (r * i + j) * w + c;
          zp[r + j] = Z + (r * i + j) * w + c;
        }
      }
      compressor_pool_rows(kvp.data(), zp.data(), int(cfg.state_rows()), c, rc, C + i * c);
    }
  }
}

void compressor_finish(const CompressorConfig& cfg, const CompressorWeights& W, const float* C, int64_t n, int64_t i0,
                       const RopeTable& table, Recipe rc, uint16_t* out) {
  const int64_t c = cfg.c;
  std::vector<uint16_t> b(static_cast<size_t>(n * c));  // [n, c] bf16(C)
  for (int64_t i = 0; i < n * c; ++i) b[i] = bf16_encode(C[i]);
  rmsnorm(b.data(), W.norm, n, c, kRmsNormEps, rc, out);
  std::vector<int32_t> pos(static_cast<size_t>(n));  // entry i is rotated at the first token of its block
  for (int64_t k = 0; k < n; ++k) pos[k] = int32_t(cfg.r * (i0 + k));
  rope_apply(out, n, c, pos.data(), 1, table, false);
  if (cfg.rotate) {
    hadamard(out, n, c, out);
    if (cfg.sim) fp4_act_quant_sim(out, n, c, out);
  } else if (cfg.sim) {
    kv_fp8_sim(out, n, c, 2 * table.half);
  }
}

void compressor_prefill(const CompressorConfig& cfg, const CompressorWeights& W, const uint16_t* x, int64_t s,
                        const RopeTable& table, Recipe rc, uint16_t* entries, float* kv_state, float* score_state) {
  check_cfg(cfg);
  const int64_t r = cfg.r, w = cfg.width(), n = s / r;
  std::vector<float> KV(static_cast<size_t>(s * w)), Z(static_cast<size_t>(s * w)), C(static_cast<size_t>(n * cfg.c));
  compressor_project(cfg, W, x, s, 0, rc, KV.data(), Z.data());
  compressor_pool_prefill(cfg, KV.data(), Z.data(), s, rc, C.data());
  compressor_finish(cfg, W, C.data(), n, 0, table, rc, entries);
  // The decode state after the prompt: the last complete block as "previous" rows (CSA), the remainder
  // tokens as "current" rows, everything else reset.
  compressor_state_reset(cfg, kv_state, score_state);
  const int64_t cutoff = n * r, offset = cfg.overlap ? r : 0;
  if (cfg.overlap && cutoff >= r) {
    std::copy(KV.begin() + (cutoff - r) * w, KV.begin() + cutoff * w, kv_state);
    std::copy(Z.begin() + (cutoff - r) * w, Z.begin() + cutoff * w, score_state);
  }
  std::copy(KV.begin() + cutoff * w, KV.begin() + s * w, kv_state + offset * w);
  std::copy(Z.begin() + cutoff * w, Z.begin() + s * w, score_state + offset * w);
}

bool compressor_decode(const CompressorConfig& cfg, const CompressorWeights& W, const uint16_t* x, int64_t p,
                       const RopeTable& table, Recipe rc, float* kv_state, float* score_state, uint16_t* entry) {
  check_cfg(cfg);
  const int64_t r = cfg.r, c = cfg.c, w = cfg.width();
  const int64_t row = (cfg.overlap ? r : 0) + p % r;
  compressor_project(cfg, W, x, 1, p, rc, kv_state + row * w, score_state + row * w);
  if ((p + 1) % r != 0) return false;
  std::vector<const float*> kvp(static_cast<size_t>(cfg.state_rows())), zp(kvp.size());
  for (int64_t j = 0; j < cfg.state_rows(); ++j) {
    const int64_t half = cfg.overlap && j >= r ? c : 0;  // CSA: previous rows first half, current rows second half
    kvp[j] = kv_state + j * w + half;
    zp[j] = score_state + j * w + half;
  }
  std::vector<float> C(static_cast<size_t>(c));
  compressor_pool_rows(kvp.data(), zp.data(), int(cfg.state_rows()), c, rc, C.data());
  if (cfg.overlap) {  // the completed block becomes the previous block of the next entry
    std::copy(kv_state + r * w, kv_state + 2 * r * w, kv_state);
    std::copy(score_state + r * w, score_state + 2 * r * w, score_state);
  }
  compressor_finish(cfg, W, C.data(), 1, p / r, table, rc, entry);
  return true;
}

}  // namespace v4
