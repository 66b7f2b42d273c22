// output_proj: see output_proj.h. Shape legend: T tokens, Hc = H·c, g groups, Dg = Hc/g, R = o_lora_rank.
#include "reference/output_proj.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace v4 {

void output_proj(const uint16_t* o, int64_t T, int64_t Hc, int64_t g, const uint16_t* wo_a, int64_t R,
                 const Fp8Weight& wo_b, Recipe r, bool quant, uint16_t* y, uint16_t* u) {
  if (g <= 0 || Hc % g != 0 || wo_b.in != g * R)
    throw std::invalid_argument("output_proj: H·c=" + std::to_string(Hc) + " not divisible into g=" + std::to_string(g) +
                                " groups, or wo_b input " + std::to_string(wo_b.in) + " != g·R=" + std::to_string(g * R));
  const int64_t Dg = Hc / g;
  std::vector<uint16_t> a(static_cast<size_t>(T * Dg)), uj(static_cast<size_t>(T * R)),
      ub(static_cast<size_t>(T * g * R));  // [T, Dg] group j of o; [T, R] its projection; [T, g·R] all groups
  for (int64_t j = 0; j < g; ++j) {
    for (int64_t t = 0; t < T; ++t) std::copy(o + t * Hc + j * Dg, o + t * Hc + (j + 1) * Dg, a.begin() + t * Dg);
    linear_bf16(a.data(), T, wo_a + j * R * Dg, R, Dg, r, uj.data());
    for (int64_t t = 0; t < T; ++t) std::copy(uj.begin() + t * R, uj.begin() + (t + 1) * R, ub.begin() + t * g * R + j * R);
  }
  linear_fp8(ub.data(), T, wo_b, r, quant, y);
  if (u) std::copy(ub.begin(), ub.end(), u);
}

}  // namespace v4
