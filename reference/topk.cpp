// topk: see topk.h.
#include "reference/topk.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference/hd.h"

namespace v4 {

void topk_desc(const float* score, int64_t n, int64_t k, int32_t* out) {
  if (k < 0 || k > n) throw std::invalid_argument("topk_desc: k=" + std::to_string(k) + " outside [0, " + std::to_string(n) + "]");
  std::vector<int32_t> ix(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ix[i] = int32_t(i);
  const auto before = [score](int32_t a, int32_t b) {
    const float x = score[a], y = score[b];
    const bool nx = f32_is_nan(x), ny = f32_is_nan(y);
    if (nx != ny) return nx;            // NaN first
    if (!nx && x != y) return x > y;    // larger score first (-0 == +0)
    return a < b;                       // ties: smaller index first
  };
  std::partial_sort(ix.begin(), ix.begin() + k, ix.end(), before);
  std::copy(ix.begin(), ix.begin() + k, out);
}

}  // namespace v4
