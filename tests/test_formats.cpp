// Number formats (reference/formats.h) against the independent brute-force oracle of
// tests/support/format_oracle.h: every code decodes to its definition value; encoding is checked on
// every code value, every midpoint and its float neighbours, every special, and a large random sample
// of float32 bit patterns. The full 2^32 sweep is check/check_formats.cpp (not run by CI).
#include <gtest/gtest.h>

#include <random>

#include "reference/formats.h"
#include "tests/support/format_oracle.h"

using namespace v4;
namespace o = v4::oracle;

namespace {

bool same_value(double expect, float got) {
  if (std::isnan(expect)) return std::isnan(got);
  return double(got) == expect && std::signbit(double(got)) == std::signbit(expect);
}

// Inputs that stress a grid: each value, each midpoint, and the float neighbours of both, both signs.
std::vector<float> stress_inputs(const o::Grid& g) {
  std::vector<float> xs;
  auto push_around = [&](double v) {
    const float f = float(v);
    for (float y : {f, std::nextafter(f, 0.0f), std::nextafter(f, INFINITY)}) {
      xs.push_back(y);
      xs.push_back(-y);
    }
  };
  for (size_t i = 0; i < g.value.size(); ++i) {
    push_around(g.value[i]);
    if (i + 1 < g.value.size()) push_around(0.5 * (g.value[i] + g.value[i + 1]));
  }
  for (float s : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, 1e-45f, -1e-45f, 1.17549435e-38f, 3.4028235e38f,
                  -3.4028235e38f})
    xs.push_back(s);
  for (uint32_t u : {0x7F800001u, 0xFF800001u, 0x7FC00000u, 0xFFC00000u, 0x7FFFFFFFu, 0xFFFFFFFFu})
    xs.push_back(f32_from_bits(u));
  std::mt19937 rng(12345);
  for (int i = 0; i < (1 << 21); ++i) xs.push_back(f32_from_bits(rng()));
  return xs;
}

template <class Encode, class Expect>
void check_encoding(const char* what, const std::vector<float>& xs, Encode enc, Expect expect) {
  int64_t bad = 0;
  for (float x : xs) {
    const auto got = enc(x), want = expect(x);
    if (got != want && ++bad <= 5)
      ADD_FAILURE() << what << ": input 0x" << std::hex << f32_bits(x) << " (" << x << ") encoded 0x"
                    << uint32_t(got) << ", oracle says 0x" << uint32_t(want);
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << xs.size() << " inputs differ";
}

}  // namespace

TEST(Formats, DecodeEveryCode) {
  for (uint32_t c = 0; c < 256; ++c) {
    EXPECT_TRUE(same_value(o::definition_decode(o::kE4M3, c), fp8_e4m3_decode(uint8_t(c)))) << "e4m3 " << c;
    EXPECT_TRUE(same_value(o::definition_decode(o::kE5M2, c), fp8_e5m2_decode(uint8_t(c)))) << "e5m2 " << c;
    if (c < 16) {
      EXPECT_TRUE(same_value(o::definition_decode(o::kE2M1, c), fp4_e2m1_decode(uint8_t(c)))) << "e2m1 " << c;
    }
  }
  for (uint32_t c = 0; c < 65536; ++c)
    ASSERT_TRUE(same_value(o::definition_decode(o::kBF16, c), bf16_decode(uint16_t(c)))) << "bf16 " << c;
  for (uint32_t c = 0; c < 255; ++c) EXPECT_EQ(double(ue8m0_decode(uint8_t(c))), std::ldexp(1.0, int(c) - 127));
  EXPECT_TRUE(std::isnan(ue8m0_decode(0xFF)));
}

