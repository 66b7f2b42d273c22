// Seeded inputs shared by the MoE ops: activations and weights from the model weight generator
// (reference/weights.h), so seeded cases have realistic magnitudes (docs/weights.md): activations
// normal · 2^e (sd 1.15 for e = 0, an RMSNorm output), weights at the fan-in rule.
#pragma once
#include <string>

#include "golden/ops.h"
#include "reference/weights.h"

namespace v4::golden {

// bf16 normal · 2^e under (seed, name).
inline Tensor seeded_normal_bf16(uint64_t seed, const std::string& name, std::vector<int64_t> shape, int e) {
  Tensor t = Tensor::make(Fmt::bf16, std::move(shape));
  weights_bf16({seed, -1, -1}, name.c_str(), t.numel(), e, t.as<uint16_t>());
  return t;
}
inline Tensor seeded_normal_f32(uint64_t seed, const std::string& name, std::vector<int64_t> shape, int e) {
  Tensor t = Tensor::make(Fmt::f32, std::move(shape));
  weights_f32({seed, -1, -1}, name.c_str(), t.numel(), e, t.as<float>());
  return t;
}
// Token ids uniform in [0, V).
inline Tensor seeded_token_ids(uint64_t seed, int64_t T, int64_t V) {
  Tensor t = Tensor::make(Fmt::i32, {T});
  const uint64_t key = rng_key(seed, rng_stream_id("token_ids"));
  for (int64_t i = 0; i < T; ++i) t.as<int32_t>()[i] = int32_t(rng_at(key, uint64_t(i)) % uint64_t(V));
  return t;
}
// k distinct ids in [0, E) per row, uniform (the hash-table generator).
inline Tensor seeded_distinct_ids(uint64_t seed, const std::string& name, int64_t rows, int64_t E, int k) {
  Tensor t = Tensor::make(Fmt::i32, {rows, int64_t(k)});
  const uint64_t key = rng_key(seed, rng_stream_id(name.c_str()));
  for (int64_t r = 0; r < rows; ++r) weight_tid2eid_row(key, r, E, k, t.as<int32_t>() + r * k);
  return t;
}

// The gate weight [E, d] bf16 at the fan-in rule (layer 3: a non-hash layer of V4-Flash).
inline Tensor seeded_gate_weight(uint64_t seed, int64_t E, int64_t d) {
  Tensor t = Tensor::make(Fmt::bf16, {E, d});
  weights_bf16({seed, 3, -1}, "ffn.gate.weight", E * d, weight_normal_exp(d), t.as<uint16_t>());
  return t;
}

}  // namespace v4::golden
