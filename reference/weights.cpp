// Whole-tensor weight generation on the host (reference/weights.h): OpenMP over rows; every element
// is its own pure function, so the bits do not depend on the thread count or on what else is generated.
#include "reference/weights.h"

#include <bit>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference/blocks.h"

namespace v4 {

namespace {

uint64_t key_of(const WeightId& id, const std::string& tensor) {
  return rng_key(id.seed, weight_stream(id.layer, tensor.c_str(), id.expert));
}

// scale[i] = weight_scale_code(sk, first + i, e) for i < count, one draw per 64 codes.
void fill_scales(uint64_t sk, int64_t first, int64_t count, int e, uint8_t* scale) {
  uint64_t r = 0;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t b = first + i;
    if (i == 0 || (b & 63) == 0) r = rng_at(sk, uint64_t(b) >> 6);
    scale[i] = uint8_t(127 + e - int((r >> (b & 63)) & 1));
  }
}

}  // namespace

void weights_fp4(const WeightId& id, const char* name, int64_t N, int64_t K, uint8_t* packed, uint8_t* scale) {
  if (N < 1 || K < kFp4Block || K % kFp4Block)
    throw std::invalid_argument(std::string("weights_fp4: ") + name + ": K=" + std::to_string(K) + " is not a positive multiple of 32");
  static_assert(std::endian::native == std::endian::little, "byte i of a draw is read as its i-th stored byte");
  const uint64_t wk = key_of(id, std::string(name) + ".weight"), sk = key_of(id, std::string(name) + ".scale");
  const int e = weight_fp4_exp(K);
  const int64_t draws = K / 8, nb = K / kFp4Block;  // per row: draws of 8 elements, scale blocks
#pragma omp parallel
  {
    std::vector<uint64_t> r(draws);  // one row's draws, = weight_fp4_byte's
    std::vector<uint8_t> code(K);    // one row's e2m1 codes
#pragma omp for schedule(static)
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t g = 0; g < draws; ++g) r[g] = rng_at(wk, uint64_t(n * draws + g));
      const uint8_t* field = reinterpret_cast<const uint8_t*>(r.data());  // element k: byte k of the row's draws
      for (int64_t k = 0; k < K; ++k) {  // weight_fp4_code, written so the compiler vectorizes it
        const uint8_t f = field[k], u = uint8_t(f & 0x7F);
        const uint8_t mag = uint8_t((u >= 13) + (u >= 38) + (u >= 60) + (u >= 79) + (u >= 101) + (u >= 118) + (u >= 126));
        code[k] = uint8_t(mag | ((f >> 4) & 0x8));
      }
      uint8_t* row = packed + n * (K / 2);
      for (int64_t p = 0; p < K / 2; ++p) row[p] = uint8_t(code[2 * p] | (code[2 * p + 1] << 4));
      fill_scales(sk, n * nb, nb, e, scale + n * nb);
    }
  }
}

void weights_fp8(const WeightId& id, const char* name, int64_t N, int64_t K, uint8_t* codes, uint8_t* scale) {
  if (N < 1 || K < kFp8Block || K % kFp8Block)
    throw std::invalid_argument(std::string("weights_fp8: ") + name + ": K=" + std::to_string(K) + " is not a positive multiple of 128");
  const uint64_t wk = key_of(id, std::string(name) + ".weight"), sk = key_of(id, std::string(name) + ".scale");
  const int e = weight_fp8_exp(K);
  const int64_t nbr = ceil_div(N, kFp8Block), nbc = K / kFp8Block;
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) codes[n * K + k] = weight_fp8_code(wk, n * K + k);
  fill_scales(sk, 0, nbr * nbc, e, scale);
}

void weights_bf16(const WeightId& id, const char* tensor, int64_t n, int e, uint16_t* out) {
  const uint64_t k = key_of(id, tensor);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = weight_bf16(k, i, e);
}

void weights_f32(const WeightId& id, const char* tensor, int64_t n, int e, float* out) {
  const uint64_t k = key_of(id, tensor);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = weight_f32(k, i, e);
}

void weights_norm_bf16(const WeightId& id, const char* tensor, int64_t n, uint16_t* out) {
  const uint64_t k = key_of(id, tensor);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = weight_norm_bf16(k, i);
}

void weights_tid2eid(const WeightId& id, int64_t V, int64_t E, int k, int32_t* out) {
  if (k < 1 || k > E) throw std::invalid_argument("weights_tid2eid: need 1 <= k <= E");
  const uint64_t key = key_of(id, "ffn.gate.tid2eid");
#pragma omp parallel for schedule(static)
  for (int64_t v = 0; v < V; ++v) weight_tid2eid_row(key, v, E, k, out + v * k);
}

void weights_mhc(const WeightId& id, const char* prefix, int n, int64_t d, bool head, float* fn, float* base,
                 float* scale) {
  const std::string p(prefix);
  const int64_t rows = head ? n : int64_t(2 + n) * n, W = int64_t(n) * d;
  weights_f32(id, (p + "_fn").c_str(), rows * W, weight_normal_exp(W), fn);
  weights_f32(id, (p + "_base").c_str(), rows, -1, base);
  if (!head)
    for (int j = 0; j < n; ++j) base[2 * n + j * n + j] += 2.0f;  // comb logits prefer the own stream
  const int count = head ? 1 : 3;
  weights_f32(id, (p + "_scale").c_str(), count, -6, scale);
  for (int i = 0; i < count; ++i) scale[i] += 0.125f;
}

}  // namespace v4
