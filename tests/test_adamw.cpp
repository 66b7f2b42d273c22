// AdamW (reference/adamw.h) against expectations derived independently here: two hand-derived updates
// with dyadic hyperparameters (every intermediate exact or rounded by hand), both branches of PyTorch's
// lerp, the fp32 scalars of V4's hyperparameters from Python's binary64 arithmetic (printed with
// Python's struct module), the first-step property of bias-corrected Adam (|update| = η), zero gradient,
// and thread-count invariance.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden/ops.h"
#include "reference/adamw.h"

using namespace v4;

namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// First bias-corrected update from zero state: m̂ = g and v̂ = g², so the step is −η·g/|g| up to the
// roundings: m, g·g, v, sqrt, the two divisions, and the fp32 scalars w1, w2, bc2_sqrt, neg_step, each
// <= 2^-24 relative (v's enter under the square root at half weight), 10·2^-24 in all; the w1 against
// 1 − β1^1 mismatch (fp32(0.1) vs binary64 0.1) is inside the w1 term. The limit doubles that.
constexpr double kFirstStepRelTol = 20 * 0x1p-24;

std::vector<float> gaussian(size_t n, uint64_t seed, double scale) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd;
  std::vector<float> v(n);
  for (auto& x : v) x = float(nd(rng) * scale);
  return v;
}

}  // namespace

TEST(AdamW, TwoUpdatesByHand) {
  // β1 = 0.5 (lerp weight 0.5: PyTorch's "large weight" branch g − (g − m)·(1 − w)), β2 = 0.75, η = 0.25,
  // λ = 0.5, ε = 1e-20 (below every rounding here). W0 = 1, m0 = v0 = 0.
  AdamWParams p;
  p.lr = 0.25, p.beta1 = 0.5, p.beta2 = 0.75, p.eps = 1e-20, p.weight_decay = 0.5;
  float w = 1.0f, m = 0.0f, v = 0.0f;
  // t = 1, g = 1: W·(1 − 1/8) = 0.875; m = fma(−1, 0.5, 1) = 0.5; v = fma(0.25, 1, 0.75·0) = 0.25;
  // bias corrections 1 − 0.5 = 0.5 and sqrt(1 − 0.75) = 0.5: denom = sqrt(0.25)/0.5 + ε = 1;
  // W = fma(−0.25/0.5, 0.5/1, 0.875) = 0.625.
  float g = 1.0f;
  adamw_step(&w, &m, &v, &g, 1, adamw_scalars(p, 1));
  EXPECT_EQ(w, 0.625f);
  EXPECT_EQ(m, 0.5f);
  EXPECT_EQ(v, 0.25f);
  // t = 2, g = −1: W·0.875 = 0.546875; m = fma(1.5, 0.5, −1) = −0.25; v = fma(0.25, 1, 0.1875) = 0.4375;
  // 1 − 0.75² = 0.4375, so sqrt(v) / fp32(sqrt(0.4375)) = 1 exactly (both are the correctly rounded
  // sqrt(0.4375): binary64 sqrt then fp32 is innocuous double rounding) and denom = 1;
  // step = fp32(−0.25/0.75) = −11184811·2^-25; W = 0.546875 + 11184811·2^-27 = 84585131·2^-27, which on
  // the fp32 grid of [0.5, 1) (step 2^-24) is 10573141.375 steps: W = 10573141·2^-24 = 0x3F215555.
  g = -1.0f;
  adamw_step(&w, &m, &v, &g, 1, adamw_scalars(p, 2));
  EXPECT_EQ(bits(w), 0x3F215555u);
  EXPECT_EQ(m, -0.25f);
  EXPECT_EQ(v, 0.4375f);
  // β1 = 0.75: lerp weight 0.25 < 0.5 takes the other branch, m + w·(g − m): m0 = 1, g = 3 -> 1.5.
  p.beta1 = 0.75;
  w = 0.0f, m = 1.0f, v = 0.0f, g = 3.0f;
  adamw_step(&w, &m, &v, &g, 1, adamw_scalars(p, 1));
  EXPECT_EQ(m, 1.5f);
}

TEST(AdamW, V4ScalarsFromPythonFloats) {
  // Python: struct.pack('f', 1 - 0.9) etc. 1 − 0.9 in binary64 is 0.09999999999999998, whose fp32 is
  // 0x3DCCCCCD; subtracting the fp32 of 0.9 instead would give 0x3DCCCCD0.
  const AdamWScalars s1 = adamw_scalars(AdamWParams{}, 1), s2 = adamw_scalars(AdamWParams{}, 2);
  EXPECT_EQ(bits(s1.w1), 0x3DCCCCCDu);
  EXPECT_EQ(bits(s1.w2), 0x3D4CCCCDu);         // 1 − 0.95 = 0.050000000000000044
  EXPECT_EQ(bits(s1.eps), 0x1E3CE508u);        // 1e-20
  EXPECT_EQ(bits(s1.decay), 0x3F7FFE3Bu);      // 1 − 2.7e-4·0.1
  EXPECT_EQ(bits(s1.neg_step), 0xBB30F27Cu);   // −2.7e-4 / (1 − 0.9)
  EXPECT_EQ(bits(s1.bc2_sqrt), 0x3E64F92Eu);   // (1 − 0.95)**0.5
  EXPECT_EQ(bits(s2.bc2_sqrt), 0x3E9FDF38u);   // (1 − 0.95**2)**0.5
  EXPECT_THROW(adamw_scalars(AdamWParams{}, 0), std::invalid_argument);
}

