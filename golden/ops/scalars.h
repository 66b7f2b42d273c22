// Reading the rank-0 parameter datasets of an op (switches, hyperparameters): one value, checked, with
// the problem reported as an input error naming the dataset.
#pragma once
#include <cmath>
#include <string>

#include "golden/ops.h"

namespace v4::golden {

inline int32_t scalar_i32_input(const OpInputs& in, const std::string& name) {
  const Tensor& t = in.get(name, Fmt::i32);
  if (t.numel() != 1 || !t.shape.empty()) in.fail(name, "must be a rank-0 int32 scalar");
  return t.as<int32_t>()[0];
}

inline float scalar_f32_input(const OpInputs& in, const std::string& name) {
  const Tensor& t = in.get(name, Fmt::f32);
  if (t.numel() != 1 || !t.shape.empty()) in.fail(name, "must be a rank-0 float32 scalar");
  const float v = t.as<float>()[0];
  if (!std::isfinite(v)) in.fail(name, "must be finite");
  return v;
}

// A switch: 0 or 1.
inline bool scalar_switch_input(const OpInputs& in, const std::string& name) {
  const int32_t v = scalar_i32_input(in, name);
  if (v != 0 && v != 1) in.fail(name, "must be 0 or 1, found " + std::to_string(v));
  return v == 1;
}

}  // namespace v4::golden
