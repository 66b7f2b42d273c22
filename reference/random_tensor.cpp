// Seeded tensor generators (reference/random_tensor.h).
#include "reference/random_tensor.h"

#include "reference/formats.h"
#include "reference/rng.h"

namespace v4 {

namespace {
uint64_t stream_of(const std::string& name) { return rng_stream_id(name.c_str()); }
}  // namespace

float random_activation(uint64_t r) {
  const float mag = (0.5f + float(uint32_t(r >> 40)) * 0x1p-25f) * f32_pow2(int((r >> 8) % 17) - 8);
  return (r & 64) ? -mag : mag;
}

Tensor random_bf16(uint64_t seed, const std::string& name, std::vector<int64_t> shape) {
  Tensor t = Tensor::make(Fmt::bf16, std::move(shape));
  uint16_t* p = t.as<uint16_t>();
  const uint64_t s = stream_of(name);
  for (int64_t i = 0; i < t.numel(); ++i) {
    const uint64_t r = rng_u64(seed, s, uint64_t(i));
    p[i] = (r & 63) == 0 ? 0 : bf16_encode(random_activation(r));
  }
  return t;
}

Tensor random_f32(uint64_t seed, const std::string& name, std::vector<int64_t> shape) {
  Tensor t = Tensor::make(Fmt::f32, std::move(shape));
  float* p = t.as<float>();
  const uint64_t s = stream_of(name);
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = random_activation(rng_u64(seed, s, uint64_t(i)));
  return t;
}

Tensor random_f32_bits(uint64_t seed, const std::string& name, std::vector<int64_t> shape) {
  Tensor t = Tensor::make(Fmt::f32, std::move(shape));
  uint32_t* p = reinterpret_cast<uint32_t*>(t.data.data());
  const uint64_t s = stream_of(name);
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = uint32_t(rng_u64(seed, s, uint64_t(i)) >> 32);
  return t;
}

Tensor random_e4m3(uint64_t seed, const std::string& name, std::vector<int64_t> shape) {
  Tensor t = Tensor::make(Fmt::e4m3fn, std::move(shape));
  uint8_t* p = t.as<uint8_t>();
  const uint64_t s = stream_of(name);
  for (int64_t i = 0; i < t.numel(); ++i) {
    uint8_t c = uint8_t(rng_u64(seed, s, uint64_t(i)) >> 56);
    if ((c & 0x7F) == 0x7F) c &= 0xFE;
    p[i] = c;
  }
  return t;
}

Tensor random_e2m1x2(uint64_t seed, const std::string& name, std::vector<int64_t> shape) {
  Tensor t = Tensor::make(Fmt::e2m1x2, std::move(shape));
  const uint64_t s = stream_of(name);
  for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = uint8_t(rng_u64(seed, s, i) >> 56);
  if (!t.shape.empty() && t.shape.back() % 2) {  // an odd row's padding nibble must be 0
    const int64_t per_row = fmt_stored_len(Fmt::e2m1x2, t.shape.back());
    for (size_t i = per_row - 1; i < t.data.size(); i += per_row) t.data[i] &= 0x0F;
  }
  return t;
}

Tensor random_ue8m0(uint64_t seed, const std::string& name, std::vector<int64_t> shape) {
  Tensor t = Tensor::make(Fmt::ue8m0, std::move(shape));
  uint8_t* p = t.as<uint8_t>();
  const uint64_t s = stream_of(name);
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = uint8_t(120 + rng_u64(seed, s, uint64_t(i)) % 15);
  return t;
}

Tensor random_normal_f32(uint64_t seed, const std::string& name, std::vector<int64_t> shape, float scale) {
  Tensor t = Tensor::make(Fmt::f32, std::move(shape));
  float* p = t.as<float>();
  const uint64_t s = stream_of(name);
  const float k = 1.7320508f * scale;  // fp32(sqrt(3)) · scale: unit variance times scale
  for (int64_t i = 0; i < t.numel(); ++i) {
    float u = 0.0f;
    for (uint64_t j = 0; j < 4; ++j) u += rng_uniform(seed, s, 4 * uint64_t(i) + j);
    p[i] = (u - 2.0f) * k;
  }
  return t;
}

Tensor scalar_i32(int32_t v) {
  Tensor t = Tensor::make(Fmt::i32, {});
  t.as<int32_t>()[0] = v;
  return t;
}

Tensor scalar_f32(float v) {
  Tensor t = Tensor::make(Fmt::f32, {});
  t.as<float>()[0] = v;
  return t;
}

Tensor random_f32_scaled(uint64_t seed, const std::string& name, std::vector<int64_t> shape, int e) {
  Tensor t = random_f32(seed, name, std::move(shape));
  float* p = t.as<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = p[i] * f32_pow2(e);
  return t;
}

}  // namespace v4
