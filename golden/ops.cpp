// The op registry (see ops.h): numerics components, GEMM recipes and portable-math functions.
#include "golden/ops.h"

#include <algorithm>
#include <stdexcept>

#include "golden/file_meta.h"
#include "reference/act_quant.h"
#include "reference/blocks.h"
#include "reference/formats.h"
#include "reference/fp4_act_quant.h"
#include "reference/hadamard.h"
#include "reference/pmath.h"
#include "reference/random_tensor.h"
#include "reference/weight_dequant.h"

namespace v4::golden {

OpInputs::OpInputs(std::string origin, const H5Reader* reader, std::vector<NamedTensor> generated)
    : origin_(std::move(origin)), reader_(reader), tensors_(generated.begin(), generated.end()) {}

void OpInputs::fail(const std::string& name, const std::string& problem) const {
  throw InputError(origin_, "/" + name, problem);
}

const Tensor& OpInputs::get(const std::string& name, Fmt fmt) const {
  for (const NamedTensor& nt : tensors_)
    if (nt.name == name) {
      if (nt.t.fmt != fmt)
        fail(name, std::string("expected format ") + fmt_name(fmt) + ", found " + fmt_name(nt.t.fmt));
      return nt.t;
    }
  if (!reader_) fail(name, "dataset missing");
  if (!reader_->has("/" + name)) fail(name, std::string("dataset missing (expected ") + fmt_name(fmt) + ")");
  tensors_.push_back({name, reader_->read("/" + name, fmt)});
  return tensors_.back().t;
}

CastResult cast_tensor(const Tensor& x, Fmt to, Sat sat) {
  CastResult r{Tensor::make(to, x.shape), Tensor::make(Fmt::f32, x.shape)};
  const float* xp = x.as<float>();
  float* vp = r.values.as<float>();
  const int64_t n = x.numel();
  switch (to) {
    case Fmt::bf16: {
      uint16_t* c = r.codes.as<uint16_t>();
      for (int64_t i = 0; i < n; ++i) vp[i] = bf16_decode(c[i] = bf16_encode(xp[i]));
      break;
    }
    case Fmt::e4m3fn:
    case Fmt::e5m2: {
      uint8_t* c = r.codes.as<uint8_t>();
      const bool e4 = to == Fmt::e4m3fn;
      for (int64_t i = 0; i < n; ++i) {
        c[i] = e4 ? fp8_e4m3_encode(xp[i], sat) : fp8_e5m2_encode(xp[i], sat);
        vp[i] = e4 ? fp8_e4m3_decode(c[i]) : fp8_e5m2_decode(c[i]);
      }
      break;
    }
    case Fmt::ue8m0: {
      uint8_t* c = r.codes.as<uint8_t>();
      for (int64_t i = 0; i < n; ++i) vp[i] = ue8m0_decode(c[i] = ue8m0_encode(xp[i]));
      break;
    }
    case Fmt::e2m1x2: {
      // Packed along the last dimension: element 2k of each row in the low nibble.
      const int64_t last = x.shape.empty() ? 1 : x.shape.back();
      const int64_t per_row = (last + 1) / 2;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t row = i / last, col = i % last;
        const uint8_t code = fp4_e2m1_encode(xp[i]);
        r.codes.data[size_t(row * per_row + col / 2)] |= uint8_t(code << (4 * (col & 1)));
        vp[i] = fp4_e2m1_decode(code);
      }
      break;
    }
    default:
      throw std::invalid_argument(std::string("cannot cast to ") + fmt_name(to));
  }
  return r;
}

namespace {

// ---- shape helpers ---------------------------------------------------------------------------

int64_t param(const ShapeParams& p, const char* k) { return p.at(k); }

void require_rank(const OpInputs& in, const std::string& name, const Tensor& t, size_t rank) {
  if (t.shape.size() != rank)
    in.fail(name, "expected rank " + std::to_string(rank) + ", found rank " + std::to_string(t.shape.size()));
}
void require_dim(const OpInputs& in, const std::string& name, const Tensor& t, size_t axis, int64_t want,
                 const std::string& why) {
  if (t.shape[axis] != want)
    in.fail(name, "dimension " + std::to_string(axis) + " is " + std::to_string(t.shape[axis]) + ", expected " +
                      std::to_string(want) + " (" + why + ")");
}
// Rows x last dim of a tensor of any rank >= 1 (the quantizers work on the last dimension).
std::pair<int64_t, int64_t> rows_last(const OpInputs& in, const std::string& name, const Tensor& t) {
  if (t.shape.empty()) in.fail(name, "expected rank >= 1, found a scalar");
  const int64_t n = t.shape.back();
  return {n == 0 ? 0 : t.numel() / n, n};
}

// ---- op definitions --------------------------------------------------------------------------

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
    for (int64_t i = 0; i < x.numel(); ++i) yp[i] = F(xp[i]);
    return std::vector<NamedTensor>{{"y", std::move(y)}};
  };
  return op;
}

