// gpu-check (docs/gpu-check.md): runs a candidate on the golden's inputs, diffs every output with the
// comparator, probes the candidate for batch invariance and determinism, and names the accumulation
// scheme a differing GEMM follows. The CLI front end is cli/cmd_gpu_check.cpp; the reports are
// gpu_check_report.cpp.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compare/compare.h"
#include "compare/harness/candidate.h"
#include "compare/harness/forensics.h"
#include "compare/harness/probes.h"
#include "golden/ops.h"

namespace v4::harness {

inline constexpr int64_t kNeighbourPoolRows = 256;  // seeded neighbour rows drawn for the batch probe

struct GpuCheckOptions {
  std::string op;
  std::string candidate = "builtin";
  std::optional<std::string> inputs_path;  // replay; else seeded
  uint64_t seed = 0;
  golden::ShapeParams shape;
  Recipe recipe = Recipe::canonical;
  bool probe_batch = true, probe_determinism = true;
  std::vector<int64_t> batch_sizes = kDefaultBatchSizes;
  int repeats = kDefaultRepeats;
  compare::CompareOptions compare;
  std::string out_dir;  // keeps golden.h5 and candidate.h5 there; "": a private temp dir, removed
};

struct GpuCheckResult {
  std::string op, candidate, kernel, device, origin;
  std::string launch;  // what the kernel chose for the golden's inputs (Candidate::last_launch; "" if nothing)
  bool has_recipe = false;
  Recipe recipe = Recipe::canonical;
  compare::CompareResult diff;               // golden vs candidate, output by output
  std::optional<ForensicsResult> forensics;  // a differing GEMM output's recipe
  BatchProbe batch;
  DeterminismProbe determinism;
  std::string golden_file, candidate_file;  // kept files ("" when removed)
  bool equal() const { return diff.pass(); }
  bool pass() const;  // equal, batch invariant and deterministic (probes that ran)
  std::vector<std::string> problems() const;  // one line per failing part
};

// Candidate made from opt.candidate (make_candidate). std::invalid_argument / golden::InputError for bad
// usage or input (unknown op, a candidate that does not compute the op, a plug-in that will not load).
GpuCheckResult gpu_check(const GpuCheckOptions& opt);
// The same with a candidate made by the caller (tests: stand-ins that are not registered).
GpuCheckResult gpu_check(const GpuCheckOptions& opt, Candidate& cand);

}  // namespace v4::harness
