// Finite float32 parameters of the MoE and mHC ops; integers and switches are read with OpInputs's
// get_i32_scalar and get_switch.
#pragma once
#include <cmath>
#include <string>

#include "golden/ops.h"

namespace v4::golden {

// A float32 hyperparameter that must be finite (the MoE and mHC ops refuse NaN/inf parameters).
inline float scalar_f32_input(const OpInputs& in, const std::string& name) {
  const float v = in.get_f32_scalar(name);
  if (!std::isfinite(v)) in.fail(name, "must be finite");
  return v;
}

}  // namespace v4::golden
