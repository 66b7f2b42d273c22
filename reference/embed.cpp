// embed: see embed.h.
#include "reference/embed.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "reference/weights.h"

namespace v4 {

namespace {

void check(const int32_t* ids, int64_t T, int64_t V, int64_t d, int n) {
  if (V < 1 || d < 1 || n < 1 || T < 0) throw std::invalid_argument("embed: bad shape");
  for (int64_t t = 0; t < T; ++t)
    if (ids[t] < 0 || ids[t] >= V)
      throw std::invalid_argument("embed: token " + std::to_string(t) + " has id " + std::to_string(ids[t]) +
                                  " outside [0, " + std::to_string(V) + ")");
}

}  // namespace

void embed(const uint16_t* table, int64_t V, int64_t d, const int32_t* ids, int64_t T, int n, uint16_t* R) {
  check(ids, T, V, d, n);
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < T; ++t)
    for (int k = 0; k < n; ++k) std::copy(table + ids[t] * d, table + (ids[t] + 1) * d, R + (t * n + k) * d);
}

void embed_generated(uint64_t seed, int64_t V, int64_t d, const int32_t* ids, int64_t T, int n, uint16_t* R) {
  check(ids, T, V, d, n);
  const uint64_t key = rng_key(seed, weight_stream(-1, "embed.weight", -1));
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < T; ++t) {
    uint16_t* r0 = R + t * n * d;  // stream 0, then copies
    for (int64_t i = 0; i < d; ++i) r0[i] = weight_bf16(key, ids[t] * d + i, kEmbedExp);
    for (int k = 1; k < n; ++k) std::copy(r0, r0 + d, r0 + k * d);
  }
}

}  // namespace v4
