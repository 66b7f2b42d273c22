// The format ops (bf16, fp8_e4m3, fp8_e5m2, fp4_e2m1, ue8m0: float32 -> codes and decoded values) and
// cast_tensor, which the `cast` command shares (reference/formats.h, docs/formats.md).
#include "golden/ops.h"

#include <stdexcept>

#include "reference/formats.h"
#include "reference/random_tensor.h"

namespace v4::golden {

namespace {

OpSpec cast_op(const char* name, Fmt fmt, const char* summary) {
  OpSpec op;
  op.name = name;
  op.summary = summary;
  op.defaults = {{"n", 4096}};
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    return std::vector<NamedTensor>{{"x", random_f32_bits(seed, "x", {param(p, "n")})}};
  };
  op.run = [fmt](const OpInputs& in, Recipe) {
    const Tensor& x = in.get("x", Fmt::f32);
    CastResult r = cast_tensor(x, fmt, Sat::satfinite);
    return std::vector<NamedTensor>{{"codes", std::move(r.codes)}, {"values", std::move(r.values)}};
  };
  return op;
}

}  // namespace

CastResult cast_tensor(const Tensor& x, Fmt to, Sat sat) {
  CastResult r{Tensor::make(to, x.shape), Tensor::make(Fmt::f32, x.shape)};
  const float* xp = x.as<float>();
  float* vp = r.values.as<float>();
  const int64_t n = x.numel();
  switch (to) {
    case Fmt::bf16: {
      uint16_t* c = r.codes.as<uint16_t>();
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < n; ++i) vp[i] = bf16_decode(c[i] = bf16_encode(xp[i]));
      break;
    }
    case Fmt::e4m3fn:
    case Fmt::e5m2: {
      uint8_t* c = r.codes.as<uint8_t>();
      const bool e4 = to == Fmt::e4m3fn;
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < n; ++i) {
        c[i] = e4 ? fp8_e4m3_encode(xp[i], sat) : fp8_e5m2_encode(xp[i], sat);
        vp[i] = e4 ? fp8_e4m3_decode(c[i]) : fp8_e5m2_decode(c[i]);
      }
      break;
    }
    case Fmt::ue8m0: {
      uint8_t* c = r.codes.as<uint8_t>();
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < n; ++i) vp[i] = ue8m0_decode(c[i] = ue8m0_encode(xp[i]));
      break;
    }
    case Fmt::e2m1x2: {
      // Packed along the last dimension (reference/formats.h: fp4_e2m1_set); rows are independent.
      const int64_t last = x.shape.empty() ? 1 : x.shape.back(), rows = last ? n / last : 0;
      const int64_t row_bytes = fp4_e2m1_row_bytes(last);
#pragma omp parallel for schedule(static)
      for (int64_t row = 0; row < rows; ++row)
        for (int64_t col = 0; col < last; ++col) {
          const uint8_t code = fp4_e2m1_encode(xp[row * last + col]);
          fp4_e2m1_set(r.codes.data.data() + row * row_bytes, col, code);
          vp[row * last + col] = fp4_e2m1_decode(code);
        }
      break;
    }
    default:
      throw std::invalid_argument(std::string("cannot cast to ") + fmt_name(to));
  }
  return r;
}

std::vector<OpSpec> ops_cast() {
  return {
      cast_op("bf16", Fmt::bf16, "x f32 -> codes bf16, values f32 (RNE, NaN -> 0x7FFF)"),
      cast_op("fp8_e4m3", Fmt::e4m3fn, "x f32 -> codes e4m3fn, values f32 (satfinite; `cast --mode nosat` for the other)"),
      cast_op("fp8_e5m2", Fmt::e5m2, "x f32 -> codes e5m2, values f32 (satfinite; `cast --mode nosat` for the other)"),
      cast_op("fp4_e2m1", Fmt::e2m1x2, "x f32 -> codes e2m1x2 (packed), values f32"),
      cast_op("ue8m0", Fmt::ue8m0, "x f32 -> codes ue8m0 (ceiling power of two), values f32"),
  };
}

}  // namespace v4::golden
