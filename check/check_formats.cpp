// Exhaustive check of every float32 -> format encoding in reference/formats.h against the brute-force
// oracle (tests/support/format_oracle.h): all 2^32 input bit patterns, each format and cast mode.
// Not run by CI (tests/test_formats.cpp runs a sample). Usage: check_formats [format ...]
// formats: e4m3_satfinite e4m3_nosat e5m2_satfinite e5m2_nosat e2m1 bf16 ue8m0 (default: all).
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "reference/formats.h"
#include "tests/support/format_oracle.h"

using namespace v4;
namespace o = v4::oracle;

namespace {

struct Case {
  std::string name;
  std::function<uint32_t(float)> got, want;
};

// Sweeps all 2^32 patterns in 256 slices; slice counts are summed in slice order (deterministic).
uint64_t sweep(const Case& c) {
  constexpr int kSlices = 256;
  std::vector<uint64_t> bad(kSlices, 0);
  std::vector<uint32_t> first_bad(kSlices, 0);
  int done = 0;
  const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel for schedule(dynamic, 1)
  for (int s = 0; s < kSlices; ++s) {
    const uint64_t lo = uint64_t(s) << 24, hi = lo + (uint64_t(1) << 24);
    for (uint64_t u = lo; u < hi; ++u) {
      const float x = f32_from_bits(uint32_t(u));
      if (c.got(x) != c.want(x) && bad[s]++ == 0) first_bad[s] = uint32_t(u);
    }
#pragma omp critical
    {
      if (++done % 16 == 0) {
        const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "  %s: %3d/256 slices, %.0f s\n", c.name.c_str(), done, sec);
      }
    }
  }
  uint64_t total = 0;
  for (int s = 0; s < kSlices; ++s) {
    if (bad[s] && total == 0) std::printf("  first mismatch of %s at input 0x%08x\n", c.name.c_str(), first_bad[s]);
    total += bad[s];
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  const o::Grid e4 = o::make_grid(o::kE4M3), e5 = o::make_grid(o::kE5M2), e2 = o::make_grid(o::kE2M1),
                bf = o::make_grid(o::kBF16);
  const std::vector<Case> cases = {
      {"e4m3_satfinite", [](float x) { return uint32_t(fp8_e4m3_encode(x, Sat::satfinite)); },
       [&](float x) { return uint32_t(o::expect_e4m3(e4, x, o::Mode::satfinite)); }},
      {"e4m3_nosat", [](float x) { return uint32_t(fp8_e4m3_encode(x, Sat::nosat)); },
       [&](float x) { return uint32_t(o::expect_e4m3(e4, x, o::Mode::nosat)); }},
      {"e5m2_satfinite", [](float x) { return uint32_t(fp8_e5m2_encode(x, Sat::satfinite)); },
       [&](float x) { return uint32_t(o::expect_e5m2(e5, x, o::Mode::satfinite)); }},
      {"e5m2_nosat", [](float x) { return uint32_t(fp8_e5m2_encode(x, Sat::nosat)); },
       [&](float x) { return uint32_t(o::expect_e5m2(e5, x, o::Mode::nosat)); }},
      {"e2m1", [](float x) { return uint32_t(fp4_e2m1_encode(x)); },
       [&](float x) { return uint32_t(o::expect_e2m1(e2, x)); }},
      {"bf16", [](float x) { return uint32_t(bf16_encode(x)); }, [&](float x) { return uint32_t(o::expect_bf16(bf, x)); }},
      {"ue8m0", [](float x) { return uint32_t(ue8m0_encode(x)); }, [](float x) { return uint32_t(o::expect_ue8m0(x)); }},
  };
  std::vector<std::string> want(argv + 1, argv + argc);
  int failed = 0;
  std::printf("| format | inputs | mismatches vs oracle | seconds |\n|---|---|---|---|\n");
  for (const Case& c : cases) {
    if (!want.empty() && std::find(want.begin(), want.end(), c.name) == want.end()) continue;
    const auto t0 = std::chrono::steady_clock::now();
    const uint64_t bad = sweep(c);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("| %s | 4294967296 | %llu | %.0f |\n", c.name.c_str(), (unsigned long long)bad, sec);
    std::fflush(stdout);
    failed += bad != 0;
  }
  return failed ? 1 : 0;
}
