// muon: one or more Muon steps (reference/muon.h) with the optimizer state as explicit inputs and every
// step's state as outputs, so a training run's trajectory replays step by step.
#include "golden/ops.h"

#include <string>

#include "reference/muon.h"
#include "reference/random_tensor.h"

namespace v4::golden {

// golden/ops/newton_schulz.cpp
Tensor ns_coeff_table_for(int64_t schedule);
std::vector<NsCoeffs> ns_read_coeffs(const OpInputs& in, const std::string& name);

namespace {

OpSpec muon_op() {
  OpSpec op;
  op.name = "muon";
  op.summary = "w, m f32 [E, rows, cols], g f32 [steps, E, rows, cols], split i32 [K], momentum f32, decay f32 [steps], "
               "alpha f32 [steps, K], ns_coeffs f32 [T, 3], ns_eps f32 -> step_<i>/{x, o, w, m}";
  op.defaults = {{"E", 1}, {"rows", 64}, {"cols", 128}, {"parts", 1}, {"steps", 1}, {"schedule", 0}};
  op.has_recipe = true;
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t E = param(p, "E"), rows = param(p, "rows"), cols = param(p, "cols"), K = param(p, "parts"),
                  S = param(p, "steps");
    if (K < 1 || rows % K) throw std::invalid_argument("muon: parts=" + std::to_string(K) + " must divide rows=" + std::to_string(rows));
    // V4-Flash's peak learning rate and the report's μ, λ, γ (docs/muon.md), as Python floats.
    const MuonParams hp;
    Tensor split = Tensor::make(Fmt::i32, {K}), decay = Tensor::make(Fmt::f32, {S}), alpha = Tensor::make(Fmt::f32, {S, K});
    const MuonScalars sc = muon_scalars(hp, rows / K, cols);
    for (int64_t k = 0; k < K; ++k) split.as<int32_t>()[k] = int32_t(rows / K);
    for (int64_t i = 0; i < S; ++i) {
      decay.as<float>()[i] = sc.decay;
      for (int64_t k = 0; k < K; ++k) alpha.as<float>()[i * K + k] = sc.alpha;
    }
    return std::vector<NamedTensor>{{"w", random_normal_f32(seed, "w", {E, rows, cols}, 0.02f)},
                                    {"m", random_normal_f32(seed, "m", {E, rows, cols}, 1e-3f)},
                                    {"g", random_normal_f32(seed, "g", {S, E, rows, cols}, 1e-3f)},
                                    {"split", std::move(split)},
                                    {"momentum", scalar_f32(sc.momentum)},
                                    {"decay", std::move(decay)},
                                    {"alpha", std::move(alpha)},
                                    {"ns_coeffs", ns_coeff_table_for(param(p, "schedule"))},
                                    {"ns_eps", scalar_f32(kNsEps)}};
  };
  op.run = [](const OpInputs& in, Recipe r) {
    const Tensor& w0 = in.get("w", Fmt::f32);
    if (w0.shape.size() != 2 && w0.shape.size() != 3) in.fail("w", "expected [rows, cols] or [E, rows, cols]");
    const bool stacked = w0.shape.size() == 3;
    const int64_t E = stacked ? w0.shape[0] : 1, rows = w0.shape[stacked ? 1 : 0], cols = w0.shape.back();
    const Tensor& m0 = in.get("m", Fmt::f32);
    if (m0.shape != w0.shape) in.fail("m", "shape " + shape_str(m0.shape) + " differs from w " + shape_str(w0.shape));
    const Tensor& g = in.get("g", Fmt::f32);
    in.require_rank("g", g, w0.shape.size() + 1);
    for (size_t a = 0; a < w0.shape.size(); ++a) in.require_dim("g", g, a + 1, w0.shape[a], "w's shape after the step axis");
    const int64_t S = g.shape[0];
    const Tensor& split = in.get("split", Fmt::i32);
    in.require_rank("split", split, 1);
    const int64_t K = split.shape[0];
    if (K < 1) in.fail("split", "needs at least one sub-matrix");
    std::vector<int64_t> rows_k(static_cast<size_t>(K));
    int64_t sum = 0;
    for (int64_t k = 0; k < K; ++k) {
      rows_k[size_t(k)] = split.as<int32_t>()[k];
      if (rows_k[size_t(k)] < 0) in.fail("split", "negative row count");
      sum += rows_k[size_t(k)];
    }
    if (sum != rows) in.fail("split", "row counts sum to " + std::to_string(sum) + ", w has " + std::to_string(rows) + " rows");
    const float momentum = in.get_f32_scalar("momentum");
    const Tensor& decay = in.get("decay", Fmt::f32);
    in.require_rank("decay", decay, 1);
    in.require_dim("decay", decay, 0, S, "one per step");
    const Tensor& alpha = in.get("alpha", Fmt::f32);
    in.require_rank("alpha", alpha, 2);
    in.require_dim("alpha", alpha, 0, S, "one row per step");
    in.require_dim("alpha", alpha, 1, K, "one per sub-matrix");
    const std::vector<NsCoeffs> co = ns_read_coeffs(in, "ns_coeffs");
    const float eps = in.get_f32_scalar("ns_eps");

    Tensor w = w0, m = m0;
    std::vector<NamedTensor> out;
    const int64_t per = w.numel();
    for (int64_t i = 0; i < S; ++i) {
      Tensor x = Tensor::make(Fmt::f32, w.shape), o = Tensor::make(Fmt::bf16, w.shape);
      muon_step_stack(w.as<float>(), m.as<float>(), g.as<float>() + i * per, E, rows, cols, rows_k.data(), K, momentum,
                      decay.as<float>()[i], alpha.as<float>() + i * K, co.data(), int64_t(co.size()), eps, r,
                      x.as<float>(), o.as<uint16_t>());
      const std::string p = "step_" + std::to_string(i) + "/";
      out.push_back({p + "x", std::move(x)});
      out.push_back({p + "o", std::move(o)});
      out.push_back({p + "w", w});
      out.push_back({p + "m", m});
    }
    return out;
  };
  return op;
}

}  // namespace

std::vector<OpSpec> ops_muon() {
  return {muon_op()};
}

}  // namespace v4::golden
