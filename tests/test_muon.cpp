// Muon (reference/muon.h) against expectations derived independently here:
//   - a hand-derived two-step example of the sum-form momentum and the Nesterov input, with every fp32
//     rounding worked out in exact rational arithmetic (and chosen so that a fused or an unfused
//     evaluation of either line would give different bits);
//   - the weight update from its definition W(1 − ηλ) − η·γ·sqrt(max(n, m))·O' with binary64 scalars;
//   - the update RMS γ from the singular-value band of Newton-Schulz (docs/newton_schulz.md);
//   - structure: zero gradient gives zero update, experts and fused sub-matrices are separate, thread
//     count changes no bit.
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
#include "reference/formats.h"
#include "reference/muon.h"

using namespace v4;

namespace {

// The Newton-Schulz bf16 band (tests/test_newton_schulz.cpp, docs/newton_schulz.md): every singular
// value of the hybrid result lies within 1.002 + 0.0186 and 1 - 0.0186 of 1 for inputs whose σ0/‖G‖_F
// are >= 3e-5. The update RMS is γ·sqrt(mean σ²), so it lies in γ·[1 - band, 1.002 + band].
constexpr double kNsBand = 0x1p-9 + 0x1p-8 + 0x1p-10 + 0x1p-8 + 0x1p-7;

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

std::vector<float> gaussian(size_t n, uint64_t seed, double scale = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd;
  std::vector<float> v(n);
  for (auto& x : v) x = float(nd(rng) * scale);
  return v;
}

const std::vector<NsCoeffs> kHybrid = ns_schedule(NsSchedule::v4_hybrid);

struct StepOut {
  std::vector<float> w, m, x;
  std::vector<uint16_t> o;
};
StepOut step(std::vector<float> w, std::vector<float> m, const std::vector<float>& g, int64_t n, int64_t c,
             const MuonParams& p, Recipe r = Recipe::canonical) {
  StepOut s{std::move(w), std::move(m), std::vector<float>(g.size()), std::vector<uint16_t>(g.size())};
  muon_step(s.w.data(), s.m.data(), g.data(), n, c, muon_scalars(p, n, c), kHybrid.data(), int64_t(kHybrid.size()),
            kNsEps, r, s.x.data(), s.o.data());
  return s;
}

}  // namespace

TEST(Muon, TwoStepMomentumAndNesterovByHand) {
  // μ = fp32(0.95) = 15938355·2^-24 (0x3F733333). One element (a 1 x 1 matrix), M0 = 0.
  // Step 1, G1 = 13/4: M1 = fp32(fp32(μ·0) + 13/4) = 13/4 exactly.
  //   X1 = fma(μ, M1, G1) = 13/4·(1 + μ) = 425302423·2^-26 = 6.33749996..; the fp32 grid on [4, 8) has
  //   step 2^-21 and 425302423/32 = 13290700.72, so X1 = 13290701·2^-21 = 0x40CACCCD. (Rounding μ·M1
  //   first, to 12949913·2^-22, then adding 13/4 would give 0x40CACCCC.)
  // Step 2, G2 = -8: M2 = fp32(fp32(μ·M1) + G2) = fp32(12949913·2^-22 − 8) = −10302260·2^-21 = 0xC09D3334
  //   (the fused form fp32(μ·M1 + G2) would give 0xC09D3333).
  //   X2 = fma(μ, M2, −8) = −111419013473239·2^-43 = −12.66687530..; step 2^-20 on [8, 16):
  //   −13282181.44.. rounds to −13282181·2^-20 = 0xC14AAB85 (unfused: 0xC14AAB86).
  MuonParams p;
  ASSERT_EQ(bits(muon_scalars(p, 1, 1).momentum), 0x3F733333u);
  StepOut s1 = step({1.0f}, {0.0f}, {3.25f}, 1, 1, p);
  EXPECT_EQ(s1.m[0], 3.25f);
  EXPECT_EQ(bits(s1.x[0]), 0x40CACCCDu);
  StepOut s2 = step(s1.w, s1.m, {-8.0f}, 1, 1, p);
  EXPECT_EQ(bits(s2.m[0]), 0xC09D3334u);
  EXPECT_EQ(bits(s2.x[0]), 0xC14AAB85u);
  // A 1 x 1 Newton-Schulz result is the sign of X (|x| / bf16(|x| + 1e-7) rounds to 1 in bf16, and
  // every schedule step maps 1 to 1 within bf16 rounding): the update points against X.
  EXPECT_LT(bf16_decode(s2.o[0]), 0.0f);
}

