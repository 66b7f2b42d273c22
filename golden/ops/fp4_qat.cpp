// fp4_qat: the training-side FP4 fake quantization of expert weights (reference/fp4_qat.h): the stored
// FP4 codes, the fake-quantized forward weights, the FP8 compute form and the straight-through gradient.
#include "golden/ops.h"

#include <string>

#include "reference/blocks.h"
#include "reference/formats.h"
#include "reference/fp4_qat.h"
#include "reference/random_tensor.h"

namespace v4::golden {

namespace {

OpSpec fp4_qat_op() {
  OpSpec op;
  op.name = "fp4_qat";
  op.summary = "w f32 [R, C] (or e4m3fn + w_scale ue8m0 [ceil(R/128), ceil(C/128)]), grad f32 [R, C] -> q e2m1x2, "
               "s ue8m0 [R, C/32], w_fq bf16, w8 e4m3fn + s8 ue8m0 [R/128, C/128], lossy i32, grad_master f32";
  op.defaults = {{"rows", 256}, {"cols", 256}, {"fp8_master", 0}};
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    const int64_t r = param(p, "rows"), c = param(p, "cols");
    std::vector<NamedTensor> in;
    if (param(p, "fp8_master")) {
      in.push_back({"w", random_e4m3(seed, "w", {r, c})});
      in.push_back({"w_scale", random_ue8m0(seed, "w_scale", {ceil_div(r, kFp8Block), ceil_div(c, kFp8Block)})});
    } else {
      in.push_back({"w", random_normal_f32(seed, "w", {r, c}, 0.02f)});
    }
    in.push_back({"grad", random_normal_f32(seed, "grad", {r, c}, 1e-3f)});
    return in;
  };
  op.run = [](const OpInputs& in, Recipe) {
    const bool fp8 = in.get_any_fmt("w") == Fmt::e4m3fn;
    const Tensor& wt = in.get("w", fp8 ? Fmt::e4m3fn : Fmt::f32);
    in.require_rank("w", wt, 2);
    const int64_t R = wt.shape[0], C = wt.shape[1];
    if (C % kFp4Block) in.fail("w", "columns " + std::to_string(C) + " not a multiple of 32");
    // The master weights in fp32: an FP8 master is expanded exactly (e4m3 value times its 128 x 128 scale).
    Tensor master = Tensor::make(Fmt::f32, wt.shape);
    if (fp8) {
      const Tensor& ws = in.get("w_scale", Fmt::ue8m0);
      in.require_rank("w_scale", ws, 2);
      in.require_dim("w_scale", ws, 0, ceil_div(R, kFp8Block), "one scale per 128 rows");
      in.require_dim("w_scale", ws, 1, ceil_div(C, kFp8Block), "one scale per 128 columns");
      for (int64_t i = 0; i < R; ++i)
        for (int64_t j = 0; j < C; ++j)
          master.as<float>()[i * C + j] = fp8_e4m3_decode(wt.as<uint8_t>()[i * C + j]) *
                                          ue8m0_decode(ws.as<uint8_t>()[(i / kFp8Block) * ws.shape[1] + j / kFp8Block]);
    } else {
      master = wt;
    }
    const Tensor& grad = in.get("grad", Fmt::f32);
    if (grad.shape != wt.shape) in.fail("grad", "shape " + shape_str(grad.shape) + " differs from w " + shape_str(wt.shape));

    Tensor q = Tensor::make(Fmt::e2m1x2, {R, C}), s = Tensor::make(Fmt::ue8m0, {R, C / kFp4Block});
    Tensor w_fq = Tensor::make(Fmt::bf16, {R, C}), gm = Tensor::make(Fmt::f32, {R, C});
    fp4_qat_quantize(master.as<float>(), R, C, q.as<uint8_t>(), s.as<uint8_t>());
    fp4_qat_fake_quant(master.as<float>(), R, C, w_fq.as<uint16_t>());
    fp4_qat_backward(grad.as<float>(), R * C, gm.as<float>());
    std::vector<NamedTensor> out;
    out.push_back({"q", std::move(q), {"/s", {1, kFp4Block}}, {"", "", fp8 ? "" : "/w"}});
    out.push_back({"s", s});
    out.push_back({"w_fq", std::move(w_fq)});
    // The FP8 compute form needs whole 128 x 128 tiles (convert.py asserts the same).
    if (R % kFp8Block == 0 && C % kFp8Block == 0) {
      Tensor w8 = Tensor::make(Fmt::e4m3fn, {R, C}), s8 = Tensor::make(Fmt::ue8m0, {R / kFp8Block, C / kFp8Block});
      const int64_t lossy = fp4_to_fp8_tiles(out[0].t.as<uint8_t>(), s.as<uint8_t>(), R, C, w8.as<uint8_t>(), s8.as<uint8_t>());
      out.push_back({"w8", std::move(w8), {"/s8", {kFp8Block, kFp8Block}}});
      out.push_back({"s8", std::move(s8)});
      out.push_back({"lossy", scalar_i32(int32_t(lossy))});
    }
    out.push_back({"grad_master", std::move(gm)});
    return out;
  };
  return op;
}

}  // namespace

std::vector<OpSpec> ops_fp4_qat() {
  return {fp4_qat_op()};
}

}  // namespace v4::golden
