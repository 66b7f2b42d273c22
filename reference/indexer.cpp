// indexer: see indexer.h. Shape legend: T queries, nh heads, hd head dim, n compressed entries.
#include "reference/indexer.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "reference/fp4_act_quant.h"
#include "reference/formats.h"
#include "reference/hadamard.h"
#include "reference/reduce.h"
#include "reference/topk.h"

namespace v4 {

namespace {
constexpr float kNegInf = -__builtin_inff();
constexpr int64_t kScoreChunk = 64;  // queries per score GEMM (bounds the [chunk·nh, n] buffer)
}  // namespace

float indexer_weight_scale(int64_t nh, int64_t hd) {
  // hd ** -0.5 * nh ** -0.5 in double (sqrt and division are correctly rounded; the values V4 uses give
  // 128^-0.5 · 64^-0.5 = 0.011048543456039806), then fp32 as the kernel argument.
  return float((1.0 / std::sqrt(double(hd))) * (1.0 / std::sqrt(double(nh))));
}

void indexer_q(const IndexerConfig& cfg, const IndexerWeights& W, const uint16_t* qr, int64_t T, const int32_t* pos,
               const RopeTable& table, Recipe rc, uint16_t* q) {
  linear_fp8(qr, T, W.wq_b, rc, cfg.quant, q);  // [T, nh·hd]
  rope_apply(q, T * cfg.nh, cfg.hd, pos, cfg.nh, table, false);
  hadamard(q, T * cfg.nh, cfg.hd, q);
  if (cfg.fp4_sim) fp4_act_quant_sim(q, T * cfg.nh, cfg.hd, q);
}

void indexer_weights(const IndexerConfig& cfg, const IndexerWeights& W, const uint16_t* x, int64_t T, Recipe rc,
                     uint16_t* w) {
  linear_bf16(x, T, W.weights_proj, cfg.nh, cfg.d, rc, w);
  const float scale = indexer_weight_scale(cfg.nh, cfg.hd);
  for (int64_t i = 0; i < T * cfg.nh; ++i) w[i] = bf16_encode(bf16_decode(w[i]) * scale);
}

void indexer_scores(const IndexerConfig& cfg, const uint16_t* q, const uint16_t* w, const uint16_t* kcache, int64_t T,
                    int64_t n, const int64_t* visible, Recipe rc, float* score) {
  const int64_t nh = cfg.nh, hd = cfg.hd;
  if (n == 0) return;
  std::vector<uint16_t> e;  // [chunk·nh, n] bf16(q·k) of a chunk of queries
  for (int64_t t0 = 0; t0 < T; t0 += kScoreChunk) {
    const int64_t tn = std::min(kScoreChunk, T - t0);
    e.resize(static_cast<size_t>(tn * nh * n));
    linear_bf16(q + t0 * nh * hd, tn * nh, kcache, n, hd, rc, e.data());  // the einsum: one rounding to bf16
#pragma omp parallel
    {
      std::vector<float> terms(static_cast<size_t>(nh));  // [nh] bf16(relu(e)·w') of one (t, s)
#pragma omp for schedule(static)
      for (int64_t tt = 0; tt < tn; ++tt) {
        const int64_t t = t0 + tt;
        for (int64_t s = 0; s < n; ++s) {
          if (visible && s >= visible[t]) {
            score[t * n + s] = kNegInf;
            continue;
          }
          for (int64_t h = 0; h < nh; ++h) {
            const float a = std::max(bf16_decode(e[(tt * nh + h) * n + s]), 0.0f);  // relu (exact in bf16)
            terms[h] = bf16_round(a * bf16_decode(w[t * nh + h]));
          }
          score[t * n + s] = bf16_round(reduce_sum_f32(terms.data(), nh, 1, rc));
        }
      }
    }
  }
}

void indexer_prefill(const IndexerConfig& cfg, const IndexerWeights& W, const uint16_t* x, const uint16_t* qr,
                     int64_t S, const RopeTable& table, Recipe rc, int64_t offset, int32_t* idx, uint16_t* kcache,
                     float* kv_state, float* score_state, IndexerTrace* trace) {
  const int64_t nh = cfg.nh, hd = cfg.hd, r = cfg.r, n = S / r, k = indexer_prefill_width(cfg.topk, S, r);
  std::vector<int32_t> pos(static_cast<size_t>(S));
  for (int64_t t = 0; t < S; ++t) pos[t] = int32_t(t);
  std::vector<uint16_t> q(static_cast<size_t>(S * nh * hd)), w(static_cast<size_t>(S * nh));
  indexer_q(cfg, W, qr, S, pos.data(), table, rc, q.data());
  compressor_prefill(cfg.compressor(), W.comp, x, S, table, rc, kcache, kv_state, score_state);
  indexer_weights(cfg, W, x, S, rc, w.data());
  std::vector<int64_t> visible(static_cast<size_t>(S));
  for (int64_t t = 0; t < S; ++t) visible[t] = (t + 1) / r;
  std::vector<float> score(static_cast<size_t>(S * n));  // [S, n]
  indexer_scores(cfg, q.data(), w.data(), kcache, S, n, visible.data(), rc, score.data());
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < S; ++t) {
    int32_t* row = idx + t * k;
    topk_select(score.data() + t * n, n, k, row);
    for (int64_t j = 0; j < k; ++j) row[j] = row[j] >= visible[t] ? -1 : int32_t(row[j] + offset);
  }
  if (trace) {
    trace->q = std::move(q);
    trace->w = std::move(w);
    trace->score = std::move(score);
  }
}

void indexer_decode(const IndexerConfig& cfg, const IndexerWeights& W, const uint16_t* x, const uint16_t* qr, int64_t p,
                    const RopeTable& table, Recipe rc, int64_t offset, int32_t* idx, uint16_t* kcache, float* kv_state,
                    float* score_state, IndexerTrace* trace) {
  const int64_t nh = cfg.nh, hd = cfg.hd, r = cfg.r, n = (p + 1) / r, k = indexer_decode_width(cfg.topk, p, r);
  const int32_t pos = int32_t(p);
  std::vector<uint16_t> q(static_cast<size_t>(nh * hd)), w(static_cast<size_t>(nh));
  indexer_q(cfg, W, qr, 1, &pos, table, rc, q.data());
  compressor_decode(cfg.compressor(), W.comp, x, p, table, rc, kv_state, score_state, kcache + (p / r) * hd);
  indexer_weights(cfg, W, x, 1, rc, w.data());
  std::vector<float> score(static_cast<size_t>(n));
  indexer_scores(cfg, q.data(), w.data(), kcache, 1, n, nullptr, rc, score.data());
  topk_select(score.data(), n, k, idx);
  for (int64_t j = 0; j < k; ++j) idx[j] = int32_t(idx[j] + offset);
  if (trace) {
    trace->q = std::move(q);
    trace->w = std::move(w);
    trace->score = std::move(score);
  }
}

}  // namespace v4
