// fp4_act_quant: FP4 e2m1 activation quantization with ue8m0 block-32 scales (reference/fp4_act_quant.h).
#include "golden/ops.h"

#include "reference/blocks.h"
#include "reference/fp4_act_quant.h"
#include "reference/random_tensor.h"

namespace v4::golden {

namespace {

OpSpec fp4_act_quant_op() {
  OpSpec op;
  op.name = "fp4_act_quant";
  op.summary = "x bf16 [.., n] -> q e2m1x2 [.., n], s ue8m0 [.., n/32], y bf16 (simulation form)";
  op.defaults = {{"rows", 4}, {"n", 512}};
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    return std::vector<NamedTensor>{{"x", random_bf16(seed, "x", {param(p, "rows"), param(p, "n")})}};
  };
  op.run = [](const OpInputs& in, Recipe) {
    const Tensor& x = in.get("x", Fmt::bf16);
    auto [rows, n] = in.rows_last("x", x);
    if (n <= 0 || n % kFp4Block) in.fail("x", "last dimension " + std::to_string(n) + " is not a positive multiple of 32");
    Tensor q = Tensor::make(Fmt::e2m1x2, x.shape), y = Tensor::make(Fmt::bf16, x.shape);
    std::vector<int64_t> sshape = x.shape;
    sshape.back() = n / kFp4Block;
    Tensor s = Tensor::make(Fmt::ue8m0, sshape);
    fp4_act_quant(x.as<uint16_t>(), rows, n, q.as<uint8_t>(), s.as<uint8_t>());
    fp4_act_quant_sim(x.as<uint16_t>(), rows, n, y.as<uint16_t>());
    std::vector<int64_t> blk(x.shape.size(), 1);
    blk.back() = kFp4Block;
    return std::vector<NamedTensor>{{"q", std::move(q), {"/s", blk}, {"", "", "/x"}}, {"s", std::move(s)}, {"y", std::move(y)}};
  };
  return op;
}

}  // namespace

std::vector<OpSpec> ops_fp4_act_quant() {
  return {fp4_act_quant_op()};
}

}  // namespace v4::golden
