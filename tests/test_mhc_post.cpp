// mhc_post against independent derivations: double precision within the bf16 rounding bound of a
// 5-term fp32 dot product; the contraction index (a 3-cycle comb whose transpose gives a different
// answer); and identity-like parameters of mhc_pre + mhc_post that reduce a block to a plain residual
// R'_k = R_k + f (derived below), exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "reference/mhc_post.h"
#include "reference/mhc_pre.h"
#include "tests/support/moe_support.h"

using namespace v4;
using namespace v4::testsupport;

namespace {

std::vector<uint16_t> run_post(const std::vector<uint16_t>& f, const std::vector<uint16_t>& R,
                               const std::vector<float>& post, const std::vector<float>& comb, const MhcShape& s,
                               Recipe r = Recipe::canonical) {
  std::vector<uint16_t> out(R.size());
  mhc_post(f.data(), R.data(), post.data(), comb.data(), s, r, out.data());
  return out;
}

}  // namespace

TEST(MhcPost, MatchesDoublePrecisionWithinTheBf16Bound) {
  MhcShape s;
  s.T = 7;
  s.d = 130;
  const int n = s.n;
  const auto f = normal_bf16(size_t(s.T * s.d), 2.0f, 1), R = normal_bf16(size_t(s.T * n * s.d), 5.0f, 2);
  auto post = normal_f32(size_t(s.T * n), 1.0f, 3), comb = normal_f32(size_t(s.T * n * n), 0.5f, 4);
  for (Recipe r : {Recipe::canonical, Recipe::exact}) {
    const auto out = run_post(f, R, post, comb, s, r);
    const double g = r == Recipe::exact ? 0.0 : dot_gamma(n + 1);  // exact: only the final roundings
    for (int64_t t = 0; t < s.T; ++t)
      for (int k = 0; k < n; ++k)
        for (int64_t i = 0; i < s.d; ++i) {
          double e = double(post[t * n + k]) * bf(f[t * s.d + i]), mag = std::abs(e);
          for (int j = 0; j < n; ++j) {
            const double p = double(comb[(t * n + j) * n + k]) * bf(R[(t * n + j) * s.d + i]);
            e += p;
            mag += std::abs(p);
          }
          // exact recipe: rounded once to fp32 (u·|e|) then to bf16.
          const double err = r == Recipe::exact ? kU32 * std::abs(e) : g * mag;
          ASSERT_TRUE(bf16_within(out[(t * n + k) * s.d + i], e, err))
              << recipe_name(r) << " token " << t << " stream " << k << " i " << i;
        }
  }
}

// comb[j][k] = 1 iff j = pi(k) for the 3-cycle pi = (1 2 3)(0): contraction over the source index j gives
// R'_k = post_k f + R_{pi(k)}; contracting over k instead would give R_{pi^-1(k)}, a different stream.
// Integer values keep every sum exact, so the check is bitwise.
TEST(MhcPost, ContractsOverTheSourceStream) {
  MhcShape s;
  s.T = 3;
  s.d = 16;
  const int n = s.n;
  const int pi[4] = {0, 2, 3, 1};
  const auto f = int_bf16(size_t(s.T * s.d), -8, 8, 1), R = int_bf16(size_t(s.T * n * s.d), -50, 50, 2);
  std::vector<float> post(s.T * n), comb(s.T * n * n, 0.0f);
  for (int64_t t = 0; t < s.T; ++t)
    for (int k = 0; k < n; ++k) {
      post[t * n + k] = float(k + 1);
      comb[(t * n + pi[k]) * n + k] = 1.0f;
    }
  const auto out = run_post(f, R, post, comb, s);
  for (int64_t t = 0; t < s.T; ++t)
    for (int k = 0; k < n; ++k)
      for (int64_t i = 0; i < s.d; ++i)
        ASSERT_EQ(bf(out[(t * n + k) * s.d + i]), (k + 1) * bf(f[t * s.d + i]) + bf(R[(t * n + pi[k]) * s.d + i]))
            << "token " << t << " stream " << k << " i " << i;
}