TEST(AdamW, FirstStepIsLearningRate) {
  const AdamWParams p;  // V4: β 0.9 / 0.95, ε 1e-20, λ 0.1, η 2.7e-4
  const size_t n = 4096;
  std::vector<float> g = gaussian(n, 1, 1e-3), w(n, 0.0f), m(n, 0.0f), v(n, 0.0f);
  adamw_step(w.data(), m.data(), v.data(), g.data(), int64_t(n), adamw_scalars(p, 1));
  for (size_t i = 0; i < n; ++i) {
    const double rel = double(w[i]) / -(p.lr * (g[i] > 0 ? 1.0 : -1.0));
    ASSERT_NEAR(rel, 1.0, kFirstStepRelTol) << i << " g=" << g[i];
  }
}

TEST(AdamW, ZeroGradientOnlyDecays) {
  const AdamWParams p;
  const size_t n = 64;
  std::vector<float> w = gaussian(n, 2, 0.02), w0 = w, m(n, 0.0f), v(n, 0.0f), g(n, 0.0f);
  const AdamWScalars s = adamw_scalars(p, 1);
  adamw_step(w.data(), m.data(), v.data(), g.data(), int64_t(n), s);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(bits(w[i]), bits(w0[i] * s.decay)) << i;  // 0 / (0 + ε) = 0: no NaN
    ASSERT_EQ(m[i], 0.0f);
    ASSERT_EQ(v[i], 0.0f);
  }
}

TEST(AdamW, ThreadCountDoesNotChangeBits) {
  const size_t n = 10007;
  const AdamWParams p;
  const std::vector<float> w0 = gaussian(n, 3, 0.02), m0 = gaussian(n, 4, 1e-4), g = gaussian(n, 5, 1e-3);
  std::vector<float> v0 = gaussian(n, 6, 1e-4);
  for (auto& x : v0) x = x * x;
  const int saved = omp_get_max_threads();
  std::vector<float> ref;
  for (int t : {1, 2, 7}) {
    omp_set_num_threads(t);
    std::vector<float> w = w0, m = m0, v = v0;
    adamw_step(w.data(), m.data(), v.data(), g.data(), int64_t(n), adamw_scalars(p, 17));
    if (ref.empty()) ref = w;
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(bits(w[i]), bits(ref[i])) << t << " " << i;
  }
  omp_set_num_threads(saved);
}

// The op (golden/ops/adamw.cpp): a 4-step run from update t0 + 1 equals four 1-step runs chained through
// its state outputs.
TEST(AdamW, OpTrajectoryReplaysStepByStep) {
  using namespace v4::golden;
  const OpSpec* op = op_find("adamw");
  ASSERT_NE(op, nullptr);
  ShapeParams p = op->defaults;
  p["steps"] = 4, p["t0"] = 9, p["n"] = 300;
  const std::vector<NamedTensor> gen = op->make_inputs(6, p);
  const std::vector<NamedTensor> all = op->run(OpInputs("seed", nullptr, gen), Recipe::canonical);
  auto find = [](const std::vector<NamedTensor>& v, const std::string& n) -> const Tensor& {
    for (const NamedTensor& t : v)
      if (t.name == n) return t.t;
    throw std::runtime_error("no " + n);
  };
  Tensor w = find(gen, "w"), m = find(gen, "m"), v = find(gen, "v");
  for (int i = 0; i < 4; ++i) {
    std::vector<NamedTensor> one;
    for (const NamedTensor& t : gen) {
      if (t.name == "w" || t.name == "m" || t.name == "v") continue;
      if (t.name == "g" || t.name == "decay" || t.name == "bc2_sqrt" || t.name == "neg_step") {
        std::vector<int64_t> sh = t.t.shape;
        sh[0] = 1;
        Tensor s = Tensor::make(t.t.fmt, sh);
        std::memcpy(s.data.data(), t.t.data.data() + size_t(i) * s.data.size(), s.data.size());
        one.push_back({t.name, std::move(s)});
      } else {
        one.push_back(t);
      }
    }
    one.push_back({"w", w});
    one.push_back({"m", m});
    one.push_back({"v", v});
    const std::vector<NamedTensor> res = op->run(OpInputs("step", nullptr, one), Recipe::canonical);
    const std::string pre = "step_" + std::to_string(i) + "/";
    for (const char* k : {"w", "m", "v"})
      EXPECT_EQ(find(res, std::string("step_0/") + k).data, find(all, pre + k).data) << pre << k;
    w = find(res, "step_0/w"), m = find(res, "step_0/m"), v = find(res, "step_0/v");
  }
}
