// The comparator (docs/compare.md): walks a golden file in model order and compares every dataset
// with the candidate's, streaming both in bounded chunks; format-aware metrics (metrics.h), index-tensor
// and quantized-tensor awareness, policies (policy.h), the verdict (first tensor in model order over its
// budget), and per-layer summaries, with teacher-forced and free-running runs side by side.
// compare_files throws golden::InputError (exit 2) for any bad or mismatched input, before any report
// is written.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compare/metrics.h"
#include "compare/policy.h"
#include "golden/file_meta.h"
#include "golden/golden_schema.h"

namespace v4::compare {

// Runs a candidate may hold: "" (datasets at the golden's paths), or the two groups below, each
// holding the golden's paths underneath (e.g. /teacher_forced/layers/3/attn/out).
inline constexpr const char* kRunTeacherForced = "teacher_forced";  // each layer fed golden inputs: local error
inline constexpr const char* kRunFreeRunning = "free_running";      // the model run end to end: accumulated error

// Index tensor (kind = topk_indices) analysis, per row of the [rows, k] view.
struct IndexStats {
  std::string scores;          // the golden's scores dataset
  int64_t rows = 0, k = 0;
  int64_t rows_differ = 0;     // rows with any difference
  int64_t rows_tie_flip = 0;   // rows whose every difference is explained by equal scores
  int64_t rows_real = 0;       // rows with at least one unexplained difference
  int64_t set_diff = 0;        // Σ over rows of |golden \ candidate|
  int64_t order_diff = 0;      // Σ over rows of positions holding a different index
  int64_t first_tie_row = -1, first_real_row = -1;
  std::string first_tie_detail, first_real_detail;  // one line each: indices and their scores
};

// Quantized / rounded tensor analysis: code flips, and whether each flip sits on a rounding tie.
struct QuantStats {
  std::string scale;   // scale dataset ("" when none)
  std::string source;  // pre-rounding values dataset ("" when none)
  std::vector<int64_t> block;
  int64_t flips = 0;           // elements whose codes differ (NaN pairs excluded)
  int64_t flips_on_tie = 0;    // value exactly at the midpoint of the two codes
  int64_t flips_not_tie = 0;
  int64_t flips_tie_unknown = 0;  // no `source` in the golden: cannot tell
  int64_t scale_mismatch = -1;    // scale elements that differ (filled from the scale dataset's result; -1 unknown)
  uint64_t scale_max_steps = 0;   // their max exponent (or ulp) distance
};

// A dataset's role, from the golden's root attribute `outputs` (what `v4oracle op` writes: the op's
// output paths; every other dataset of such a file is one of its inputs, copied into the candidate).
// A golden without `outputs` (a model golden) has no inputs: every dataset is compared as an output.
inline constexpr const char* kRoleInput = "input";
inline constexpr const char* kRoleOutput = "output";

// A GEMM output element against its dot-product terms (gemm_terms.h).
struct TermCheck {
  int64_t index = -1;      // flat index into the output
  double golden = 0, err = 0;  // golden value, |candidate - golden|
  double abs_terms = 0;    // S = Σ_k |a[m, k] b[n, k]| (scales applied), in double
  double bound = 0;        // what fp32 accumulation and output rounding allow: 2 K 2^-24 S + u_out (|g| + |c|)
  bool within = false;     // err <= bound
  bool cancellation = false;  // within, but over the same bound with |g| in place of S: S >> |g|
};

struct TensorResult {
  std::string run;       // "", kRunTeacherForced or kRunFreeRunning
  std::string path;      // golden dataset path
  std::string candidate_path;  // where it was read in the candidate (differs with --map or runs)
  bool cast = false;           // candidate values were cast to the golden's format (--candidate-cast)
  std::string role = kRoleOutput;  // kRoleInput or kRoleOutput
  std::string layer, component, tensor;
  Fmt fmt = Fmt::f32;
  std::vector<int64_t> shape;
  PolicyRule rule;
  TensorStats stats;
  std::optional<IndexStats> index;
  std::optional<QuantStats> quant;
  bool pass = true;
  std::string why;  // one line when !pass: the budget and what broke it
  // Plot data, kept only for the first kPlottedFailures failing tensors of each run: the mismatch
  // heatmap (grid_rows x grid_cols cells, GridMap) and the error against |golden| (ErrorDensity).
  int grid_rows = 0, grid_cols = 0;
  std::vector<int64_t> grid_count;
  std::vector<uint64_t> grid_max;
  std::optional<ErrorDensity> density;
  int64_t first_index = -1;  // the element first_text describes
  // Decoded first/worst mismatch values, filled for every failing tensor.
  std::string first_text, worst_text;  // "[i, j]: golden 0x3f80 (1) candidate 0x3f81 (1.0078125), 1 ulp (bf16)"
  std::vector<std::string> top_text;   // stats.top decoded the same way, worst first
  std::vector<TermCheck> terms;        // GEMM outputs of an op golden: per stats.top element
  std::string terms_text;              // one sentence in words on the worst element's terms
};

// Failing tensors per run whose plots (heatmap, error density) the reports keep, in model order.
inline constexpr int kPlottedFailures = 4;

struct LayerSummary {
  std::string run, layer;
  int64_t tensors = 0, tensors_bit_equal = 0, tensors_failed = 0;
  int64_t elements = 0, elements_bit_equal = 0;
  double max_nmse = 0;          // over float tensors
  uint64_t max_steps = 0;       // largest distance in any tensor (units differ per format; see worst_tensor)
  std::string worst_tensor;     // path of the tensor with the largest NMSE (or steps)
  std::string first_failed;     // path of the first failing tensor of this layer, "" when none
};

struct CompareOptions {
  Policy policy;
  int64_t chunk_bytes = int64_t(64) << 20;  // per file per read; memory is about 2 x this
  bool verify_hash = false;                 // recompute each dataset's sha256 (slow; both files)
  int grid_rows = 48, grid_cols = 96;
  bool strict = false;  // a policy rule that matches no dataset is bad input (exit 2), not a warning
  // false: a candidate may hold only some of the golden's datasets (a kernel dumps its outputs); the
  // others are listed as not in the candidate. true: every golden dataset must be there (exit 2 if not).
  bool require_all = false;
  // Candidate path -> golden path (--map FILE), so a framework's own names compare without renaming.
  std::vector<std::pair<std::string, std::string>> name_map;
  std::string name_map_file;
  // --candidate-cast bf16: float32 candidate datasets whose golden is bf16 are rounded with the
  // project's bf16 rule (reference/formats.h bf16_encode: RNE, overflow to inf, NaN to 0x7FFF) first.
  std::optional<Fmt> candidate_cast;
};

// Reads a --map file: one `<candidate path> <golden path>` pair per line ('#' comment lines, blank
// lines skipped; a missing leading '/' is added). InputError (file, "line N", ...) on a malformed line
// or a candidate path given twice.
std::vector<std::pair<std::string, std::string>> load_name_map(const std::string& path);

struct CompareResult {
  std::string golden_path, candidate_path;
  golden::FileMeta golden_meta, candidate_meta;
  PolicyRule policy_default;
  std::vector<PolicyRule> policy_rules;
  std::string policy_file;
  std::vector<std::string> runs;       // in report order
  std::vector<TensorResult> tensors;   // per run, in model order (runs concatenated)
  std::vector<LayerSummary> layers;    // per run, in model order
  std::vector<std::string> candidate_extra;  // candidate datasets the golden lacks (ignored)
  std::vector<std::string> warnings;         // one line each (e.g. a policy rule matching no dataset)
  std::vector<std::string> not_in_candidate; // golden datasets (with run prefix) the candidate lacks, not compared
  int64_t elements = 0, bytes_read = 0;
  double seconds = 0;
  bool pass() const;
  // Index into tensors of the first failing tensor of a run, or -1.
  int64_t first_failure(const std::string& run) const;
  // The verdict tensor: the first failure of the teacher-forced run if present (it localizes a kernel
  // bug), else of the single run, else of the free-running run; -1 when all pass.
  int64_t verdict() const;
};

CompareResult compare_files(const std::string& golden_path, const std::string& candidate_path,
                            const CompareOptions& opt);

// Every differing element of every compared tensor that is not bit-equal, as CSV (header `run,path,
// index,coords,golden_bits,candidate_bits,golden_value,candidate_value,steps,abs_err,rel_err`), in model
// order and flat index order: the tensors of `r` are streamed once more. Held in memory (about 100
// bytes per differing element).
std::string mismatches_csv(const CompareResult& r, const CompareOptions& opt);

// Splits a golden dataset path into (layer, component, tensor): /layers/<L>/<C>/<rest> -> (L, C, rest);
// a root dataset /x -> (root_name, root_name, x); anything else /a/b/.../t -> ("-", "a/b/...", t).
struct PathParts {
  std::string layer, component, tensor;
};
PathParts split_model_path(const std::string& path, const std::string& root_name);

}  // namespace v4::compare
