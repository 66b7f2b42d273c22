// gpu_check (gpu_check.h): golden and candidate files, the comparator, forensics and the probes.
#include "compare/harness/gpu_check.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "compare/harness/op_exec.h"
#include "golden/file_meta.h"
#include "golden/output_file.h"
#include "golden/tensor_io.h"

namespace v4::harness {

namespace {

// The directory of the golden and candidate files: --out-dir, else a private one removed at the end.
struct WorkDir {
  std::string path;
  bool keep = false;
  explicit WorkDir(const std::string& out_dir) {
    if (!out_dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(out_dir, ec);
      if (!std::filesystem::is_directory(out_dir)) throw golden::InputError(out_dir, "", "--out-dir is not a directory that can be created");
      path = out_dir, keep = true;
      return;
    }
    std::string tmpl = golden::private_temp_dir() + "/v4oracle-gpu-check-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw golden::OutputError(tmpl, "cannot create a temporary directory");
    path = tmpl;
  }
  ~WorkDir() {
    std::error_code ignored;
    if (!keep) std::filesystem::remove_all(path, ignored);
  }
};

std::string origin_text(const GpuCheckOptions& opt, const golden::OpSpec& op) {
  if (opt.inputs_path) return *opt.inputs_path;
  std::string s = "--seed " + std::to_string(opt.seed);
  for (const auto& [k, v] : op.defaults) s += " " + k + "=" + std::to_string(opt.shape.count(k) ? opt.shape.at(k) : v);
  return s;
}

// Seeded neighbour rows: the op's generator at another seed with the batch dimension kNeighbourPoolRows.
std::map<std::string, Tensor> neighbour_pool(const GpuCheckOptions& opt, const golden::OpSpec& op, const Inputs& in) {
  std::map<std::string, Tensor> pool;
  const BatchLayout* layout = batch_layout(op.name);
  if (opt.inputs_path || !layout || !op.defaults.count(layout->param)) return pool;  // a replay: its own rows
  golden::ShapeParams p = op.defaults;
  for (const auto& [k, v] : opt.shape) p[k] = v;
  p[layout->param] = kNeighbourPoolRows;
  for (golden::NamedTensor& nt : op.make_inputs(opt.seed + 1, p))
    for (const std::string& name : layout->inputs)
      if (nt.name == name && in.count(name) && nt.t.fmt == in.at(name)->fmt && !nt.t.shape.empty() &&
          std::equal(nt.t.shape.begin() + 1, nt.t.shape.end(), in.at(name)->shape.begin() + 1, in.at(name)->shape.end()))
        pool[name] = std::move(nt.t);
  if (pool.size() != layout->inputs.size()) pool.clear();  // every batched input gets the same rows, or none
  return pool;
}

void write_candidate_file(const std::string& path, const std::string& op, const std::vector<golden::NamedTensor>& inputs,
                          const Outputs& outputs) {
  golden::H5Writer w(path);
  golden::write_file_meta(w, "candidate", op);
  for (const golden::NamedTensor& nt : inputs) w.write("/" + nt.name, nt.t, nt.attrs);
  for (const auto& [name, t] : outputs) w.write("/" + name, t);
  w.commit();
}

}  // namespace

bool GpuCheckResult::pass() const { return problems().empty(); }

std::vector<std::string> GpuCheckResult::problems() const {
  std::vector<std::string> v;
  if (!diff.pass()) {
    const int64_t i = diff.verdict();
    v.push_back("outputs differ from the golden" + (i >= 0 ? ": first " + diff.tensors[size_t(i)].path : std::string()));
  }
  if (batch.ran() && !batch.invariant()) {
    const BatchCell& c = batch.cells[size_t(batch.first_break)];
    v.push_back("not batch-invariant: bits change at batch " + std::to_string(c.batch) + ", position " + std::to_string(c.position));
  }
  if (determinism.ran() && !determinism.deterministic()) {
    const Launch& l = determinism.launches[size_t(determinism.first_diff)];
    v.push_back("not deterministic: launch " + std::to_string(l.run) + " (stream " + std::to_string(l.stream) + ") differs from launch 1");
  }
  return v;
}

GpuCheckResult gpu_check(const GpuCheckOptions& opt) {
  std::unique_ptr<Candidate> cand = make_candidate(opt.candidate);
  return gpu_check(opt, *cand);
}

GpuCheckResult gpu_check(const GpuCheckOptions& opt, Candidate& cand) {
  const golden::OpSpec* op = golden::op_find(opt.op);
  if (!op) throw std::invalid_argument("gpu-check: unknown op '" + opt.op + "' (see `v4oracle list`)");
  GpuCheckResult res;
  res.op = op->name, res.candidate = cand.name(), res.device = cand.device();
  res.has_recipe = op->has_recipe, res.recipe = opt.recipe;
  res.kernel = cand.kernel(op->name, opt.recipe);
  if (res.kernel.empty())
    throw std::invalid_argument("gpu-check: candidate " + res.candidate + " does not compute " + op->name +
                                (op->has_recipe ? std::string(" under recipe ") + recipe_name(opt.recipe) : std::string()));
  res.origin = origin_text(opt, *op);

  WorkDir dir(opt.out_dir);
  const std::string golden_path = dir.path + "/golden.h5", cand_path = dir.path + "/candidate.h5";
  std::vector<golden::NamedTensor> outs = golden::op_run_to_file(*op, opt.inputs_path, opt.seed, opt.shape, opt.recipe, golden_path);
  // The inputs the golden consumed, as its file holds them: every dataset that is not an output.
  std::vector<golden::NamedTensor> inputs;
  {
    const golden::H5Reader r(golden_path);
    for (const std::string& path : r.datasets()) {
      bool output = false;
      for (const golden::NamedTensor& o : outs) output |= path == "/" + o.name;
      if (output) continue;
      golden::TensorAttrs attrs;
      Tensor t = r.read(path, std::nullopt, &attrs);
      inputs.push_back({path.substr(1), std::move(t), std::move(attrs)});
    }
  }
  Inputs in;
  for (const golden::NamedTensor& nt : inputs) in[nt.name] = &nt.t;
  Outputs golden_out;
  for (golden::NamedTensor& nt : outs) golden_out.emplace_back(nt.name, std::move(nt.t));

  const Outputs cand_out = cand.run(op->name, in, golden_out, opt.recipe, RunOptions{});
  res.launch = cand.last_launch();
  write_candidate_file(cand_path, op->name, inputs, cand_out);
  res.diff = compare::compare_files(golden_path, cand_path, opt.compare);
  if (dir.keep) res.golden_file = golden_path, res.candidate_file = cand_path;
  if (forensics_supports(op->name) && count_differ(golden_out, cand_out) > 0)
    for (const auto& [name, t] : cand_out)
      if (name == "c") res.forensics = recipe_forensics(op->name, in, t);

  if (opt.probe_batch) {
    BatchSetup s{op->name, opt.recipe, in, golden_out, neighbour_pool(opt, *op, in), opt.seed};
    res.batch = probe_batch(cand, s, opt.batch_sizes);
  } else {
    res.batch.skipped = "not requested";
  }
  if (opt.probe_determinism)
    res.determinism = probe_determinism(cand, op->name, in, golden_out, opt.recipe, opt.repeats);
  else
    res.determinism.skipped = "not requested";
  return res;
}

}  // namespace v4::harness
