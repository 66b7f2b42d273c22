// hash_router: see hash_router.h.
#include "reference/hash_router.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace v4 {

std::string hash_router_check(const int32_t* token_ids, const int32_t* tid2eid, int64_t V, int64_t T, int64_t E, int k) {
  for (int64_t t = 0; t < T; ++t) {
    const int64_t id = token_ids[t];
    if (id < 0 || id >= V) return "token " + std::to_string(t) + ": id " + std::to_string(id) + " outside the table [0, " + std::to_string(V) + ")";
    const int32_t* row = tid2eid + id * k;
    for (int j = 0; j < k; ++j) {
      if (row[j] < 0 || row[j] >= E)
        return "tid2eid[" + std::to_string(id) + "][" + std::to_string(j) + "] = " + std::to_string(row[j]) +
               " is not an expert id in [0, " + std::to_string(E) + ")";
      for (int i = 0; i < j; ++i)
        if (row[i] == row[j])
          return "tid2eid[" + std::to_string(id) + "] names expert " + std::to_string(row[j]) + " twice";
    }
  }
  return "";
}

void hash_router(const uint16_t* x, const uint16_t* w, const int32_t* token_ids, const int32_t* tid2eid, int64_t V,
                 int64_t T, int64_t d, int64_t E, int k, float route_scale, Recipe r, float* weights, int32_t* idx,
                 float* scores_out) {
  if (k < 1 || k > E)
    throw std::invalid_argument("hash_router: top-k " + std::to_string(k) + " must be in 1.." + std::to_string(E));
  if (const std::string bad = hash_router_check(token_ids, tid2eid, V, T, E, k); !bad.empty())
    throw std::invalid_argument("hash_router: " + bad);
  std::vector<float> local(scores_out ? 0 : T * E);
  float* scores = scores_out ? scores_out : local.data();  // [T, E]
  moe_gate_scores(x, w, T, d, E, r, scores);
  for (int64_t t = 0; t < T; ++t) {
    const int32_t* row = tid2eid + int64_t(token_ids[t]) * k;
    for (int j = 0; j < k; ++j) idx[t * k + j] = row[j];
    moe_route_weights(scores + t * E, idx + t * k, k, route_scale, weights + t * k);
  }
}

}  // namespace v4
