// Dot-product terms of GEMM outputs: see gemm_terms.h. The golden's inputs are read whole (op files of
// one GEMM), decoded by compare/metrics.h's elem_read with their block scales, and only the listed
// worst elements of /c get their K terms summed: at most kTopN x K products.
#include "compare/gemm_terms.h"

#include <cmath>
#include <cstdio>
#include <set>

#include "compare/metrics.h"
#include "golden/file_meta.h"

namespace v4::compare {

namespace {

// Error bound of one output element at the terms' scale. Recursive fp32 summation of K terms errs by at
// most (K - 1) u S + O(u^2) with u = 2^-24 and S = Σ|terms| (Higham, Accuracy and Stability of Numerical
// Algorithms, 2nd ed., eq. 4.4), for any order or blocking of the sum; golden and candidate each carry
// such an error, and each rounds its fp32 sum once to the output format (at most u_out of its own
// magnitude; u_out = 2^-9 for bf16, 2^-24 for f32). So |c - g| <= 2 K u S + u_out (|g| + |c|) when both
// accumulate in fp32 (K for K - 1 covers the O(u^2) terms). Recipes that round partial sums more
// coarsely than fp32 (hopper's 13-bit truncation per k32 step) can exceed it: then the words say the
// error is beyond this bound, not that the kernel is wrong.
constexpr double kU32 = 0x1p-24;
double unit_roundoff(Fmt out) { return out == Fmt::bf16 ? 0x1p-9 : kU32; }

// A [rows, K] matrix of the golden with its block scales decoded, for value(r, k).
struct Operand {
  golden::TensorInfo info;
  Tensor t, scale;
  golden::TensorInfo scale_info;
  int64_t K = 0, scale_cols = 1;
  Operand(const OpenFile& g, const std::string& ds) : info(g.h5.info(ds)), t(g.h5.read(ds)) {
    K = info.shape.size() == 2 ? info.shape[1] : 0;
    if (!info.attrs.scale.empty() && info.attrs.block.size() == 2) {
      scale_info = g.h5.info(info.attrs.scale);
      scale = g.h5.read(info.attrs.scale);
      scale_cols = scale_info.shape.size() == 2 ? scale_info.shape[1] : 1;
    }
  }
  double value(int64_t r, int64_t k) const {
    const int64_t row_len = info.fmt == Fmt::e2m1x2 && (K & 1) ? K : 0;
    double v = elem_read(info.fmt, t.data.data(), r * K + k, row_len).value;
    if (!scale.data.empty())
      v *= elem_read(scale_info.fmt, scale.data.data(),
                     (r / info.attrs.block[0]) * scale_cols + k / info.attrs.block[1]).value;
    return v;
  }
};

std::string sci(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

}  // namespace

void attach_gemm_terms(const OpenFile& g, std::vector<TensorResult>& tensors) {
  static const std::set<std::string> kGemms = {"bf16_gemm", "f32_gemm", "fp8_gemm", "fp4_gemm"};
  if (g.meta.kind != "op" || !kGemms.count(g.meta.name) || !g.h5.has("/a") || !g.h5.has("/b")) return;
  std::optional<Operand> a, b;
  for (TensorResult& t : tensors) {
    if (t.path != "/c" || t.stats.top.empty() || t.shape.size() != 2) continue;
    if (!a) a.emplace(g, "/a"), b.emplace(g, "/b");
    const int64_t N = t.shape[1], K = a->K;
    if (K <= 0 || b->K != K) return;
    const double accum = 2 * double(K) * kU32, u_out = unit_roundoff(t.fmt);
    for (const ElemRef& e : t.stats.top) {
      TermCheck c;
      c.index = e.index;
      const int64_t m = e.index / N, n = e.index % N;
      for (int64_t k = 0; k < K; ++k) c.abs_terms += std::fabs(a->value(m, k) * b->value(n, k));
      const Elem x = elem_from_bits(t.fmt, e.a_bits), y = elem_from_bits(t.fmt, e.b_bits);
      if (x.cls == Cls::finite && y.cls == Cls::finite) {
        c.golden = x.value;
        c.err = std::fabs(x.value - y.value);
        const double rounding = u_out * (std::fabs(x.value) + std::fabs(y.value));
        c.bound = accum * c.abs_terms + rounding;
        c.within = c.err <= c.bound;
        // The same bound with the output's own magnitude in place of S: what an ulp-level check assumes.
        c.cancellation = c.within && c.err > accum * std::fabs(x.value) + rounding;
      }
      t.terms.push_back(c);
    }
    const TermCheck& w = t.terms.front();  // the worst element
    std::string s = "worst element " + coords_text(t.shape, w.index) + ": golden " + sci(w.golden) +
                    ", its K = " + std::to_string(K) + " terms sum to " + sci(w.abs_terms) +
                    " in absolute value (sum |a_k b_k|); the error " + sci(w.err) + " is " +
                    sci(w.abs_terms > 0 ? w.err / w.abs_terms : 0) + " of that sum";
    if (w.cancellation)
      s += ": catastrophic cancellation - the output is " + sci(w.abs_terms / std::max(std::fabs(w.golden), 1e-300)) +
           " times smaller than its terms, so accumulation-order rounding at the terms' scale (bound " + sci(w.bound) +
           ") moves it by many of its own ulps; not a fault at this element";
    else if (w.within)
      s += ", within the accumulation and rounding bound " + sci(w.bound);
    else
      s += ", beyond the accumulation and rounding bound " + sci(w.bound) + ": not explained by cancellation";
    t.terms_text = s;
  }
}

}  // namespace v4::compare