TEST(Muon, WeightUpdateFromDefinition) {
  const int64_t n = 48, c = 80;
  MuonParams p;
  const std::vector<float> w0 = gaussian(size_t(n * c), 1, 0.02), m0 = gaussian(size_t(n * c), 2, 1e-3),
                           g = gaussian(size_t(n * c), 3, 1e-3);
  const StepOut s = step(w0, m0, g, n, c, p);
  // decay = fp32(1 − η·λ) and alpha = fp32(−η·(γ·sqrt(max(n, m)))) in binary64, as Python computes
  // Moonlight's `1 - lr * wd` and `lr * (0.2 * math.sqrt(max(A, B)))` (with 0.18 for V4's γ).
  const float decay = float(1.0 - 2.7e-4 * 0.1);
  const float alpha = float(-(2.7e-4 * (0.18 * std::sqrt(80.0))));
  const MuonScalars ms = muon_scalars(p, n, c);
  EXPECT_EQ(ms.decay, decay);
  EXPECT_EQ(ms.alpha, alpha);
  for (size_t i = 0; i < w0.size(); ++i) {
    const float want = std::fma(alpha, bf16_decode(s.o[i]), w0[i] * decay);
    ASSERT_EQ(bits(s.w[i]), bits(want)) << i;
  }
}

TEST(Muon, UpdateRmsIsGamma) {
  // O = γ·sqrt(max(n, m))·O' has RMS γ·sqrt(Σσ²/min(n, m)) for O' with min(n, m) singular values σ.
  for (auto [n, c] : {std::pair<int64_t, int64_t>{64, 160}, {160, 64}, {96, 96}}) {
    MuonParams p;
    const std::vector<float> g = gaussian(size_t(n * c), uint64_t(n + c), 1e-3);
    const StepOut s = step(std::vector<float>(g.size(), 0.0f), std::vector<float>(g.size(), 0.0f), g, n, c, p);
    double ss = 0;
    for (uint16_t o : s.o) ss += double(bf16_decode(o)) * double(bf16_decode(o));
    const double rms = p.update_rms * std::sqrt(double(std::max(n, c))) * std::sqrt(ss / double(n * c));
    std::printf("  %lldx%lld: update RMS %.5f (γ = 0.18)\n", (long long)n, (long long)c, rms);
    EXPECT_GE(rms, 0.18 * (1.0 - kNsBand));
    EXPECT_LE(rms, 0.18 * (1.002 + kNsBand));
  }
}

TEST(Muon, ZeroGradientGivesZeroUpdate) {
  const int64_t n = 12, c = 20;
  MuonParams p;
  const std::vector<float> w0 = gaussian(size_t(n * c), 4);
  const StepOut s = step(w0, std::vector<float>(w0.size(), 0.0f), std::vector<float>(w0.size(), 0.0f), n, c, p);
  const float decay = float(1.0 - p.lr * p.weight_decay);
  for (size_t i = 0; i < w0.size(); ++i) {
    ASSERT_EQ(s.o[i] & 0x7FFF, 0) << i;             // ±0, no NaN
    ASSERT_EQ(s.m[i], 0.0f);
    ASSERT_EQ(bits(s.w[i]), bits(w0[i] * decay));  // only the decay (fma(alpha, ±0, x) = x)
  }
}

TEST(Muon, ExpertsAndFusedSubMatricesAreSeparate) {
  // [E, rows, cols] with rows = 24 + 40 (a fused [w1; w3]-style projection): each (expert, part) is its
  // own muon_step with its own sqrt(max(n, m)) and Newton-Schulz.
  const int64_t E = 3, r1 = 24, r2 = 40, rows = r1 + r2, cols = 56, per = rows * cols;
  MuonParams p;
  const std::vector<float> w0 = gaussian(size_t(E * per), 5, 0.02), m0 = gaussian(size_t(E * per), 6, 1e-3),
                           g = gaussian(size_t(E * per), 7, 1e-3);
  std::vector<float> w = w0, m = m0, x(w0.size());
  std::vector<uint16_t> o(w0.size());
  const int64_t split[2] = {r1, r2};
  const float alpha[2] = {muon_scalars(p, r1, cols).alpha, muon_scalars(p, r2, cols).alpha};
  const MuonScalars ms = muon_scalars(p, rows, cols);
  muon_step_stack(w.data(), m.data(), g.data(), E, rows, cols, split, 2, ms.momentum, ms.decay, alpha, kHybrid.data(),
                  int64_t(kHybrid.size()), kNsEps, Recipe::canonical, x.data(), o.data());
  for (int64_t e = 0; e < E; ++e)
    for (auto [r0, nr] : {std::pair<int64_t, int64_t>{0, r1}, {r1, r2}}) {
      const size_t at = size_t(e * per + r0 * cols), len = size_t(nr * cols);
      auto sub = [&](const std::vector<float>& v) { return std::vector<float>(v.begin() + at, v.begin() + at + len); };
      const StepOut s = step(sub(w0), sub(m0), sub(g), nr, cols, p);
      for (size_t i = 0; i < len; ++i) {
        ASSERT_EQ(bits(w[at + i]), bits(s.w[i])) << e << " " << r0 << " " << i;
        ASSERT_EQ(bits(m[at + i]), bits(s.m[i]));
        ASSERT_EQ(o[at + i], s.o[i]);
      }
    }
  // Treating the fused matrix as one would change the result (the test can tell).
  std::vector<float> w_one = w0, m_one = m0;
  const int64_t whole[1] = {rows};
  muon_step_stack(w_one.data(), m_one.data(), g.data(), E, rows, cols, whole, 1, ms.momentum, ms.decay, &ms.alpha,
                  kHybrid.data(), int64_t(kHybrid.size()), kNsEps, Recipe::canonical);
  int64_t diff = 0;
  for (size_t i = 0; i < w.size(); ++i) diff += bits(w[i]) != bits(w_one[i]);
  EXPECT_GT(diff, 0);
}

