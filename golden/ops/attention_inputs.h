// Seeded inputs and input validation shared by the attention ops (rmsnorm, rope, sparse_attention,
// compressor, indexer, q_proj, kv_proj, output_proj, attention_layer). Generators are pure functions of
// (seed, dataset name, element index) through reference/rng.h, at realistic scales: activations and
// weights uniform in ±a with a = sigma·sqrt(3) (so a linear's outputs stay near unit scale), FP8 weights
// quantized from such values per 128×128 block with ue8m0 ceiling scales (as the checkpoints are), RoPE
// tables computed by reference/rope.h. docs/cli.md lists the datasets.
#pragma once
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "golden/ops.h"
#include "reference/random_tensor.h"
#include "reference/attention_layer.h"
#include "reference/blocks.h"
#include "reference/formats.h"
#include "reference/linear.h"
#include "reference/rng.h"
#include "reference/rope.h"

namespace v4::golden::attn_inputs {

// Uniform in [mean - sigma·√3, mean + sigma·√3] (standard deviation sigma), one value per element.
inline float uniform_value(uint64_t seed, uint64_t stream, uint64_t i, float sigma, float mean) {
  return mean + sigma * 1.7320508f * (2.0f * rng_uniform(seed, stream, i) - 1.0f);
}

inline Tensor bf16_uniform(uint64_t seed, const std::string& name, std::vector<int64_t> shape, float sigma,
                           float mean = 0.0f) {
  Tensor t = Tensor::make(Fmt::bf16, std::move(shape));
  const uint64_t s = rng_stream_id(name.c_str());
  for (int64_t i = 0; i < t.numel(); ++i) t.as<uint16_t>()[i] = bf16_encode(uniform_value(seed, s, uint64_t(i), sigma, mean));
  return t;
}

// fp32 tensors with bf16 values (checkpoint weights upcast), or plain fp32 when bf16_values is false.
inline Tensor f32_uniform(uint64_t seed, const std::string& name, std::vector<int64_t> shape, float sigma,
                          float mean = 0.0f, bool bf16_values = true) {
  Tensor t = Tensor::make(Fmt::f32, std::move(shape));
  const uint64_t s = rng_stream_id(name.c_str());
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float v = uniform_value(seed, s, uint64_t(i), sigma, mean);
    t.as<float>()[i] = bf16_values ? bf16_round(v) : v;
  }
  return t;
}

// An FP8 weight [out, in] quantized per 128×128 block: pushes `name` (e4m3fn, scale link) and
// `name_scale` (ue8m0 [ceil(out/128), in/128]).
inline void push_fp8_weight(std::vector<NamedTensor>& v, uint64_t seed, const std::string& name, int64_t out,
                            int64_t in, float sigma) {
  const uint64_t st = rng_stream_id(name.c_str());
  const int64_t rb = ceil_div(out, kFp8Block), cb = ceil_div(in, kFp8Block);
  Tensor w = Tensor::make(Fmt::e4m3fn, {out, in}), s = Tensor::make(Fmt::ue8m0, {rb, cb});
  std::vector<float> val(static_cast<size_t>(out * in));
  for (int64_t i = 0; i < out * in; ++i) val[i] = uniform_value(seed, st, uint64_t(i), sigma, 0.0f);
  for (int64_t bi = 0; bi < rb; ++bi)
    for (int64_t bj = 0; bj < cb; ++bj) {
      float amax = 1e-30f;
      for (int64_t i = bi * kFp8Block; i < std::min(out, (bi + 1) * kFp8Block); ++i)
        for (int64_t j = bj * kFp8Block; j < std::min(in, (bj + 1) * kFp8Block); ++j)
          amax = std::max(amax, std::fabs(val[i * in + j]));
      const uint8_t sc = ue8m0_encode(amax / 448.0f);
      s.as<uint8_t>()[bi * cb + bj] = sc;
      for (int64_t i = bi * kFp8Block; i < std::min(out, (bi + 1) * kFp8Block); ++i)
        for (int64_t j = bj * kFp8Block; j < std::min(in, (bj + 1) * kFp8Block); ++j)
          w.as<uint8_t>()[i * in + j] = fp8_e4m3_encode(val[i * in + j] / ue8m0_decode(sc), Sat::satfinite);
    }
  v.push_back({name, std::move(w), {"/" + name + "_scale", {kFp8Block, kFp8Block}}});
  v.push_back({name + "_scale", std::move(s)});
}

