// Forensics in words (forensics.h): "hopper with K split in 4 (64 each), splits added in order".
#include <string>

#include "compare/harness/forensics.h"
#include "compare/report_common.h"

namespace v4::harness {

namespace {

// The accumulation inside one split, by the recipe name it has when K is not split.
std::string acc_text(const std::string& op, const GemmVariant& v) {
  using Acc = GemmVariant::Acc;
  const bool fp8 = op == "fp8_gemm";
  const bool standard_promotion = !fp8 || (v.promote_every == 128 && v.promote_fma);
  std::string s;
  switch (v.acc) {
    case Acc::fma_chain: s = standard_promotion ? "canonical" : "canonical (exact 128-block partials)"; break;
    case Acc::hopper_chain:
      s = standard_promotion ? "hopper"
                             : "hopper (k32 wgmma chains over every " + std::to_string(v.promote_every) + " K)";
      break;
    case Acc::exact_f32: s = "exact partials rounded to fp32"; break;
    case Acc::exact_direct: s = "exact"; break;
  }
  if (fp8 && !v.promote_fma) s += ", promoted with multiply-then-add instead of fma";
  return s;
}

}  // namespace

std::string GemmVariant::text(const std::string& op, int64_t K) const {
  if (op == "fp8_gemm" && acc == GemmVariant::Acc::hopper_chain && promote_every == K && K > 128)
    return std::string("one k32 wgmma chain over all of K, scaled once at the end (no promotion: fast accumulation)") +
           (promote_fma ? "" : ", scale multiplied then added");
  std::string s = acc_text(op, *this);
  if (splits == 1) return s + ", K unsplit";
  const std::vector<int64_t> b = split_bounds(K, splits, variant_granule(op, *this));
  std::string len = (b.size() > 1 ? std::to_string(b[1] - b[0]) : "?") + " each";
  if (b.size() > 2 && b[b.size() - 1] - b[b.size() - 2] != b[1] - b[0]) len += ", the last " + std::to_string(b.back() - b[b.size() - 2]);
  s += " with K split in " + std::to_string(splits) + " (" + len;
  if (granule) s += ", cut at multiples of " + std::to_string(granule);
  s += "), splits added ";
  switch (reduce) {
    case Reduce::in_order: return s + "in order";
    case Reduce::reversed: return s + "in reverse order";
    case Reduce::tree: return s + "as a pairwise tree";
  }
  return s;
}

std::string ForensicsResult::text() const {
  const std::string at = op + " at M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K);
  if (match) return at + " behaves as " + match->text(op, K) + " (every bit of " + std::to_string(elements) +
                    " elements; " + compare::plural(tried, "variant") + " tried, simplest first)";
  return at + ": no variant reproduces every bit (" + compare::plural(tried, "variant") + " tried); closest: " + best.text(op, K) + ", " +
         std::to_string(best_equal) + " of " + std::to_string(elements) + " elements bit-equal";
}

}  // namespace v4::harness
