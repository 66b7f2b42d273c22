// hadamard: the fixed-order fp32 butterfly transform (reference/hadamard.h).
#include "golden/ops.h"

#include "reference/hadamard.h"
#include "reference/random_tensor.h"

namespace v4::golden {

namespace {

OpSpec hadamard_op() {
  OpSpec op;
  op.name = "hadamard";
  op.summary = "x bf16 [.., n] (n a power of two) -> y bf16: fp32 butterflies, strides 1..n/2, times fp32(n^-1/2)";
  op.defaults = {{"rows", 4}, {"n", 128}};
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    return std::vector<NamedTensor>{{"x", random_bf16(seed, "x", {param(p, "rows"), param(p, "n")})}};
  };
  op.run = [](const OpInputs& in, Recipe) {
    const Tensor& x = in.get("x", Fmt::bf16);
    auto [rows, n] = in.rows_last("x", x);
    if (n <= 0 || (n & (n - 1))) in.fail("x", "last dimension " + std::to_string(n) + " is not a power of two");
    Tensor y = Tensor::make(Fmt::bf16, x.shape);
    hadamard(x.as<uint16_t>(), rows, n, y.as<uint16_t>());
    return std::vector<NamedTensor>{{"y", std::move(y)}};
  };
  return op;
}

}  // namespace

std::vector<OpSpec> ops_hadamard() {
  return {hadamard_op()};
}

}  // namespace v4::golden
