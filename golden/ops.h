// The op registry: every component that `v4oracle op <name>` runs, with its named input and output
// datasets, default shape parameters, and a seeded input generator. Each reference stem registers its ops
// in golden/ops/<stem>.cpp (`std::vector<OpSpec> ops_<stem>()`), listed once in golden/ops/op_list.h;
// the CLI, the demo, the tests and the GPU harness all walk op_registry(). Dataset names, formats and
// layouts are documented in docs/cli.md; docs/adding-a-component.md is the recipe.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "golden/golden_schema.h"
#include "golden/tensor_io.h"
#include "reference/formats.h"
#include "reference/gemm.h"

namespace v4::golden {

struct NamedTensor {
  std::string name;
  Tensor t;
  TensorAttrs attrs{};
  TensorLinks links{};  // e.g. a quantizer's codes link their `source` values, for rounding-tie analysis
};

// Where an op's inputs come from: a file (replay) or tensors generated from a seed. get() validates the
// format and reports problems as InputError naming the origin and the dataset.
class OpInputs {
 public:
  OpInputs(std::string origin, const H5Reader* reader, std::vector<NamedTensor> generated);
  const Tensor& get(const std::string& name, Fmt fmt) const;
  Fmt get_any_fmt(const std::string& name) const;  // the stored format, for ops whose rule depends on it
  // Every input the op consumed, in the order it asked for them (what a replay file must hold).
  const std::deque<NamedTensor>& consumed() const { return tensors_; }
  const std::string& origin() const { return origin_; }
  [[noreturn]] void fail(const std::string& name, const std::string& problem) const;

  // Shape checks on a tensor read as `name`; each failure is one line naming the origin and dataset.
  void require_rank(const std::string& name, const Tensor& t, size_t rank) const;
  void require_dim(const std::string& name, const Tensor& t, size_t axis, int64_t want, const std::string& why) const;
  // Rows x last dim of a tensor of rank >= 1 (row-wise ops work on the last dimension).
  std::pair<int64_t, int64_t> rows_last(const std::string& name, const Tensor& t) const;
  // The value of a rank-0 parameter dataset (a hyperparameter, a switch).
  float get_f32_scalar(const std::string& name) const;
  int32_t get_i32_scalar(const std::string& name) const;
  bool get_switch(const std::string& name) const;  // an i32 scalar that must be 0 or 1

 private:
  // InputError unless the file holds a dataset `name` (a group there is named as one); `expected` says
  // the format the op wanted, e.g. "bf16".
  void require_in_file(const std::string& name, const std::string& expected) const;
  std::string origin_;
  const H5Reader* reader_;
  mutable std::deque<NamedTensor> tensors_;  // a deque: get() hands out references that must survive later reads
};

using ShapeParams = std::map<std::string, int64_t>;
inline int64_t param(const ShapeParams& p, const char* k) { return p.at(k); }

// Element-wise float32 -> format conversion (the `cast` command and the format ops; golden/ops/cast.cpp).
struct CastResult {
  Tensor codes;   // raw codes in the target format, same logical shape
  Tensor values;  // decoded float32
};
CastResult cast_tensor(const Tensor& x, Fmt to, Sat sat);

struct OpSpec {
  std::string name;
  std::string summary;                  // one line: inputs -> outputs
  ShapeParams defaults;                 // shape parameters for --seed, e.g. {M: 64, N: 128, K: 256}
  bool has_recipe = false;              // GEMMs take --recipe; everything else has one definition
  std::function<std::vector<NamedTensor>(uint64_t seed, const ShapeParams&)> make_inputs;
  std::function<std::vector<NamedTensor>(const OpInputs&, Recipe)> run;  // outputs
};

const std::vector<OpSpec>& op_registry();
const OpSpec* op_find(const std::string& name);

// Runs one op end to end and writes inputs then outputs, with root attributes (magic, op, recipe, seed,
// generator version and commit), atomically to out_path. Returns the output tensors.
std::vector<NamedTensor> op_run_to_file(const OpSpec& op, const std::optional<std::string>& inputs_path,
                                        uint64_t seed, const ShapeParams& shape, Recipe recipe,
                                        const std::string& out_path);

}  // namespace v4::golden
