// adamw: one or more AdamW updates (reference/adamw.h) with the moments as explicit inputs and every
// step's state as outputs, so a training run's trajectory replays step by step.
#include "golden/ops.h"

#include <string>

#include "reference/adamw.h"
#include "reference/random_tensor.h"

namespace v4::golden {

namespace {

OpSpec adamw_op() {
  OpSpec op;
  op.name = "adamw";
  op.summary = "w, m, v f32 [any], g f32 [steps, ..w], decay, bc2_sqrt, neg_step f32 [steps], w1, beta2, w2, eps f32 "
               "-> step_<i>/{w, m, v}; t0 = updates already taken";
  op.defaults = {{"n", 4096}, {"steps", 1}, {"t0", 0}};
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t n = param(p, "n"), S = param(p, "steps"), t0 = param(p, "t0");
    // V4's β1, β2, ε, λ and V4-Flash's peak learning rate, as Python floats (docs/adamw.md).
    const AdamWParams hp;
    Tensor decay = Tensor::make(Fmt::f32, {S}), bc2 = Tensor::make(Fmt::f32, {S}), step = Tensor::make(Fmt::f32, {S});
    for (int64_t i = 0; i < S; ++i) {
      const AdamWScalars sc = adamw_scalars(hp, t0 + i + 1);
      decay.as<float>()[i] = sc.decay, bc2.as<float>()[i] = sc.bc2_sqrt, step.as<float>()[i] = sc.neg_step;
    }
    const AdamWScalars s1 = adamw_scalars(hp, 1);
    // Fresh state (t0 = 0) starts from zero moments; later steps from moments of a plausible size.
    Tensor m = t0 ? random_normal_f32(seed, "m", {n}, 1e-4f) : Tensor::make(Fmt::f32, {n});
    Tensor v = Tensor::make(Fmt::f32, {n});
    if (t0) {
      const Tensor r = random_normal_f32(seed, "v", {n}, 1e-3f);
      for (int64_t i = 0; i < n; ++i) v.as<float>()[i] = r.as<float>()[i] * r.as<float>()[i];
    }
    return std::vector<NamedTensor>{{"w", random_normal_f32(seed, "w", {n}, 0.02f)},
                                    {"m", std::move(m)},
                                    {"v", std::move(v)},
                                    {"g", random_normal_f32(seed, "g", {S, n}, 1e-3f)},
                                    {"decay", std::move(decay)},
                                    {"w1", scalar_f32(s1.w1)},
                                    {"beta2", scalar_f32(s1.beta2)},
                                    {"w2", scalar_f32(s1.w2)},
                                    {"bc2_sqrt", std::move(bc2)},
                                    {"eps", scalar_f32(s1.eps)},
                                    {"neg_step", std::move(step)}};
  };
  op.run = [](const OpInputs& in, Recipe) {
    const Tensor& w0 = in.get("w", Fmt::f32);
    const Tensor& m0 = in.get("m", Fmt::f32);
    const Tensor& v0 = in.get("v", Fmt::f32);
    if (m0.shape != w0.shape) in.fail("m", "shape " + shape_str(m0.shape) + " differs from w " + shape_str(w0.shape));
    if (v0.shape != w0.shape) in.fail("v", "shape " + shape_str(v0.shape) + " differs from w " + shape_str(w0.shape));
    const Tensor& g = in.get("g", Fmt::f32);
    in.require_rank("g", g, w0.shape.size() + 1);
    for (size_t a = 0; a < w0.shape.size(); ++a) in.require_dim("g", g, a + 1, w0.shape[a], "w's shape after the step axis");
    const int64_t S = g.shape[0], n = w0.numel();
    auto per_step = [&](const char* name) -> const float* {
      const Tensor& t = in.get(name, Fmt::f32);
      in.require_rank(name, t, 1);
      in.require_dim(name, t, 0, S, "one per step");
      return t.as<float>();
    };
    const float* decay = per_step("decay");
    AdamWScalars s;
    s.w1 = in.get_f32_scalar("w1");
    s.beta2 = in.get_f32_scalar("beta2");
    s.w2 = in.get_f32_scalar("w2");
    const float* bc2 = per_step("bc2_sqrt");
    s.eps = in.get_f32_scalar("eps");
    const float* step = per_step("neg_step");
    Tensor w = w0, m = m0, v = v0;
    std::vector<NamedTensor> out;
    for (int64_t i = 0; i < S; ++i) {
      s.decay = decay[i], s.bc2_sqrt = bc2[i], s.neg_step = step[i];
      adamw_step(w.as<float>(), m.as<float>(), v.as<float>(), g.as<float>() + i * n, n, s);
      const std::string p = "step_" + std::to_string(i) + "/";
      out.push_back({p + "w", w});
      out.push_back({p + "m", m});
      out.push_back({p + "v", v});
    }
    return out;
  };
  return op;
}

}  // namespace

std::vector<OpSpec> ops_adamw() {
  return {adamw_op()};
}

}  // namespace v4::golden
