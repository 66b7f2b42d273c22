// newton_schulz: Muon's orthogonalisation in bf16 (reference/newton_schulz.h), with the coefficient
// schedule and the norm epsilon as input datasets so any variant replays.
#include "golden/ops.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "reference/newton_schulz.h"
#include "reference/random_tensor.h"

namespace v4::golden {

namespace {

// The schedule as a dataset: f32 [steps, 3], one (a, b, c) row per step.
Tensor coeff_table(const std::vector<NsCoeffs>& sch) {
  Tensor t = Tensor::make(Fmt::f32, {int64_t(sch.size()), 3});
  float* p = t.as<float>();
  for (size_t i = 0; i < sch.size(); ++i) p[3 * i] = sch[i].a, p[3 * i + 1] = sch[i].b, p[3 * i + 2] = sch[i].c;
  return t;
}

}  // namespace

// Shared with golden/ops/muon.cpp (declared there): the seeded schedule of `--shape schedule=0|1` and the
// read-back of a coefficient table dataset.
Tensor ns_coeff_table_for(int64_t schedule) {
  if (schedule != 0 && schedule != 1)
    throw std::invalid_argument("schedule=" + std::to_string(schedule) + ": 0 (v4_hybrid) or 1 (keller5)");
  return coeff_table(ns_schedule(NsSchedule(schedule)));
}
std::vector<NsCoeffs> ns_read_coeffs(const OpInputs& in, const std::string& name) {
  const Tensor& t = in.get(name, Fmt::f32);
  in.require_rank(name, t, 2);
  in.require_dim(name, t, 1, 3, "one (a, b, c) row per step");
  std::vector<NsCoeffs> c(size_t(t.shape[0]));
  for (size_t i = 0; i < c.size(); ++i) c[i] = {t.as<float>()[3 * i], t.as<float>()[3 * i + 1], t.as<float>()[3 * i + 2]};
  return c;
}

namespace {

OpSpec newton_schulz_op() {
  OpSpec op;
  op.name = "newton_schulz";
  op.summary = "g bf16|f32 [.., rows, cols], coeffs f32 [steps, 3], eps f32 -> o bf16 [.., rows, cols]; "
               "schedule=0 (v4_hybrid 8+2) | 1 (keller5); trace=1 adds iter_<k> (X after step k, working orientation)";
  op.defaults = {{"rows", 64}, {"cols", 128}, {"schedule", 0}, {"trace", 0}};
  op.has_recipe = true;
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    return std::vector<NamedTensor>{{"g", random_normal_f32(seed, "g", {param(p, "rows"), param(p, "cols")}, 1e-3f)},
                                    {"coeffs", ns_coeff_table_for(param(p, "schedule"))},
                                    {"eps", scalar_f32(kNsEps)},
                                    {"trace", scalar_i32(int32_t(param(p, "trace")))}};
  };
  op.run = [](const OpInputs& in, Recipe r) {
    // g: a bf16 tensor as it is, or float32 cast to bf16 first (Keller's `X = G.bfloat16()`).
    const Fmt gf = in.get_any_fmt("g");
    if (gf != Fmt::f32 && gf != Fmt::bf16) in.fail("g", std::string("expected f32 or bf16, found ") + fmt_name(gf));
    const Tensor& g = in.get("g", gf);
    if (g.shape.size() < 2) in.fail("g", "expected rank >= 2 ([.., rows, cols])");
    const std::vector<NsCoeffs> co = ns_read_coeffs(in, "coeffs");
    const float eps = in.get_f32_scalar("eps");
    const bool trace = in.get_switch("trace");
    const int64_t rows = g.shape[g.shape.size() - 2], cols = g.shape.back(), per = rows * cols;
    const int64_t batch = per == 0 ? 0 : g.numel() / per;
    Tensor xb = Tensor::make(Fmt::bf16, g.shape);
    for (int64_t i = 0; i < g.numel(); ++i)
      xb.as<uint16_t>()[i] = gf == Fmt::bf16 ? g.as<uint16_t>()[i] : bf16_encode(g.as<float>()[i]);
    Tensor o = Tensor::make(Fmt::bf16, g.shape);
    // Trace tensors: [.., R, C] in the working orientation (R = min(rows, cols)).
    std::vector<int64_t> tshape = g.shape;
    tshape[tshape.size() - 2] = std::min(rows, cols);
    tshape.back() = std::max(rows, cols);
    std::vector<Tensor> tr_out(trace ? co.size() + 1 : 0, Tensor::make(Fmt::bf16, tshape));
    std::vector<std::vector<uint16_t>> steps;
    for (int64_t b = 0; b < batch; ++b) {
      newton_schulz(xb.as<uint16_t>() + b * per, rows, cols, co.data(), int64_t(co.size()), eps, r,
                    o.as<uint16_t>() + b * per, trace ? &steps : nullptr);
      for (size_t k = 0; k < tr_out.size(); ++k) std::copy(steps[k].begin(), steps[k].end(), tr_out[k].as<uint16_t>() + b * per);
    }
    std::vector<NamedTensor> out;
    out.push_back({"o", std::move(o)});
    for (size_t k = 0; k < tr_out.size(); ++k) out.push_back({"iter_" + std::to_string(k), std::move(tr_out[k])});
    return out;
  };
  return op;
}

}  // namespace

std::vector<OpSpec> ops_newton_schulz() {
  return {newton_schulz_op()};
}

}  // namespace v4::golden