OpSpec act_quant_op() {
  OpSpec op;
  op.name = "act_quant";
  op.summary = "x bf16 [.., n] -> q e4m3fn [.., n], s ue8m0 [.., n/block], y bf16 (simulation form); param block (128 or 64)";
  op.defaults = {{"rows", 4}, {"n", 512}, {"block", 128}};
  op.make_inputs = [](uint64_t seed, const ShapeParams& p) {
    Tensor block = Tensor::make(Fmt::i32, {});
    block.as<int32_t>()[0] = int32_t(param(p, "block"));
    return std::vector<NamedTensor>{{"x", random_bf16(seed, "x", {param(p, "rows"), param(p, "n")})},
                                    {"block", std::move(block)}};
  };
  op.run = [](const OpInputs& in, Recipe) {
    const Tensor& x = in.get("x", Fmt::bf16);
    const Tensor& bt = in.get("block", Fmt::i32);
    const int block = bt.numel() == 1 ? bt.as<int32_t>()[0] : 0;
    if (block != 128 && block != 64) in.fail("block", "must be a scalar 128 or 64");
    auto [rows, n] = rows_last(in, "x", x);
    if (n % block) in.fail("x", "last dimension " + std::to_string(n) + " is not a multiple of block " + std::to_string(block));
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
    auto [rows, n] = rows_last(in, "x", x);
    if (n % kFp4Block) in.fail("x", "last dimension " + std::to_string(n) + " is not a multiple of 32");
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
    require_rank(in, "w", w, 2);
    require_rank(in, "scale", s, 2);
    const int64_t r = w.shape[0], c = w.shape[1];
    Tensor y = Tensor::make(Fmt::bf16, w.shape);
    if (fp4) {
      if (c % 32) in.fail("w", "columns " + std::to_string(c) + " not a multiple of 32");
      require_dim(in, "scale", s, 0, r, "rows of w");
      require_dim(in, "scale", s, 1, c / 32, "one scale per 32 columns");
      weight_dequant_fp4(w.as<uint8_t>(), s.as<uint8_t>(), r, c, y.as<uint16_t>());
    } else {
      require_dim(in, "scale", s, 0, ceil_div(r, kFp8Block), "one scale per 128 rows");
      require_dim(in, "scale", s, 1, ceil_div(c, kFp8Block), "one scale per 128 columns");
      weight_dequant_fp8(w.as<uint8_t>(), s.as<uint8_t>(), r, c, y.as<uint16_t>());
    }
    return std::vector<NamedTensor>{{"y", std::move(y)}};
  };
  return op;
}

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
    auto [rows, n] = rows_last(in, "x", x);
    if (n <= 0 || (n & (n - 1))) in.fail("x", "last dimension " + std::to_string(n) + " is not a power of two");
    Tensor y = Tensor::make(Fmt::bf16, x.shape);
    hadamard(x.as<uint16_t>(), rows, n, y.as<uint16_t>());
    return std::vector<NamedTensor>{{"y", std::move(y)}};
  };
  return op;
}

// GEMMs: C[M, N] = A[M, K] . B[N, K]^T.
struct GemmDims {
  int64_t M, N, K;
};
GemmDims gemm_dims(const OpInputs& in, const Tensor& a, const Tensor& b) {
  require_rank(in, "a", a, 2);
  require_rank(in, "b", b, 2);
  require_dim(in, "b", b, 1, a.shape[1], "K must match a's columns");
  return {a.shape[0], b.shape[0], a.shape[1]};
}

