// Recipe forensics (docs/gpu-check.md §Forensics): when a candidate's GEMM output differs from the
// golden, search a family of accumulation schemes -- split-K count and the order the splits are reduced
// in, the per-split accumulation (fp32 fma chain, Hopper wgmma chain, exact), and for FP8 the promotion
// interval and fma vs multiply-then-add at promotion -- for the one that reproduces its bits exactly.
// Every variant is built from reference/gemm.h's public functions run on K-slices of the operands; only
// the promotion and the reduction of the split partials are written here.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compare/harness/candidate.h"

namespace v4::harness {

struct GemmVariant {
  enum class Acc { fma_chain, hopper_chain, exact_f32, exact_direct };
  enum class Reduce { in_order, reversed, tree };
  int64_t splits = 1;               // contiguous K parts (docs/gpu-check.md: split_bounds)
  Reduce reduce = Reduce::in_order;  // how the splits' fp32 partials are added (fp32 RN adds)
  // Per split: fma_chain: fp32 fma in k (bf16/f32) or exact 128-block partials rounded to fp32 (fp8);
  // hopper_chain: wgmma chains (bf16: over the whole split; fp8: over each promote_every group);
  // exact_f32: the split's exact dot product rounded to fp32; exact_direct: the exact recipe (unsplit,
  // rounded once to the output format).
  Acc acc = Acc::fma_chain;
  int64_t promote_every = 128;  // fp8: K elements per partial promoted into the fp32 accumulator
  bool promote_fma = true;      // fp8: acc = fma(d, sa·sb, acc); false: acc = acc + fp32(d · (sa·sb))
  std::string text(const std::string& op, int64_t K) const;  // "hopper with K split in 4 (64 each), splits added in order"
  bool operator==(const GemmVariant&) const = default;
};

// The K boundaries of `splits` contiguous parts: each ceil(K / splits) rounded up to `granule`, the last
// one shorter; empty when that leaves a part empty (the variant then duplicates one with fewer splits).
std::vector<int64_t> split_bounds(int64_t K, int64_t splits, int64_t granule);

bool forensics_supports(const std::string& op);  // bf16_gemm, f32_gemm, fp8_gemm
// The family for op at this K, in search order (simplest first: unsplit, in-order, fma before hopper).
std::vector<GemmVariant> gemm_variants(const std::string& op, int64_t K);
// The output c of one variant on the op's inputs (same format and shape as the op's c).
Tensor gemm_variant_output(const std::string& op, const Inputs& in, const GemmVariant& v);

struct ForensicsResult {
  std::string op;
  int64_t M = 0, N = 0, K = 0;
  int64_t tried = 0, elements = 0;
  std::optional<GemmVariant> match;  // the first variant reproducing every bit
  GemmVariant best;                  // the variant with the most bit-equal elements (= match when found)
  int64_t best_equal = 0;
  std::string text() const;  // one sentence
};

// Searches gemm_variants for c (the candidate's output for `in`); stops at the first exact match.
ForensicsResult recipe_forensics(const std::string& op, const Inputs& in, const Tensor& c);

}  // namespace v4::harness
