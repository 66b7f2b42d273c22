// Seeded tensor generators: every element is a pure function of (seed, tensor name, element index)
// through the counter-based RNG (reference/rng.h), so inputs regenerate identically in any order, on any
// thread count, and a replay file is never needed to reproduce a seeded run. Used by the op registry
// (`v4oracle op --seed`), the simulator and the tests. The distributions are documented in docs/cli.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "reference/tensor.h"

namespace v4 {

// sign * uniform(0.5, 1) * 2^e, e uniform in [-8, 8], from one 64-bit draw.
float random_activation(uint64_t r);

// bf16 activations as random_activation; about 1 in 64 exactly zero.
Tensor random_bf16(uint64_t seed, const std::string& name, std::vector<int64_t> shape);
// float32 activations as random_activation.
Tensor random_f32(uint64_t seed, const std::string& name, std::vector<int64_t> shape);
// Every float32 bit pattern equally likely (NaN, inf, subnormals included): the input of math ops.
Tensor random_f32_bits(uint64_t seed, const std::string& name, std::vector<int64_t> shape);
// Uniform finite e4m3 codes (NaN codes 0x7F/0xFF excluded).
Tensor random_e4m3(uint64_t seed, const std::string& name, std::vector<int64_t> shape);
// Uniform e2m1 codes, packed; an odd row's padding nibble is 0.
Tensor random_e2m1x2(uint64_t seed, const std::string& name, std::vector<int64_t> shape);
// ue8m0 scales 2^-7 .. 2^7 (codes 120..134): realistic, and no product leaves fp32 range.
Tensor random_ue8m0(uint64_t seed, const std::string& name, std::vector<int64_t> shape);
// float32 with a bell-shaped distribution of mean 0 and standard deviation `scale`: the Irwin-Hall sum of
// four uniforms, (u1 + u2 + u3 + u4 − 2)·sqrt(3)·scale, evaluated in fp32 in that order (weights,
// gradients, optimizer states: values of one magnitude, unlike random_f32's spread over 2^±8).
Tensor random_normal_f32(uint64_t seed, const std::string& name, std::vector<int64_t> shape, float scale);
// A rank-0 int32 tensor holding v (scalar parameters such as a block size).
Tensor scalar_i32(int32_t v);
// A rank-0 float32 tensor holding v (scalar hyperparameters such as an eps or a route scale).
Tensor scalar_f32(float v);
// random_f32 times 2^e (exact): activations of magnitude about 2^(e-8) .. 2^(e+8).
Tensor random_f32_scaled(uint64_t seed, const std::string& name, std::vector<int64_t> shape, int e);

}  // namespace v4
