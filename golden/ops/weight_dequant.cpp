// weight_dequant: FP8 (128x128 scales) and FP4 (1x32 scales) weights to bf16 (reference/weight_dequant.h).
#include "golden/ops.h"

#include "reference/blocks.h"
#include "reference/random_tensor.h"
#include "reference/weight_dequant.h"

namespace v4::golden {

namespace {

OpSpec weight_dequant_op() {
  OpSpec op;
  op.name = "weight_dequant";
  op.summary = "w e4m3fn [R, C] + scale ue8m0 [ceil(R/128), ceil(C/128)], or w e2m1x2 [R, C] + scale ue8m0 [R, C/32] -> y bf16 [R, C]; param fp4=0|1";
  op.defaults = {{"rows", 256}, {"cols", 256}, {"fp4", 0}};
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t r = param(p, "rows"), c = param(p, "cols");
    if (param(p, "fp4"))
      return std::vector<NamedTensor>{{"w", random_e2m1x2(seed, "w", {r, c})}, {"scale", random_ue8m0(seed, "scale", {r, c / 32})}};
    return std::vector<NamedTensor>{{"w", random_e4m3(seed, "w", {r, c})},
                                    {"scale", random_ue8m0(seed, "scale", {ceil_div(r, kFp8Block), ceil_div(c, kFp8Block)})}};
  };
  op.run = [](const OpInputs& in, Recipe) {
    // The format of w selects the rule; read it without a format expectation first.
    const bool fp4 = in.get_any_fmt("w") == Fmt::e2m1x2;
    const Tensor& w = in.get("w", fp4 ? Fmt::e2m1x2 : Fmt::e4m3fn);
    const Tensor& s = in.get("scale", Fmt::ue8m0);
    in.require_rank("w", w, 2);
    in.require_rank("scale", s, 2);
    const int64_t r = w.shape[0], c = w.shape[1];
    Tensor y = Tensor::make(Fmt::bf16, w.shape);
    if (fp4) {
      if (c % 32) in.fail("w", "columns " + std::to_string(c) + " not a multiple of 32");
      in.require_dim("scale", s, 0, r, "rows of w");
      in.require_dim("scale", s, 1, c / 32, "one scale per 32 columns");
      weight_dequant_fp4(w.as<uint8_t>(), s.as<uint8_t>(), r, c, y.as<uint16_t>());
    } else {
      in.require_dim("scale", s, 0, ceil_div(r, kFp8Block), "one scale per 128 rows");
      in.require_dim("scale", s, 1, ceil_div(c, kFp8Block), "one scale per 128 columns");
      weight_dequant_fp8(w.as<uint8_t>(), s.as<uint8_t>(), r, c, y.as<uint16_t>());
    }
    return std::vector<NamedTensor>{{"y", std::move(y)}};
  };
  return op;
}

}  // namespace

std::vector<OpSpec> ops_weight_dequant() {
  return {weight_dequant_op()};
}

}  // namespace v4::golden