TEST(Formats, PublishedValues) {
  // numerics.md §1.1 / §2.1 table values.
  EXPECT_EQ(fp8_e4m3_decode(0x7E), 448.0f);
  EXPECT_EQ(fp8_e4m3_decode(0x08), 0x1p-6f);
  EXPECT_EQ(fp8_e4m3_decode(0x01), 0x1p-9f);
  EXPECT_EQ(fp8_e5m2_decode(0x7B), 57344.0f);
  EXPECT_EQ(fp8_e5m2_decode(0x01), 0x1p-16f);
  EXPECT_TRUE(std::isinf(fp8_e5m2_decode(0xFC)) && fp8_e5m2_decode(0xFC) < 0);
  const float e2m1[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  for (int c = 0; c < 8; ++c) {
    EXPECT_EQ(fp4_e2m1_decode(uint8_t(c)), e2m1[c]);
    EXPECT_EQ(fp4_e2m1_decode(uint8_t(c | 8)), -e2m1[c]);
  }
  EXPECT_TRUE(std::signbit(fp4_e2m1_decode(8)));
}

TEST(Formats, E4M3AgainstOracle) {
  const o::Grid g = o::make_grid(o::kE4M3);
  const auto xs = stress_inputs(g);
  check_encoding("e4m3 satfinite", xs, [](float x) { return fp8_e4m3_encode(x, Sat::satfinite); },
                 [&](float x) { return o::expect_e4m3(g, x, o::Mode::satfinite); });
  check_encoding("e4m3 nosat", xs, [](float x) { return fp8_e4m3_encode(x, Sat::nosat); },
                 [&](float x) { return o::expect_e4m3(g, x, o::Mode::nosat); });
}

TEST(Formats, E5M2AgainstOracle) {
  const o::Grid g = o::make_grid(o::kE5M2);
  const auto xs = stress_inputs(g);
  check_encoding("e5m2 satfinite", xs, [](float x) { return fp8_e5m2_encode(x, Sat::satfinite); },
                 [&](float x) { return o::expect_e5m2(g, x, o::Mode::satfinite); });
  check_encoding("e5m2 nosat", xs, [](float x) { return fp8_e5m2_encode(x, Sat::nosat); },
                 [&](float x) { return o::expect_e5m2(g, x, o::Mode::nosat); });
}

TEST(Formats, E2M1AgainstOracle) {
  const o::Grid g = o::make_grid(o::kE2M1);
  check_encoding("e2m1", stress_inputs(g), fp4_e2m1_encode, [&](float x) { return o::expect_e2m1(g, x); });
}

TEST(Formats, BF16AgainstOracle) {
  const o::Grid g = o::make_grid(o::kBF16);
  check_encoding("bf16", stress_inputs(g), bf16_encode, [&](float x) { return o::expect_bf16(g, x); });
}

TEST(Formats, UE8M0AgainstOracle) {
  std::vector<float> xs;
  for (int k = -149; k <= 127; ++k) {
    const float p = std::ldexp(1.0f, k);
    for (float y : {p, std::nextafter(p, 0.0f), std::nextafter(p, INFINITY), 1.5f * p}) xs.push_back(y);
  }
  check_encoding("ue8m0", stress_inputs(o::make_grid(o::kE2M1)), ue8m0_encode, o::expect_ue8m0);
  check_encoding("ue8m0 powers", xs, ue8m0_encode, o::expect_ue8m0);
}

// The rules of docs/formats.md, spelled out on named inputs (numerics.md §1.2, §1.3, §2.1, §3).
TEST(Formats, NamedRules) {
  // e4m3: 464 is the overflow midpoint and a tie to 448 (even); anything above overflows.
  EXPECT_EQ(fp8_e4m3_encode(464.0f, Sat::nosat), 0x7E);
  EXPECT_EQ(fp8_e4m3_encode(std::nextafter(464.0f, 1e9f), Sat::nosat), 0x7F);
  EXPECT_EQ(fp8_e4m3_encode(-1e6f, Sat::nosat), 0xFF);
  EXPECT_EQ(fp8_e4m3_encode(-1e6f, Sat::satfinite), 0xFE);
  EXPECT_EQ(fp8_e4m3_encode(INFINITY, Sat::satfinite), 0x7E);
  EXPECT_EQ(fp8_e4m3_encode(-NAN, Sat::satfinite), 0x7F);  // CUDA canonicalises NaN
  EXPECT_EQ(fp8_e4m3_encode(-NAN, Sat::nosat), 0xFF);      // PyTorch keeps the sign
  EXPECT_EQ(fp8_e4m3_encode(-0.0f, Sat::satfinite), 0x80);
  EXPECT_EQ(fp8_e4m3_encode(0x1p-10f, Sat::satfinite), 0x00);               // half the min subnormal: tie to 0
  EXPECT_EQ(fp8_e4m3_encode(std::nextafter(0x1p-10f, 1.0f), Sat::satfinite), 0x01);
  // e5m2: 61440 is a tie whose even neighbour is the infinity code.
  EXPECT_EQ(fp8_e5m2_encode(61440.0f, Sat::nosat), 0x7C);
  EXPECT_EQ(fp8_e5m2_encode(std::nextafter(61440.0f, 0.0f), Sat::nosat), 0x7B);
  EXPECT_EQ(fp8_e5m2_encode(61440.0f, Sat::satfinite), 0x7B);
  EXPECT_EQ(fp8_e5m2_encode(-NAN, Sat::nosat), 0xFF);
  // e2m1: ties to the even code, saturation, -0, NaN -> +6.
  const std::pair<float, uint8_t> ties[] = {{0.25f, 0}, {0.75f, 2}, {1.25f, 2}, {1.75f, 4}, {2.5f, 4}, {3.5f, 6}, {5.0f, 6}};
  for (auto [x, c] : ties) {
    EXPECT_EQ(fp4_e2m1_encode(x), c) << x;
    EXPECT_EQ(fp4_e2m1_encode(-x), c | 8) << -x;
  }
  EXPECT_EQ(fp4_e2m1_encode(7.0f), 0x7);
  EXPECT_EQ(fp4_e2m1_encode(-INFINITY), 0xF);
  EXPECT_EQ(fp4_e2m1_encode(-0.0f), 0x8);
  EXPECT_EQ(fp4_e2m1_encode(-0.1f), 0x8);
  EXPECT_EQ(fp4_e2m1_encode(-NAN), 0x7);
  EXPECT_EQ(fp4_e2m1_pack(0x3, 0xC), 0xC3);
  EXPECT_EQ(fp4_e2m1_unpack(0xC3, 0), 0x3);
  EXPECT_EQ(fp4_e2m1_unpack(0xC3, 1), 0xC);
  // bf16: NaN -> 0x7FFF, overflow -> inf, RNE at the half-way point.
  EXPECT_EQ(bf16_encode(-NAN), 0x7FFF);
  EXPECT_EQ(bf16_encode(3.4028235e38f), 0x7F80);
  EXPECT_EQ(bf16_encode(f32_from_bits(0x3F808000u)), 0x3F80);  // tie, even stays
  EXPECT_EQ(bf16_encode(f32_from_bits(0x3F818000u)), 0x3F82);  // tie, odd rounds up
  EXPECT_EQ(bf16_encode(f32_from_bits(0x00000001u)), 0x0000);
  EXPECT_EQ(bf16_encode(f32_from_bits(0x00008000u)), 0x0000);  // tie to even (0)
  EXPECT_EQ(bf16_encode(f32_from_bits(0x00018000u)), 0x0002);
  // ue8m0: ceiling; clamp; specials.
  EXPECT_EQ(ue8m0_encode(1.0f), 127);
  EXPECT_EQ(ue8m0_encode(std::nextafter(1.0f, 2.0f)), 128);
  EXPECT_EQ(ue8m0_encode(0.0f), 0);
  EXPECT_EQ(ue8m0_encode(0x1p-127f), 0);
  EXPECT_EQ(ue8m0_encode(std::nextafter(0x1p-127f, 1.0f)), 1);
  EXPECT_EQ(ue8m0_encode(-3.0f), 129);  // magnitude, as CUDA's RP conversion
  EXPECT_EQ(ue8m0_encode(3.4028235e38f), 0xFE);
  EXPECT_EQ(ue8m0_encode(INFINITY), 0xFE);
  EXPECT_EQ(ue8m0_encode(NAN), 0xFF);
}

// The kernels' fast_round_scale formula (v4-model.md §2.2) equals ue8m0_encode on every normal v.
TEST(Formats, FastRoundScaleFormulaMatchesOnNormals) {
  std::mt19937 rng(7);
  for (int i = 0; i < 1 << 20; ++i) {
    uint32_t u = rng() & 0x7FFFFFFFu;
    const uint32_t e = u >> 23;
    if (e == 0 || e == 255) continue;
    const uint32_t formula = e + ((u & 0x7FFFFF) != 0 ? 1 : 0);
    if (formula > 254) continue;  // 2^128: not a ue8m0 value; amax floors keep v far below
    ASSERT_EQ(ue8m0_encode(f32_from_bits(u)), formula) << std::hex << u;
  }
}

// Packed e2m1x2 rows, pinned against bytes written out by hand: elements (1, 2, 3, 4, 5) pack into
// 0x21 0x43 0x05 (element 2k in the low nibble, the odd row's last high nibble zero); get reads them
// back, set changes one nibble and leaves its neighbour alone; ue8m0_exponent is the code minus 127.
TEST(Formats, Fp4E2m1PackedRowAddressing) {
  const uint8_t row[3] = {0x21, 0x43, 0x05};
  for (int k = 0; k < 5; ++k) EXPECT_EQ(fp4_e2m1_get(row, k), k + 1) << k;
  EXPECT_EQ(fp4_e2m1_row_bytes(5), 3);
  EXPECT_EQ(fp4_e2m1_row_bytes(6), 3);
  EXPECT_EQ(fp4_e2m1_row_bytes(0), 0);
  uint8_t out[3] = {0, 0, 0};
  for (int k = 0; k < 5; ++k) fp4_e2m1_set(out, k, uint8_t(k + 1));
  EXPECT_EQ(out[0], 0x21);
  EXPECT_EQ(out[1], 0x43);
  EXPECT_EQ(out[2], 0x05);
  fp4_e2m1_set(out, 2, 0xF);
  fp4_e2m1_set(out, 1, 0x8);
  EXPECT_EQ(out[0], 0x81);
  EXPECT_EQ(out[1], 0x4F);
  EXPECT_EQ(ue8m0_exponent(0), -127);
  EXPECT_EQ(ue8m0_exponent(127), 0);
  EXPECT_EQ(ue8m0_exponent(254), 127);
}
