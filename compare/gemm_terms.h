// Dot-product terms of GEMM outputs (internal to compare/; docs/compare.md §Metrics): for a golden
// written by `v4oracle op` for a GEMM (bf16_gemm, f32_gemm, fp8_gemm, fp4_gemm: c[m, n] =
// Σ_k a[m, k] b[n, k], with block scales applied), the sum of absolute terms S = Σ_k |a b| of the listed
// worst elements of /c, from the golden's own inputs, and whether each error is within what
// accumulation and output rounding allow at the terms' scale — the words that tell catastrophic
// cancellation from a fault.
#pragma once
#include "compare/compare.h"
#include "compare/stream.h"

namespace v4::compare {

// Fills TensorResult::terms (and terms_text) of the GEMM output /c of each run when the golden is a
// GEMM op file; other files are left alone.
void attach_gemm_terms(const OpenFile& golden, std::vector<TensorResult>& tensors);

}  // namespace v4::compare
