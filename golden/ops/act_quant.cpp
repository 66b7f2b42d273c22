// act_quant: FP8 e4m3 activation quantization with ue8m0 block scales (reference/act_quant.h).
#include "golden/ops.h"

#include "reference/act_quant.h"
#include "reference/random_tensor.h"

namespace v4::golden {

namespace {

OpSpec act_quant_op() {
  OpSpec op;
  op.name = "act_quant";
  op.summary = "x bf16 [.., n] -> q e4m3fn [.., n], s ue8m0 [.., n/block], y bf16 (simulation form); param block (128 or 64)";
  op.defaults = {{"rows", 4}, {"n", 512}, {"block", 128}};
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    return std::vector<NamedTensor>{{"x", random_bf16(seed, "x", {param(p, "rows"), param(p, "n")})},
                                    {"block", scalar_i32(int32_t(param(p, "block")))}};
  };
  op.run = [](const OpInputs& in, Recipe) {
    const Tensor& x = in.get("x", Fmt::bf16);
    const Tensor& bt = in.get("block", Fmt::i32);
    const int block = bt.numel() == 1 ? bt.as<int32_t>()[0] : 0;
    if (block != 128 && block != 64) in.fail("block", "must be a scalar 128 or 64");
    auto [rows, n] = in.rows_last("x", x);
    if (n <= 0 || n % block)
      in.fail("x", "last dimension " + std::to_string(n) + " is not a positive multiple of block " + std::to_string(block));
    Tensor q = Tensor::make(Fmt::e4m3fn, x.shape), y = Tensor::make(Fmt::bf16, x.shape);
    std::vector<int64_t> sshape = x.shape;
    sshape.back() = n / block;
    Tensor s = Tensor::make(Fmt::ue8m0, sshape);
    act_quant(x.as<uint16_t>(), rows, n, block, q.as<uint8_t>(), s.as<uint8_t>());
    act_quant_sim(x.as<uint16_t>(), rows, n, block, y.as<uint16_t>());
    std::vector<int64_t> blk(x.shape.size(), 1);
    blk.back() = block;
    return std::vector<NamedTensor>{{"q", std::move(q), {"/s", blk}, {"", "", "/x"}}, {"s", std::move(s)}, {"y", std::move(y)}};
  };
  return op;
}

}  // namespace

std::vector<OpSpec> ops_act_quant() {
  return {act_quant_op()};
}

}  // namespace v4::golden
