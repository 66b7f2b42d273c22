// The portable float32 math functions as ops: y = f(x) element-wise (reference/pmath.h, docs/pmath.md).
#include "golden/ops.h"

#include "reference/pmath.h"
#include "reference/pmath_table.h"
#include "reference/random_tensor.h"

namespace v4::golden {

namespace {

template <float (*F)(float)>
OpSpec math_op(const char* name) {
  OpSpec op;
  op.name = name;
  op.summary = "x f32 [any] -> y f32: portable float32 math (reference/pmath.h)";
  op.defaults = {{"n", 4096}};
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    return std::vector<NamedTensor>{{"x", random_f32_bits(seed, "x", {param(p, "n")})}};
  };
  op.run = [](const OpInputs& in, Recipe) {
    const Tensor& x = in.get("x", Fmt::f32);
    Tensor y = Tensor::make(Fmt::f32, x.shape);
    const float* xp = x.as<float>();
    float* yp = y.as<float>();
    const int64_t n = x.numel();
#pragma omp parallel for schedule(static)  // independent elements: any thread count gives the same bits
    for (int64_t i = 0; i < n; ++i) yp[i] = F(xp[i]);
    return std::vector<NamedTensor>{{"y", std::move(y)}};
  };
  return op;
}

}  // namespace

std::vector<OpSpec> ops_pmath() {
#define V4_MATH_OP(f, kind) math_op<pmath::f>(#f),
  return {V4_PMATH_FUNCTIONS(V4_MATH_OP)};
#undef V4_MATH_OP
}

}  // namespace v4::golden