// The RoPE table of a layer of compress ratio `ratio` for positions 0 .. P-1: pushes `cos`, `sin` f32 [P, 32].
inline void push_rope_table(std::vector<NamedTensor>& v, int64_t ratio, int64_t P) {
  const RopeParams p = rope_params_for_ratio(int(ratio));
  Tensor c = Tensor::make(Fmt::f32, {P, p.dim / 2}), s = Tensor::make(Fmt::f32, {P, p.dim / 2});
  rope_table(p, P, c.as<float>(), s.as<float>());
  v.push_back({"cos", std::move(c)});
  v.push_back({"sin", std::move(s)});
}

// The weights every attention layer type has, seeded from the shape parameters d, H, c, dc, g, R:
// q_norm, kv_norm, attn_sink, wq_a, wq_b, wkv (+ _scale), wo_a bf16, wo_b (+ _scale), in the order
// read_attention_core reads them.
inline void push_attention_core(std::vector<NamedTensor>& v, uint64_t seed, const ShapeParams& p) {
  const int64_t d = param(p, "d"), H = param(p, "H"), c = param(p, "c"), dc = param(p, "dc"), g = param(p, "g"),
                R = param(p, "R");
  const float sd = 1.0f / std::sqrt(float(d)), sdc = 1.0f / std::sqrt(float(dc));
  v.push_back({"q_norm", f32_uniform(seed, "q_norm", {dc}, 0.1f, 1.0f)});
  v.push_back({"kv_norm", f32_uniform(seed, "kv_norm", {c}, 0.1f, 1.0f)});
  v.push_back({"attn_sink", f32_uniform(seed, "attn_sink", {H}, 1.0f)});
  push_fp8_weight(v, seed, "wq_a", dc, d, sd);
  push_fp8_weight(v, seed, "wq_b", H * c, dc, sdc);
  push_fp8_weight(v, seed, "wkv", c, d, sd);
  v.push_back({"wo_a", bf16_uniform(seed, "wo_a", {g * R, H * c / g}, 1.0f / std::sqrt(float(H * c / g)))});
  push_fp8_weight(v, seed, "wo_b", d, g * R, 1.0f / std::sqrt(float(g * R)));
}

// Orders generated inputs as `run` reads them (a replay file lists the consumed inputs in reading order,
// so a seeded file must list them the same way to be reproduced byte for byte). Names not listed keep
// their relative order after the listed ones.
inline std::vector<NamedTensor> in_reading_order(std::vector<NamedTensor> v, const std::vector<std::string>& order) {
  std::vector<NamedTensor> out;
  for (const std::string& n : order)
    for (auto& t : v)
      if (t.name == n && !t.name.empty()) {
        out.push_back(std::move(t));
        t.name.clear();
      }
  for (auto& t : v)
    if (!t.name.empty()) out.push_back(std::move(t));
  return out;
}

