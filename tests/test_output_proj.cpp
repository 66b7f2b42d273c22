// output_proj (v4-model.md §6.6): the grouped wo_a product against a double-precision evaluation of the
// spec's grouping (group j = heads j·H/g .. in head order, wo_a viewed [g, R, D_g]) within the bf16/fp32
// bound; wo_b with quant off against double, with quant on against the tested FP8 linear; batch
// invariance and thread-count determinism.
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <vector>

#include "reference/formats.h"
#include "reference/output_proj.h"
#include "tests/support/attention_fixtures.h"

using namespace v4;
namespace fx = v4::fixtures;

namespace {
struct ProjCase {
  int64_t T = 7, H = 4, c = 64, g = 2, R = 128, d = 256;
  std::vector<uint16_t> o, wo_a;
  fx::Fp8W wo_b;
  ProjCase() {
    o = fx::bf16_normal(T * H * c, 1);
    wo_a = fx::bf16_normal(g * R * (H * c / g), 2, 0.06f);
    wo_b = fx::fp8_normal(d, g * R, 3, 0.06f);
  }
};
}  // namespace

TEST(OutputProj, GroupedProjectionMatchesDoubleWithinBound) {
  const ProjCase s;
  const int64_t Dg = s.H * s.c / s.g, heads_per_group = s.H / s.g;
  std::vector<uint16_t> y(s.T * s.d), u(s.T * s.g * s.R);
  output_proj(s.o.data(), s.T, s.H * s.c, s.g, s.wo_a.data(), s.R, s.wo_b.view(), Recipe::canonical, false, y.data(),
              u.data());
  for (int64_t t = 0; t < s.T; ++t)
    for (int64_t j = 0; j < s.g; ++j)
      for (int64_t r = 0; r < s.R; ++r) {
        double ref = 0, abs = 0;
        for (int64_t hh = 0; hh < heads_per_group; ++hh)  // heads of group j, in head order
          for (int64_t e = 0; e < s.c; ++e) {
            const int64_t h = j * heads_per_group + hh;
            const double ov = bf16_decode(s.o[(t * s.H + h) * s.c + e]);
            const double wv = bf16_decode(s.wo_a[(j * s.R + r) * Dg + hh * s.c + e]);  // wo_a[j, r, e']
            ref += ov * wv;
            abs += std::fabs(ov * wv);
          }
        const double E = Dg * 0x1p-24 * abs * 1.01;  // the fp32 fma chain over D_g terms
        const float got = bf16_decode(u[t * s.g * s.R + j * s.R + r]);
        ASSERT_TRUE(got >= bf16_round(float(ref - E)) && got <= bf16_round(float(ref + E)))
            << "t " << t << " group " << j << " r " << r << " got " << got << " ref " << ref;
      }
  // wo_b, quant off: y = bf16(u · deq(wo_b)ᵀ).
  for (int64_t t = 0; t < s.T; ++t)
    for (int64_t i = 0; i < s.d; ++i) {
      double ref = 0, abs = 0;
      for (int64_t k = 0; k < s.g * s.R; ++k) {
        const double p = double(bf16_decode(u[t * s.g * s.R + k])) * double(bf16_round(s.wo_b.value(i, k)));
        ref += p;
        abs += std::fabs(p);
      }
      const double E = double(s.g * s.R) * 0x1p-24 * abs * 1.01;
      const float got = bf16_decode(y[t * s.d + i]);
      ASSERT_TRUE(got >= bf16_round(float(ref - E)) && got <= bf16_round(float(ref + E))) << "t " << t << " i " << i;
    }
  // quant on: wo_b is the FP8 linear of the same u.
  std::vector<uint16_t> y8(s.T * s.d), want(s.T * s.d);
  output_proj(s.o.data(), s.T, s.H * s.c, s.g, s.wo_a.data(), s.R, s.wo_b.view(), Recipe::canonical, true, y8.data());
  linear_fp8(u.data(), s.T, s.wo_b.view(), Recipe::canonical, true, want.data());
  EXPECT_EQ(y8, want);
}

TEST(OutputProj, BatchInvariantAndDeterministicAcrossThreads) {
  const ProjCase s;
  std::vector<uint16_t> y1(s.T * s.d), y3(s.T * s.d), one(s.d);
  omp_set_num_threads(1);
  output_proj(s.o.data(), s.T, s.H * s.c, s.g, s.wo_a.data(), s.R, s.wo_b.view(), Recipe::canonical, true, y1.data());
  omp_set_num_threads(3);
  output_proj(s.o.data(), s.T, s.H * s.c, s.g, s.wo_a.data(), s.R, s.wo_b.view(), Recipe::canonical, true, y3.data());
  EXPECT_EQ(y1, y3);
  output_proj(s.o.data() + 3 * s.H * s.c, 1, s.H * s.c, s.g, s.wo_a.data(), s.R, s.wo_b.view(), Recipe::canonical, true,
              one.data());
  EXPECT_TRUE(std::equal(one.begin(), one.end(), y1.begin() + 3 * s.d));
  omp_set_num_threads(omp_get_num_procs());
}