// A whole block with identity-like hyper-connection parameters is a plain residual: R'_k = R_k + f.
// mhc_pre with scale = 0, base_post = 0 gives post = 2·sigmoid(0) = 1 exactly; base_comb = 0 on the
// diagonal and -1e4 elsewhere makes the row softmax exactly the identity (exp(-1e4) = +0), "+eps" then
// Sinkhorn leave comb[j][k] = delta_jk (1 - 4e-6) + (1 - delta_jk) · 1e-6 within 1e-7 (the symmetric
// structure keeps every column sum at 1 + 4e-6 before each column pass). With integer |R|, |f| <= 32
// and R_k + f != 0 the fp32 sum differs from the integer R_k + f by at most 32 · (4e-6 + 3e-6 + 4e-7)
// < 2.4e-4, less than half an ulp of bf16 at any integer >= 1 (2^-8 = 3.9e-3): R'_k = R_k + f exactly.
TEST(MhcPost, IdentityLikeParametersGiveAPlainResidual) {
  MhcShape s;
  s.T = 9;
  s.d = 64;
  const int n = s.n;
  const int64_t m = s.mix_width(), W = s.width();
  const auto fn = normal_f32(size_t(m * W), 0.1f, 1);
  std::vector<float> base(m, 0.0f), scale = {0.0f, 0.0f, 0.0f};
  for (int k = 0; k < n; ++k) base[k] = k == 0 ? 30.0f : -30.0f;
  for (int j = 0; j < n; ++j)
    for (int k = 0; k < n; ++k) base[2 * n + j * n + k] = j == k ? 0.0f : -1e4f;
  std::mt19937 g(4);
  std::vector<uint16_t> R(s.T * W), f(s.T * s.d);
  for (auto& v : R) v = bf16_encode(float(1 + g() % 32));
  for (auto& v : f) v = bf16_encode(float(1 + g() % 32));
  std::vector<uint16_t> x(s.T * s.d);
  std::vector<float> post(s.T * n), comb(s.T * n * n);
  mhc_pre(R.data(), fn.data(), base.data(), scale.data(), s, Recipe::canonical, x.data(), post.data(), comb.data());
  for (int64_t i = 0; i < s.T * s.d; ++i) ASSERT_EQ(x[i], R[(i / s.d) * W + i % s.d]) << "layer input = stream 0";
  const auto out = run_post(f, R, post, comb, s);
  for (int64_t t = 0; t < s.T; ++t)
    for (int k = 0; k < n; ++k)
      for (int64_t i = 0; i < s.d; ++i)
        ASSERT_EQ(bf(out[(t * n + k) * s.d + i]), bf(R[(t * n + k) * s.d + i]) + bf(f[t * s.d + i]))
            << "token " << t << " stream " << k << " i " << i;
}

TEST(MhcPost, InPlaceAndAnyThreadCountGiveTheSameBits) {
  MhcShape s;
  s.T = 33;
  s.d = 50;
  const int n = s.n;
  const auto f = normal_bf16(size_t(s.T * s.d), 1.0f, 5), R = normal_bf16(size_t(s.T * n * s.d), 1.0f, 6);
  const auto post = normal_f32(size_t(s.T * n), 1.0f, 7), comb = normal_f32(size_t(s.T * n * n), 0.3f, 8);
  std::vector<uint16_t> a, b;
  with_threads(1, [&] { a = run_post(f, R, post, comb, s); });
  with_threads(2, [&] { b = run_post(f, R, post, comb, s); });
  EXPECT_TRUE(same_bits(a, b, "threads"));
  std::vector<uint16_t> inplace = R;
  mhc_post(f.data(), inplace.data(), post.data(), comb.data(), s, Recipe::canonical, inplace.data());
  EXPECT_TRUE(same_bits(a, inplace, "in place"));
}