// ---- Reading ----
// f32 vector [n] (n < 0: any length; returns it through *n_out).
inline const float* f32_vec_in(const OpInputs& in, const std::string& name, int64_t n) {
  const Tensor& t = in.get(name, Fmt::f32);
  in.require_rank(name, t, 1);
  if (n >= 0) in.require_dim(name, t, 0, n, "length");
  return t.as<float>();
}
// An FP8 weight `name` [out, in] with `name_scale`; out/in < 0 accept any.
inline Fp8Weight fp8_weight_in(const OpInputs& in, const std::string& name, int64_t out, int64_t in_dim) {
  const Tensor& w = in.get(name, Fmt::e4m3fn);
  const Tensor& s = in.get(name + "_scale", Fmt::ue8m0);
  in.require_rank(name, w, 2);
  if (out >= 0) in.require_dim(name, w, 0, out, "output features");
  if (in_dim >= 0) in.require_dim(name, w, 1, in_dim, "input features");
  if (w.shape[1] % kFp8Block) in.fail(name, "input features " + std::to_string(w.shape[1]) + " not a multiple of 128");
  in.require_rank(name + "_scale", s, 2);
  in.require_dim(name + "_scale", s, 0, ceil_div(w.shape[0], kFp8Block), "one scale per 128 rows");
  in.require_dim(name + "_scale", s, 1, w.shape[1] / kFp8Block, "one scale per 128 columns");
  return {w.as<uint8_t>(), s.as<uint8_t>(), w.shape[0], w.shape[1]};
}
// `cos`, `sin` f32 [P, 32].
inline RopeTable rope_table_in(const OpInputs& in) {
  const Tensor& c = in.get("cos", Fmt::f32);
  const Tensor& s = in.get("sin", Fmt::f32);
  in.require_rank("cos", c, 2);
  in.require_dim("cos", c, 1, 32, "cos/sin of the 32 rotated pairs");
  in.require_rank("sin", s, 2);
  in.require_dim("sin", s, 0, c.shape[0], "as many positions as cos");
  in.require_dim("sin", s, 1, 32, "cos/sin of the 32 rotated pairs");
  return {c.as<float>(), s.as<float>(), c.shape[0], 32};
}
// bf16 matrix [rows, cols] (< 0: any).
inline const Tensor& bf16_mat_in(const OpInputs& in, const std::string& name, int64_t rows, int64_t cols) {
  const Tensor& t = in.get(name, Fmt::bf16);
  in.require_rank(name, t, 2);
  if (rows >= 0) in.require_dim(name, t, 0, rows, "rows");
  if (cols >= 0) in.require_dim(name, t, 1, cols, "columns");
  return t;
}
inline const Tensor& f32_mat_in(const OpInputs& in, const std::string& name, int64_t rows, int64_t cols) {
  const Tensor& t = in.get(name, Fmt::f32);
  in.require_rank(name, t, 2);
  if (rows >= 0) in.require_dim(name, t, 0, rows, "rows");
  if (cols >= 0) in.require_dim(name, t, 1, cols, "columns");
  return t;
}

// Reads and checks the weights of push_attention_core, taking dc, c, H, g, R from their shapes (cfg.d set).
inline void read_attention_core(const OpInputs& in, AttentionConfig& cfg, AttentionWeights& W) {
  const int64_t d = cfg.d;
  W.q_norm = f32_vec_in(in, "q_norm", -1);
  cfg.dc = in.get("q_norm", Fmt::f32).shape[0];
  W.kv_norm = f32_vec_in(in, "kv_norm", -1);
  cfg.c = in.get("kv_norm", Fmt::f32).shape[0];
  if (cfg.c <= 64 || (cfg.c - 64) % 64) in.fail("kv_norm", "head dim must be 64 RoPE dims + a multiple of 64");
  W.attn_sink = f32_vec_in(in, "attn_sink", -1);
  cfg.H = in.get("attn_sink", Fmt::f32).shape[0];
  W.wq_a = fp8_weight_in(in, "wq_a", cfg.dc, d);
  W.wq_b = fp8_weight_in(in, "wq_b", cfg.H * cfg.c, cfg.dc);
  W.wkv = fp8_weight_in(in, "wkv", cfg.c, d);
  const Tensor& wo_a = bf16_mat_in(in, "wo_a", -1, -1);
  if (wo_a.shape[1] <= 0 || (cfg.H * cfg.c) % wo_a.shape[1]) in.fail("wo_a", "columns must divide H*c");
  cfg.g = cfg.H * cfg.c / wo_a.shape[1];
  if (wo_a.shape[0] % cfg.g) in.fail("wo_a", "rows must be g*R");
  cfg.R = wo_a.shape[0] / cfg.g;
  W.wo_a = wo_a.as<uint16_t>();
  W.wo_b = fp8_weight_in(in, "wo_b", d, cfg.g * cfg.R);
}

}  // namespace v4::golden::attn_inputs
