// Candidates: whatever computes an op of golden's registry outside the CPU reference -- a built-in CUDA
// kernel (compare/gpu/), cuBLASLt, a user's plug-in (v4oracle_plugin.h), or a CPU stand-in for tests.
// gpu-check runs a candidate on the golden's inputs, diffs its outputs with the comparator, and probes it
// for batch invariance and determinism (docs/gpu-check.md). C++17-clean: compare/gpu/ implements it.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "reference/recipe.h"
#include "reference/tensor.h"

namespace v4::harness {

using Inputs = std::map<std::string, const Tensor*>;           // the CPU op's consumed inputs, by name
using Outputs = std::vector<std::pair<std::string, Tensor>>;  // named as the CPU op names its outputs

struct RunOptions {
  int stream = 0;  // 0: the candidate's default stream; k > 0: its k-th other stream (determinism probe)
};

class Candidate {
 public:
  virtual ~Candidate() = default;
  // "builtin", "cublaslt", "plugin:./libmine.so", "cpu:hopper", ... as given to make_candidate().
  virtual std::string name() const = 0;
  // The kernel that computes `op` under recipe r ("fp8_gemm_wgmma_128x128", "cublasLt fp8 1x128/128x128
  // blockscale"), or "" when this candidate does not compute it.
  virtual std::string kernel(const std::string& op, Recipe r) const = 0;
  // Outputs from inputs. `expected` holds the golden's outputs (names, formats, shapes) so that a
  // candidate can allocate them; their values must not be read. Throws std::invalid_argument for inputs
  // it cannot take, std::runtime_error for a device or library failure.
  virtual Outputs run(const std::string& op, const Inputs& in, const Outputs& expected, Recipe r,
                      const RunOptions& opt) = 0;
  virtual int streams() const { return 1; }  // distinct streams run() can use (RunOptions::stream < streams())
  virtual std::string device() const { return "CPU"; }  // "NVIDIA H200 (sm_90)"
  // What the last run() launched, where the kernel chooses per shape ("algo 66 ... splitK 4"); "" if nothing to say.
  virtual std::string last_launch() const { return ""; }
};

// A factory makes a candidate from the text after "prefix:" in a spec ("" when the spec is the bare
// prefix). Registered once per prefix; compare/gpu/ registers "builtin" and "cublaslt" in CUDA builds.
using CandidateFactory = std::function<std::unique_ptr<Candidate>(const std::string& arg)>;
void register_candidate(const std::string& prefix, const std::string& help, CandidateFactory make);
// "builtin", "cublaslt", "plugin:LIB.so", "cpu:RECIPE"; std::invalid_argument naming the known prefixes.
std::unique_ptr<Candidate> make_candidate(const std::string& spec);
std::vector<std::pair<std::string, std::string>> candidate_kinds();  // (prefix, help), for --help

}  // namespace v4::harness
