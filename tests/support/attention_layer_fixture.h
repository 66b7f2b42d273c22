// A complete set of attention-layer weights for a small configuration (or the V4-Flash shapes in the
// benchmark), holding its storage: FP8 weights quantized from Gaussians (tests/support/attention_fixtures.h),
// fp32 norms near 1, compressor weights with bf16 values, sinks around 0. Inputs only, not a reference.
#pragma once
#include <vector>

#include "reference/attention_layer.h"
#include "tests/support/attention_fixtures.h"

namespace v4::fixtures {

struct LayerWeights {
  AttentionConfig cfg;
  Fp8W wq_a, wq_b, wkv, wo_b, iwq_b;
  std::vector<float> q_norm, kv_norm, sink, cwkv, cwgate, cape, cnorm, iwkv, iwgate, iape, inorm;
  std::vector<uint16_t> wo_a, iwproj;

  AttentionWeights view() const {
    AttentionWeights w{};
    w.wq_a = wq_a.view();
    w.q_norm = q_norm.data();
    w.wq_b = wq_b.view();
    w.wkv = wkv.view();
    w.kv_norm = kv_norm.data();
    w.attn_sink = sink.data();
    w.wo_a = wo_a.data();
    w.wo_b = wo_b.view();
    w.comp = {cwkv.data(), cwgate.data(), cape.data(), cnorm.data()};
    w.index = {iwq_b.view(), iwproj.data(), {iwkv.data(), iwgate.data(), iape.data(), inorm.data()}};
    return w;
  }
};

// Standard deviations keep each linear's output near unit scale: sigma ≈ 1/sqrt(fan_in).
inline LayerWeights make_layer(const AttentionConfig& cfg, uint32_t seed) {
  LayerWeights L;
  L.cfg = cfg;
  const int64_t d = cfg.d, c = cfg.c, H = cfg.H, dc = cfg.dc, g = cfg.g, R = cfg.R;
  const float sd = 1.0f / std::sqrt(float(d)), sdc = 1.0f / std::sqrt(float(dc));
  L.wq_a = fp8_normal(dc, d, seed + 1, sd);
  L.wq_b = fp8_normal(H * c, dc, seed + 2, sdc);
  L.wkv = fp8_normal(c, d, seed + 3, sd);
  L.wo_b = fp8_normal(d, g * R, seed + 4, 1.0f / std::sqrt(float(g * R)));
  L.q_norm = f32_bf16_normal(dc, seed + 5, 0.1f, 1.0f);
  L.kv_norm = f32_bf16_normal(c, seed + 6, 0.1f, 1.0f);
  L.sink = f32_bf16_normal(H, seed + 7, 1.0f);
  L.wo_a = bf16_normal(g * R * (H * c / g), seed + 8, 1.0f / std::sqrt(float(H * c / g)));
  if (cfg.ratio) {
    const int64_t w = cfg.ratio == 4 ? 2 * c : c;
    L.cwkv = f32_bf16_normal(w * d, seed + 9, sd);
    L.cwgate = f32_bf16_normal(w * d, seed + 10, sd);
    L.cape = f32_bf16_normal(cfg.ratio * w, seed + 11, 0.5f);
    L.cnorm = f32_bf16_normal(c, seed + 12, 0.1f, 1.0f);
  }
  if (cfg.ratio == 4) {
    const int64_t nI = cfg.nI, cI = cfg.cI;
    L.iwq_b = fp8_normal(nI * cI, dc, seed + 13, sdc);
    L.iwproj = bf16_normal(nI * d, seed + 14, sd);
    L.iwkv = f32_bf16_normal(2 * cI * d, seed + 15, sd);
    L.iwgate = f32_bf16_normal(2 * cI * d, seed + 16, sd);
    L.iape = f32_bf16_normal(4 * 2 * cI, seed + 17, 0.5f);
    L.inorm = f32_bf16_normal(cI, seed + 18, 0.1f, 1.0f);
  }
  return L;
}

}  // namespace v4::fixtures
