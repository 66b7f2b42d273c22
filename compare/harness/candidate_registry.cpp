// The candidate registry (candidate.h) and the CPU stand-in "cpu[:RECIPE]": golden's own op run under
// RECIPE (or under the recipe gpu-check asks for when none is given), equal to the golden by construction
// when the recipes agree. "plugin:" is registered by plugin_loader.cpp; "builtin" and "cublaslt" by
// compare/gpu/ in CUDA builds -- without them make_candidate names the build option.
#include <mutex>
#include <stdexcept>

#include "compare/harness/candidate.h"
#include "compare/harness/op_exec.h"
#include "golden/ops.h"

namespace v4::harness {

std::unique_ptr<Candidate> make_plugin_candidate(const std::string& path);  // plugin_loader.cpp

namespace {

class CpuCandidate final : public Candidate {
 public:
  explicit CpuCandidate(std::optional<Recipe> r) : recipe_(r) {}
  std::string name() const override { return recipe_ ? std::string("cpu:") + recipe_name(*recipe_) : "cpu"; }
  std::string kernel(const std::string& op, Recipe r) const override {
    const golden::OpSpec* spec = golden::op_find(op);
    if (!spec) return "";
    return "cpu_reference_" + op + (spec->has_recipe ? std::string("[") + recipe_name(recipe_.value_or(r)) + "]" : "");
  }
  Outputs run(const std::string& op, const Inputs& in, const Outputs&, Recipe r, const RunOptions&) override {
    return run_cpu_op(op, in, recipe_.value_or(r));
  }

 private:
  std::optional<Recipe> recipe_;
};

struct Kind {
  std::string help;
  CandidateFactory make;
};

std::map<std::string, Kind>& kinds() {
  static std::map<std::string, Kind> m = [] {
    std::map<std::string, Kind> k;
    k["cpu"] = {"cpu[:canonical|hopper|exact]: golden's own CPU op (a baseline and test stand-in)",
                [](const std::string& arg) {
                  if (arg.empty()) return std::unique_ptr<Candidate>(new CpuCandidate(std::nullopt));
                  const auto r = recipe_parse(arg);
                  if (!r) throw std::invalid_argument("candidate cpu:" + arg + ": unknown recipe (canonical, hopper, exact)");
                  return std::unique_ptr<Candidate>(new CpuCandidate(*r));
                }};
    k["plugin"] = {"plugin:LIB.so: a kernel library with the v4oracle_plugin.h ABI (docs/gpu-check.md)",
                   [](const std::string& arg) { return make_plugin_candidate(arg); }};
    return k;
  }();
  return m;
}
std::mutex& kinds_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

void register_candidate(const std::string& prefix, const std::string& help, CandidateFactory make) {
  std::lock_guard<std::mutex> lock(kinds_mutex());
  if (!kinds().emplace(prefix, Kind{help, std::move(make)}).second)
    throw std::logic_error("register_candidate: prefix '" + prefix + "' registered twice");
}

std::unique_ptr<Candidate> make_candidate(const std::string& spec) {
  const size_t colon = spec.find(':');
  const std::string prefix = spec.substr(0, colon), arg = colon == std::string::npos ? "" : spec.substr(colon + 1);
  CandidateFactory make;
  std::string known;
  {
    std::lock_guard<std::mutex> lock(kinds_mutex());
    const auto it = kinds().find(prefix);
    if (it != kinds().end()) make = it->second.make;
    for (const auto& [p, k] : kinds()) known += (known.empty() ? "" : ", ") + p;
  }
  if (make) return make(arg);
  if (prefix == "builtin" || prefix == "cublaslt")
    throw std::invalid_argument("candidate '" + spec + "' runs on the GPU: this build has no CUDA (configure with -DV4ORACLE_CUDA=ON)");
  throw std::invalid_argument("unknown candidate '" + spec + "' (known: " + known + ")");
}

std::vector<std::pair<std::string, std::string>> candidate_kinds() {
  std::lock_guard<std::mutex> lock(kinds_mutex());
  std::vector<std::pair<std::string, std::string>> v;
  for (const auto& [p, k] : kinds()) v.emplace_back(p, k.help);
  return v;
}

}  // namespace v4::harness
