// The batch-invariance and determinism probes of gpu-check (docs/gpu-check.md §Probes).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compare/harness/candidate.h"
#include "compare/harness/forensics.h"

namespace v4::harness {

// 1, 2, 3, 7, 8 and both sides of the powers of two a kernel's tiles switch at, up to 1024.
inline const std::vector<int64_t> kDefaultBatchSizes = {1, 2, 3, 7, 8, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1023, 1024};
inline constexpr const char* kPositionNames[3] = {"first", "middle", "last"};
inline constexpr int kDefaultRepeats = 5;
inline constexpr int64_t kMaxProbeRows = 64;  // probe rows: the inputs' first rows, at most this many

struct BatchSetup {
  std::string op;
  Recipe recipe = Recipe::canonical;
  Inputs inputs;  // the golden's inputs: the probe rows are the first rows of each batched input
  Outputs golden;  // the golden's outputs (names, formats and trailing shapes)
  // Extra rows for the random neighbours, per batched input (same trailing shape); the inputs' own rows
  // are always in the pool. Empty: the inputs' rows only.
  std::map<std::string, Tensor> pool;
  uint64_t seed = 0;  // picks the neighbours
};

// One placement: the first `rows` probe rows (min(batch, probe rows)) as one block starting at batch row
// `position`, every other row a random neighbour.
struct BatchCell {
  int64_t batch = 0, position = 0, rows = 0;
  int64_t differ = 0;        // elements of the block's outputs whose bits differ from each row run alone
  std::string first_output;  // where the first of them is ("" when none)
  int64_t first_row = -1;    // its row in the batch
  int64_t first_col = -1;    // its flat index within that row's output
  std::string first_bits;    // "0x3f80 (1) vs 0x3f81 (1.0078125)": alone vs in the batch
  std::vector<std::string> matches;  // when differ: the CPU recipes the changed block equals
};

struct BatchProbe {
  std::string skipped;  // why the probe did not run ("" when it did)
  std::string kernel;
  int64_t probe_rows = 0;      // rows each run alone (batch 1) for the reference results
  int64_t row_elements = 0;    // output elements of one row
  int64_t neighbour_pool = 0;  // rows the neighbours were drawn from
  std::vector<int64_t> sizes;
  std::vector<BatchCell> cells;                // sizes.size() x 3 (first, middle, last), row-major
  std::vector<std::string> baseline_matches;   // the CPU recipes the batch-1 results equal
  int64_t first_break = -1;                    // index into cells, -1: invariant
  std::optional<ForensicsResult> baseline_forensics, break_forensics;  // GEMMs, when it breaks
  bool ran() const { return skipped.empty(); }
  bool invariant() const { return first_break < 0; }
};

// Runs each probe row alone (batch 1), then places the probe rows as one block at the first, middle and
// last position of a batch of every size, the other rows random neighbours, and compares the block's
// outputs bitwise with the batch-1 results.
BatchProbe probe_batch(Candidate& cand, const BatchSetup& setup, const std::vector<int64_t>& sizes);

struct Launch {
  int run = 0;     // 1-based launch number
  int stream = 0;  // RunOptions::stream
  int64_t differ = 0;
  std::string first_output;
  int64_t first_index = -1;
  std::string first_bits;  // launch 1 vs this launch, as BatchCell::first_bits
};
struct DeterminismProbe {
  std::string skipped;
  int repeats = 0, streams = 1;
  std::vector<Launch> launches;  // every launch after the first, each compared with the first
  int64_t first_diff = -1;       // index into launches
  bool ran() const { return skipped.empty(); }
  bool deterministic() const { return first_diff < 0; }
};

// `repeats` launches on stream 0, then one on each other stream the candidate has, each compared bitwise
// with the first launch.
DeterminismProbe probe_determinism(Candidate& cand, const std::string& op, const Inputs& in, const Outputs& expected,
                                   Recipe r, int repeats);

}  // namespace v4::harness
