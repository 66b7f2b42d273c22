// The op registry (see ops.h): OpInputs, the list of every stem's ops (golden/ops/op_list.h), and
// op_run_to_file, which every `v4oracle op` run goes through.
#include "golden/ops.h"

#include <algorithm>
#include <stdexcept>

#include "golden/file_meta.h"
#include "golden/ops/op_list.h"

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
  require_in_file(name, fmt_name(fmt));
  TensorAttrs attrs;  // kept, so a replay writes the file's scale links back unchanged
  Tensor t = reader_->read("/" + name, fmt, &attrs);
  tensors_.push_back({name, std::move(t), std::move(attrs)});
  return tensors_.back().t;
}

void OpInputs::require_in_file(const std::string& name, const std::string& expected) const {
  if (!reader_) fail(name, "dataset missing");
  if (reader_->has("/" + name)) return;
  // A group where the op expects a dataset is not "missing": saying so sends the user looking for a typo.
  if (reader_->has_group("/" + name)) fail(name, "is a group, not a dataset (expected " + expected + ")");
  fail(name, "dataset missing (expected " + expected + ")");
}

void OpInputs::require_rank(const std::string& name, const Tensor& t, size_t rank) const {
  if (t.shape.size() != rank)
    fail(name, "expected rank " + std::to_string(rank) + ", found rank " + std::to_string(t.shape.size()));
}

void OpInputs::require_dim(const std::string& name, const Tensor& t, size_t axis, int64_t want,
                           const std::string& why) const {
  if (t.shape[axis] != want)
    fail(name, "dimension " + std::to_string(axis) + " is " + std::to_string(t.shape[axis]) + ", expected " +
                   std::to_string(want) + " (" + why + ")");
}

std::pair<int64_t, int64_t> OpInputs::rows_last(const std::string& name, const Tensor& t) const {
  if (t.shape.empty()) fail(name, "expected rank >= 1, found a scalar");
  const int64_t n = t.shape.back();
  return {n == 0 ? 0 : t.numel() / n, n};
}

float OpInputs::get_f32_scalar(const std::string& name) const {
  const Tensor& t = get(name, Fmt::f32);
  if (!t.shape.empty()) fail(name, "expected a scalar (rank 0), found rank " + std::to_string(t.shape.size()));
  return t.as<float>()[0];
}

int32_t OpInputs::get_i32_scalar(const std::string& name) const {
  const Tensor& t = get(name, Fmt::i32);
  if (!t.shape.empty()) fail(name, "expected a scalar (rank 0), found rank " + std::to_string(t.shape.size()));
  return t.as<int32_t>()[0];
}

bool OpInputs::get_switch(const std::string& name) const {
  const int32_t v = get_i32_scalar(name);
  if (v != 0 && v != 1) fail(name, "must be 0 or 1, found " + std::to_string(v));
  return v == 1;
}

// Every stem's registration function, declared and concatenated from the one list.
#define V4_DECLARE_OPS(stem) std::vector<OpSpec> ops_##stem();
V4_OP_STEMS(V4_DECLARE_OPS)
#undef V4_DECLARE_OPS

namespace {

std::vector<OpSpec> build_registry() {
  std::vector<OpSpec> all;
  const auto add = [&](std::vector<OpSpec> ops) {
    for (OpSpec& op : ops) {
      for (const OpSpec& prev : all)
        if (prev.name == op.name) throw std::logic_error("op registry: '" + op.name + "' registered twice");
      all.push_back(std::move(op));
    }
  };
#define V4_ADD_OPS(stem) add(ops_##stem());
  V4_OP_STEMS(V4_ADD_OPS)
#undef V4_ADD_OPS
  return all;
}

}  // namespace

Fmt OpInputs::get_any_fmt(const std::string& name) const {
  for (const NamedTensor& nt : tensors_)
    if (nt.name == name) return nt.t.fmt;
  require_in_file(name, "any format");
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
  std::vector<NamedTensor> outputs;
  try {
    outputs = op.run(in, recipe);
  } catch (const std::invalid_argument& e) {
    // A reference function's own argument check failing on replayed data: the data came from the file,
    // so it is bad input and names the file (an op's own checks name the dataset too).
    if (!inputs_path) throw;
    throw InputError(*inputs_path, "", e.what());
  }

  H5Writer w(out_path);
  write_file_meta(w, "op", op.name);
  w.set_root_attr("recipe", op.has_recipe ? recipe_name(recipe) : "none");
  if (inputs_path)
    w.set_root_attr("inputs", *inputs_path);
  else
    w.set_root_attr("seed", int64_t(seed));
  std::string output_paths;  // so the comparator can report the op's outputs apart from its copied inputs
  for (const NamedTensor& nt : outputs) output_paths += (output_paths.empty() ? "/" : ",/") + nt.name;
  w.set_root_attr(kAttrOutputs, output_paths);
  // Inputs first (so the file replays with --inputs), then outputs, each in declared order.
  for (const NamedTensor& nt : in.consumed()) w.write("/" + nt.name, nt.t, nt.attrs);
  for (const NamedTensor& nt : outputs) {
    w.write("/" + nt.name, nt.t, nt.attrs);
    if (!nt.links.empty()) golden_attach_links(w, "/" + nt.name, nt.links);
  }
  w.commit();
  return outputs;
}

}  // namespace v4::golden
