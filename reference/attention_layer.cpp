// attention_layer: see attention_layer.h. Shape legend: S prefill tokens, d hidden, H heads, c head dim,
// K index-list width, n compressed entries.
#include "reference/attention_layer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>

#include "reference/kv_proj.h"
#include "reference/output_proj.h"
#include "reference/q_proj.h"
#include "reference/sparse_attention.h"
#include "reference/window_index.h"

namespace v4 {

float AttentionConfig::scale() const { return float(1.0 / std::sqrt(double(c))); }  // Python head_dim ** -0.5

AttentionConfig attention_config_flash(int64_t ratio) {
  AttentionConfig c{4096, 64, 512, 1024, 8, 1024, 128, ratio, 64, 128, 512};
  return c;
}

AttentionState attention_state_init(const AttentionConfig& cfg, int64_t max_seq) {
  AttentionState st;
  st.max_seq = max_seq;
  const int64_t n = cfg.ratio ? max_seq / cfg.ratio : 0;
  st.kv.assign(static_cast<size_t>((cfg.win + n) * cfg.c), 0);
  if (cfg.ratio) {
    const CompressorConfig cc = cfg.compressor();
    st.comp_kv.resize(static_cast<size_t>(cc.state_rows() * cc.width()));
    st.comp_score.resize(st.comp_kv.size());
    compressor_state_reset(cc, st.comp_kv.data(), st.comp_score.data());
  }
  if (cfg.ratio == 4) {
    const CompressorConfig ic = cfg.indexer().compressor();
    st.index_k.assign(static_cast<size_t>(max_seq / 4 * cfg.cI), 0);
    st.index_kv.resize(static_cast<size_t>(ic.state_rows() * ic.width()));
    st.index_score.resize(st.index_kv.size());
    compressor_state_reset(ic, st.index_kv.data(), st.index_score.data());
  }
  return st;
}

namespace {

void check(const AttentionConfig& cfg, const AttentionState& st, int64_t last_pos, const RopeTable& table) {
  if (cfg.ratio < 0 || cfg.win <= 0 || cfg.H <= 0)
    throw std::invalid_argument("attention: bad config ratio=" + std::to_string(cfg.ratio) +
                                " win=" + std::to_string(cfg.win));
  if (last_pos >= st.max_seq)
    throw std::invalid_argument("attention: position " + std::to_string(last_pos) + " beyond the state's max_seq " +
                                std::to_string(st.max_seq));
  if (last_pos >= table.positions)
    throw std::invalid_argument("attention: position " + std::to_string(last_pos) + " beyond the RoPE table");
}

// Stage stopwatch for AttentionTrace::seconds (never affects results).
struct Stages {
  std::chrono::steady_clock::time_point t = std::chrono::steady_clock::now();
  double s[6] = {};
  void lap(int i) {
    const auto now = std::chrono::steady_clock::now();
    s[i] += std::chrono::duration<double>(now - t).count();
    t = now;
  }
};

// Concatenates per-row lists a [T, Ka] and b [T, Kb] into [T, Ka + Kb].
std::vector<int32_t> concat_rows(const std::vector<int32_t>& a, int64_t Ka, const std::vector<int32_t>& b, int64_t Kb,
                                 int64_t T) {
  std::vector<int32_t> out(static_cast<size_t>(T * (Ka + Kb)));
  for (int64_t t = 0; t < T; ++t) {
    std::copy(a.begin() + t * Ka, a.begin() + (t + 1) * Ka, out.begin() + t * (Ka + Kb));
    std::copy(b.begin() + t * Kb, b.begin() + (t + 1) * Kb, out.begin() + t * (Ka + Kb) + Ka);
  }
  return out;
}

}  // namespace

void attention_prefill(const AttentionConfig& cfg, const AttentionWeights& W, const uint16_t* x, int64_t S,
                       const RopeTable& table, Recipe rc, AttentionState& st, uint16_t* y, AttentionTrace* trace) {
  check(cfg, st, S - 1, table);
  const int64_t H = cfg.H, c = cfg.c, win = cfg.win, r = cfg.ratio;
  std::vector<int32_t> pos(static_cast<size_t>(S));
  for (int64_t t = 0; t < S; ++t) pos[t] = int32_t(t);
  // A sequence starts here: fresh caches and compressor states (§10; the demo keeps stale state).
  st = attention_state_init(cfg, st.max_seq);

  Stages clk;
  std::vector<uint16_t> qr(static_cast<size_t>(S * cfg.dc)), q(static_cast<size_t>(S * H * c));
  q_proj(x, S, W.wq_a, W.q_norm, W.wq_b, H, pos.data(), table, rc, cfg.quant, qr.data(), q.data());
  clk.lap(0);
  const int64_t n = r ? S / r : 0;
  std::vector<uint16_t> kv(static_cast<size_t>((S + n) * c));  // [S + n, c] the prefill KV array
  kv_proj(x, S, W.wkv, W.kv_norm, pos.data(), table, rc, cfg.quant, cfg.kv_fp8_sim, kv.data());
  clk.lap(1);

  const int64_t Kw = window_index_prefill_width(S, win);
  std::vector<int32_t> widx(static_cast<size_t>(S * Kw));
  window_index_prefill(S, win, widx.data());
  std::vector<int32_t> idx = widx;
  int64_t K = Kw;
  if (r == 4) {
    const IndexerConfig ic = cfg.indexer();
    const int64_t Kc = indexer_prefill_width(ic.topk, S, r);
    std::vector<int32_t> cidx(static_cast<size_t>(S * Kc));
    indexer_prefill(ic, W.index, x, qr.data(), S, table, rc, S, cidx.data(), st.index_k.data(), st.index_kv.data(),
                    st.index_score.data());
    idx = concat_rows(widx, Kw, cidx, Kc, S);
    K += Kc;
  } else if (r) {
    const int64_t Kc = compressed_index_prefill_width(S, r);
    std::vector<int32_t> cidx(static_cast<size_t>(S * Kc));
    compressed_index_prefill(S, r, S, cidx.data());
    idx = concat_rows(widx, Kw, cidx, Kc, S);
    K += Kc;
  }
  clk.lap(2);
  // Window cache: the last min(S, win) tokens at slot pos mod win.
  for (int64_t t = std::max<int64_t>(0, S - win); t < S; ++t)
    std::copy(kv.begin() + t * c, kv.begin() + (t + 1) * c, st.kv.begin() + (t % win) * c);
  if (r) {
    compressor_prefill(cfg.compressor(), W.comp, x, S, table, rc, kv.data() + S * c, st.comp_kv.data(),
                       st.comp_score.data());
    std::copy(kv.begin() + S * c, kv.end(), st.kv.begin() + win * c);
  }
  clk.lap(3);
  std::vector<uint16_t> o(static_cast<size_t>(S * H * c));
  sparse_attention(q.data(), kv.data(), S + n, idx.data(), S, K, H, c, W.attn_sink, cfg.scale(), rc, o.data(), &table,
                   pos.data());
  clk.lap(4);
  output_proj(o.data(), S, H * c, cfg.g, W.wo_a, cfg.R, W.wo_b, rc, cfg.quant, y);
  clk.lap(5);
  if (trace) {
    std::copy(clk.s, clk.s + 6, trace->seconds);
    trace->qr = std::move(qr);
    trace->q = std::move(q);
    trace->kv.assign(kv.begin(), kv.begin() + S * c);
    trace->idx = std::move(idx);
    trace->K = K;
    trace->o = std::move(o);
  }
}

void attention_decode(const AttentionConfig& cfg, const AttentionWeights& W, const uint16_t* x, int64_t p,
                      const RopeTable& table, Recipe rc, AttentionState& st, uint16_t* y, AttentionTrace* trace) {
  check(cfg, st, p, table);
  const int64_t H = cfg.H, c = cfg.c, win = cfg.win, r = cfg.ratio;
  const int32_t pos = int32_t(p);
  Stages clk;
  std::vector<uint16_t> qr(static_cast<size_t>(cfg.dc)), q(static_cast<size_t>(H * c)), kv(static_cast<size_t>(c));
  q_proj(x, 1, W.wq_a, W.q_norm, W.wq_b, H, &pos, table, rc, cfg.quant, qr.data(), q.data());
  clk.lap(0);
  kv_proj(x, 1, W.wkv, W.kv_norm, &pos, table, rc, cfg.quant, cfg.kv_fp8_sim, kv.data());
  std::copy(kv.begin(), kv.end(), st.kv.begin() + (p % win) * c);
  clk.lap(1);

  std::vector<int32_t> idx(static_cast<size_t>(win));
  window_index_decode(p, win, idx.data());
  if (r == 4) {
    const IndexerConfig ic = cfg.indexer();
    std::vector<int32_t> cidx(static_cast<size_t>(indexer_decode_width(ic.topk, p, r)));
    indexer_decode(ic, W.index, x, qr.data(), p, table, rc, win, cidx.data(), st.index_k.data(), st.index_kv.data(),
                   st.index_score.data());
    idx.insert(idx.end(), cidx.begin(), cidx.end());
  } else if (r) {
    std::vector<int32_t> cidx(static_cast<size_t>(compressed_index_decode_width(p, r)));
    compressed_index_decode(p, r, win, cidx.data());
    idx.insert(idx.end(), cidx.begin(), cidx.end());
  }
  clk.lap(2);
  if (r) compressor_decode(cfg.compressor(), W.comp, x, p, table, rc, st.comp_kv.data(), st.comp_score.data(),
                           st.kv.data() + (win + p / r) * c);
  clk.lap(3);
  const int64_t K = int64_t(idx.size()), N = win + (r ? (p + 1) / r : 0);
  std::vector<uint16_t> o(static_cast<size_t>(H * c));
  sparse_attention(q.data(), st.kv.data(), N, idx.data(), 1, K, H, c, W.attn_sink, cfg.scale(), rc, o.data(), &table,
                   &pos);
  clk.lap(4);
  output_proj(o.data(), 1, H * c, cfg.g, W.wo_a, cfg.R, W.wo_b, rc, cfg.quant, y);
  clk.lap(5);
  if (trace) {
    std::copy(clk.s, clk.s + 6, trace->seconds);
    trace->qr = std::move(qr);
    trace->q = std::move(q);
    trace->kv = std::move(kv);
    trace->idx = std::move(idx);
    trace->K = K;
    trace->o = std::move(o);
  }
}

}  // namespace v4