OpSpec fp8_gemm_op(bool fp4) {
  OpSpec op;
  op.name = fp4 ? "fp4_gemm" : "fp8_gemm";
  op.summary = fp4 ? "a e4m3fn [M,K], a_scale ue8m0 [M,K/128], b e2m1x2 [N,K], b_scale ue8m0 [N,K/32] -> c bf16 [M,N]"
                   : "a e4m3fn [M,K], a_scale ue8m0 [M,K/128], b e4m3fn [N,K], b_scale ue8m0 [ceil(N/128),K/128] -> c bf16 [M,N]";
  op.defaults = {{"M", 64}, {"N", 128}, {"K", 256}};
  op.has_recipe = true;
  op.make_inputs = [fp4](uint64_t seed, const ShapeParams& p) {
    const int64_t M = param(p, "M"), N = param(p, "N"), K = param(p, "K");
    std::vector<NamedTensor> v;
    v.push_back({"a", random_e4m3(seed, "a", {M, K}), {"/a_scale", {1, 128}}});
    v.push_back({"a_scale", random_ue8m0(seed, "a_scale", {M, ceil_div(K, kFp8Block)})});
    if (fp4) {
      v.push_back({"b", random_e2m1x2(seed, "b", {N, K}), {"/b_scale", {1, 32}}});
      v.push_back({"b_scale", random_ue8m0(seed, "b_scale", {N, ceil_div(K, kFp4Block)})});
    } else {
      v.push_back({"b", random_e4m3(seed, "b", {N, K}), {"/b_scale", {128, 128}}});
      v.push_back({"b_scale", random_ue8m0(seed, "b_scale", {ceil_div(N, kFp8Block), ceil_div(K, kFp8Block)})});
    }
    return v;
  };
  op.run = [fp4](const OpInputs& in, Recipe r) {
    const Tensor& a = in.get("a", Fmt::e4m3fn);
    const Tensor& as = in.get("a_scale", Fmt::ue8m0);
    const Tensor& b = in.get("b", fp4 ? Fmt::e2m1x2 : Fmt::e4m3fn);
    const Tensor& bs = in.get("b_scale", Fmt::ue8m0);
    const GemmDims d = gemm_dims(in, a, b);
    if (d.K % 128) in.fail("a", "K = " + std::to_string(d.K) + " is not a multiple of 128");
    require_rank(in, "a_scale", as, 2);
    require_rank(in, "b_scale", bs, 2);
    require_dim(in, "a_scale", as, 0, d.M, "one row per row of a");
    require_dim(in, "a_scale", as, 1, d.K / 128, "one scale per 128 K");
    require_dim(in, "b_scale", bs, 0, fp4 ? d.N : ceil_div(d.N, 128), fp4 ? "one row per row of b" : "one row per 128 rows of b");
    require_dim(in, "b_scale", bs, 1, fp4 ? d.K / 32 : d.K / 128, fp4 ? "one scale per 32 K" : "one scale per 128 K");
    Tensor c = Tensor::make(Fmt::bf16, {d.M, d.N});
    (fp4 ? fp4_gemm : fp8_gemm)(a.as<uint8_t>(), as.as<uint8_t>(), b.as<uint8_t>(), bs.as<uint8_t>(), d.M, d.N, d.K, r,
                                c.as<uint16_t>());
    return std::vector<NamedTensor>{{"c", std::move(c)}};
  };
  return op;
}

OpSpec plain_gemm_op(Fmt fmt) {
  OpSpec op;
  const bool bf = fmt == Fmt::bf16;
  op.name = bf ? "bf16_gemm" : "f32_gemm";
  op.summary = bf ? "a bf16 [M,K], b bf16 [N,K] -> c bf16 [M,N]" : "a f32 [M,K], b f32 [N,K] -> c f32 [M,N]";
  op.defaults = {{"M", 64}, {"N", 128}, {"K", 256}};
  op.has_recipe = true;
  op.make_inputs = [bf](uint64_t seed, const ShapeParams& p) {
    const int64_t M = param(p, "M"), N = param(p, "N"), K = param(p, "K");
    auto gen = bf ? random_bf16 : random_f32;
    return std::vector<NamedTensor>{{"a", gen(seed, "a", {M, K})}, {"b", gen(seed, "b", {N, K})}};
  };
  op.run = [fmt, bf](const OpInputs& in, Recipe r) {
    const Tensor& a = in.get("a", fmt);
    const Tensor& b = in.get("b", fmt);
    const GemmDims d = gemm_dims(in, a, b);
    Tensor c = Tensor::make(fmt, {d.M, d.N});
    if (bf)
      bf16_gemm(a.as<uint16_t>(), b.as<uint16_t>(), d.M, d.N, d.K, r, c.as<uint16_t>());
    else
      f32_gemm(a.as<float>(), b.as<float>(), d.M, d.N, d.K, r, c.as<float>());
    return std::vector<NamedTensor>{{"c", std::move(c)}};
  };
  return op;
}