TEST(Muon, ThreadCountDoesNotChangeBits) {
  const int64_t E = 2, rows = 50, cols = 30;
  const size_t nel = size_t(E * rows * cols);
  MuonParams p;
  const std::vector<float> w0 = gaussian(nel, 8, 0.02), m0 = gaussian(nel, 9, 1e-3), g = gaussian(nel, 10, 1e-3);
  const int64_t split[1] = {rows};
  const int saved = omp_get_max_threads();
  std::vector<float> ref_w;
  for (int t : {1, 2, 7}) {
    omp_set_num_threads(t);
    std::vector<float> w = w0, m = m0;
    const MuonScalars ms = muon_scalars(p, rows, cols);
    muon_step_stack(w.data(), m.data(), g.data(), E, rows, cols, split, 1, ms.momentum, ms.decay, &ms.alpha,
                    kHybrid.data(), int64_t(kHybrid.size()), kNsEps, Recipe::canonical);
    if (ref_w.empty()) ref_w = w;
    for (size_t i = 0; i < nel; ++i) ASSERT_EQ(bits(w[i]), bits(ref_w[i])) << "threads " << t << " at " << i;
  }
  omp_set_num_threads(saved);
}

// The op (golden/ops/muon.cpp): a 3-step run equals three 1-step runs chained through its state outputs,
// so a user can replay a trajectory from any step.
TEST(Muon, OpTrajectoryReplaysStepByStep) {
  using namespace v4::golden;
  const OpSpec* op = op_find("muon");
  ASSERT_NE(op, nullptr);
  ShapeParams p = op->defaults;
  p["steps"] = 3, p["E"] = 2, p["rows"] = 32, p["cols"] = 48, p["parts"] = 2;
  const std::vector<NamedTensor> gen = op->make_inputs(5, p);
  const std::vector<NamedTensor> all = op->run(OpInputs("seed", nullptr, gen), Recipe::canonical);
  auto find = [](const std::vector<NamedTensor>& v, const std::string& n) -> const Tensor& {
    for (const NamedTensor& t : v)
      if (t.name == n) return t.t;
    throw std::runtime_error("no " + n);
  };
  Tensor w = find(gen, "w"), m = find(gen, "m");
  for (int i = 0; i < 3; ++i) {
    std::vector<NamedTensor> one;
    for (const NamedTensor& t : gen) {
      if (t.name == "w" || t.name == "m") continue;
      if (t.name == "g" || t.name == "decay" || t.name == "alpha") {  // step i's slice, as a 1-step input
        std::vector<int64_t> sh = t.t.shape;
        sh[0] = 1;
        Tensor s = Tensor::make(t.t.fmt, sh);
        const size_t bytes = s.data.size();
        std::memcpy(s.data.data(), t.t.data.data() + size_t(i) * bytes, bytes);
        one.push_back({t.name, std::move(s)});
      } else {
        one.push_back(t);
      }
    }
    one.push_back({"w", w});
    one.push_back({"m", m});
    const std::vector<NamedTensor> res = op->run(OpInputs("step", nullptr, one), Recipe::canonical);
    const std::string pre = "step_" + std::to_string(i) + "/";
    for (const char* k : {"x", "o", "w", "m"})
      EXPECT_EQ(find(res, std::string("step_0/") + k).data, find(all, pre + k).data) << pre << k;
    w = find(res, "step_0/w"), m = find(res, "step_0/m");
  }
}
