// moe_combine: see moe_combine.h.
#include "reference/moe_combine.h"

#include <stdexcept>
#include <string>

#include "reference/formats.h"

namespace v4 {

namespace {
constexpr int kMaxTopK = 64;  // bound of the per-token slot order below
}

void moe_combine(const uint16_t* y_routed, const int32_t* idx, const uint16_t* shared, int64_t T, int k, int64_t d,
                 uint16_t* out) {
  if (k < 0 || k > kMaxTopK || T < 0 || d < 0)
    throw std::invalid_argument("moe_combine: bad shape T=" + std::to_string(T) + " k=" + std::to_string(k));
  for (int64_t t = 0; t < T; ++t)
    for (int j = 0; j < k; ++j)
      for (int i = 0; i < j; ++i)
        if (idx[t * k + i] == idx[t * k + j])
          throw std::invalid_argument("moe_combine: token " + std::to_string(t) + " lists expert " +
                                      std::to_string(idx[t * k + j]) + " twice");
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < T; ++t) {
    int order[kMaxTopK];  // slots of token t by ascending expert id (ids are distinct)
    for (int j = 0; j < k; ++j) {
      int at = j;
      while (at > 0 && idx[t * k + order[at - 1]] > idx[t * k + j]) {
        order[at] = order[at - 1];
        --at;
      }
      order[at] = j;
    }
    for (int64_t i = 0; i < d; ++i) {
      float y = 0.0f;
      for (int j = 0; j < k; ++j) y = y + bf16_decode(y_routed[(t * k + order[j]) * d + i]);
      if (shared) y = y + bf16_decode(shared[t * d + i]);
      out[t * d + i] = bf16_encode(y);
    }
  }
}

}  // namespace v4