std::vector<OpSpec> build_registry() {
  return {
      cast_op("bf16", Fmt::bf16, "x f32 -> codes bf16, values f32 (RNE, NaN -> 0x7FFF)"),
      cast_op("fp8_e4m3", Fmt::e4m3fn, "x f32 -> codes e4m3fn, values f32 (satfinite; `cast --mode nosat` for the other)"),
      cast_op("fp8_e5m2", Fmt::e5m2, "x f32 -> codes e5m2, values f32 (satfinite; `cast --mode nosat` for the other)"),
      cast_op("fp4_e2m1", Fmt::e2m1x2, "x f32 -> codes e2m1x2 (packed), values f32"),
      cast_op("ue8m0", Fmt::ue8m0, "x f32 -> codes ue8m0 (ceiling power of two), values f32"),
      act_quant_op(),
      fp4_act_quant_op(),
      weight_dequant_op(),
      hadamard_op(),
      fp8_gemm_op(false),
      fp8_gemm_op(true),
      plain_gemm_op(Fmt::bf16),
      plain_gemm_op(Fmt::f32),
      math_op<pmath::exp>("exp"),
      math_op<pmath::exp2>("exp2"),
      math_op<pmath::log>("log"),
      math_op<pmath::log1p>("log1p"),
      math_op<pmath::expm1>("expm1"),
      math_op<pmath::sigmoid>("sigmoid"),
      math_op<pmath::silu>("silu"),
      math_op<pmath::softplus>("softplus"),
      math_op<pmath::rsqrt>("rsqrt"),
      math_op<pmath::sqrt>("sqrt"),
      math_op<pmath::sin>("sin"),
      math_op<pmath::cos>("cos"),
  };
}

}  // namespace

Fmt OpInputs::get_any_fmt(const std::string& name) const {
  for (const NamedTensor& nt : tensors_)
    if (nt.name == name) return nt.t.fmt;
  if (!reader_ || !reader_->has("/" + name)) fail(name, "dataset missing");
  return reader_->info("/" + name).fmt;
}

const std::vector<OpSpec>& op_registry() {
  static const std::vector<OpSpec> registry = build_registry();
  return registry;
}

const OpSpec* op_find(const std::string& name) {
  for (const OpSpec& op : op_registry())
    if (op.name == name) return &op;
  return nullptr;
}

std::vector<NamedTensor> op_run_to_file(const OpSpec& op, const std::optional<std::string>& inputs_path,
                                        uint64_t seed, const ShapeParams& shape, Recipe recipe,
                                        const std::string& out_path) {
  std::optional<H5Reader> reader;
  std::vector<NamedTensor> generated;
  std::string origin;
  if (inputs_path) {
    reader.emplace(*inputs_path);
    origin = *inputs_path;
  } else {
    ShapeParams p = op.defaults;
    for (const auto& [k, v] : shape) {
      if (!p.count(k)) {
        std::string known;
        for (const auto& [dk, dv] : op.defaults) known += (known.empty() ? "" : ", ") + dk;
        throw std::invalid_argument("op " + op.name + ": unknown shape parameter '" + k + "' (known: " + known + ")");
      }
      if (v < 0) throw std::invalid_argument("op " + op.name + ": shape parameter " + k + " must be >= 0");
      p[k] = v;
    }
    generated = op.make_inputs(seed, p);
    origin = "--seed " + std::to_string(seed);
  }
  const OpInputs in(origin, reader ? &*reader : nullptr, generated);
  std::vector<NamedTensor> outputs = op.run(in, recipe);

  H5Writer w(out_path);
  write_file_meta(w, "op", op.name);
  w.set_root_attr("recipe", op.has_recipe ? recipe_name(recipe) : "none");
  if (inputs_path)
    w.set_root_attr("inputs", *inputs_path);
  else
    w.set_root_attr("seed", int64_t(seed));
  // Inputs first (so the file replays with --inputs), then outputs, each in declared order.
  for (const NamedTensor& nt : in.consumed()) {
    TensorAttrs attrs = nt.attrs;
    if (reader) reader->read("/" + nt.name, std::nullopt, &attrs);  // keep the replayed file's scale links
    w.write("/" + nt.name, nt.t, attrs);
  }
  for (const NamedTensor& nt : outputs) {
    w.write("/" + nt.name, nt.t, nt.attrs);
    if (!nt.links.empty()) golden_attach_links(w, "/" + nt.name, nt.links);
  }
  w.commit();
  return outputs;
}

}  // namespace v4::golden
