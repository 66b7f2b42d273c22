// Exhaustive check of reference/pmath.h: all 2^32 float32 inputs of each function against the
// correctly rounded value. Reference: glibc's long double function (64-bit significand), taken as
// decided when its value +- kLdRelErr rounds to one float; otherwise, and wherever pmath disagrees
// with it, an MPFR interval evaluation with growing precision until both ends round to one float.
// Not run by CI (tests/test_pmath.cpp runs a sample). Prints a Markdown table; exits 1 if any
// function is more than 1 ulp off anywhere, 2 if a self-test fails (the tool's conversions, pmath's
// constants, or the special cases of tests/support/pmath_special_cases.h against MPFR and pmath).
// Usage: check_pmath [--sample N] [--seed S] [function ...]   (functions: default all, from
//        reference/pmath_table.h)
//        check_pmath --list   (prints the function names, one per line, and exits)
#include <mpfr.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "reference/pmath_table.h"
#include "tests/support/pmath_ld_reference.h"
#include "tests/support/pmath_special_cases.h"

namespace v4 {
namespace {

namespace pd = pmath::detail;
namespace spec = pmath_spec;
using pmath_ref::splitmix64;

// ---- The MPFR reference of each function, written from the definitions of docs/pmath.md (not from
// pmath.h); the long double one is tests/support/pmath_ld_reference.h, the special cases that neither
// evaluation gives are pmath_spec::fixed_value.

using MpFn = void (*)(mpfr_t lo, mpfr_t hi, const mpfr_t x);  // [lo, hi] encloses f(x)

// A correctly rounded MPFR function, rounded down and up.
template <int (*F)(mpfr_ptr, mpfr_srcptr, mpfr_rnd_t)>
void mp_direct(mpfr_t lo, mpfr_t hi, const mpfr_t x) {
  F(lo, x, MPFR_RNDD);
  F(hi, x, MPFR_RNDU);
}

// 1/(1 + e^-x) is increasing in x and decreasing in e^-x: round the inner steps the opposite way.
void mp_sigmoid(mpfr_t lo, mpfr_t hi, const mpfr_t x) {
  mpfr_t t;
  mpfr_init2(t, mpfr_get_prec(lo));
  mpfr_neg(t, x, MPFR_RNDN);  // exact: x has 24 bits
  mpfr_exp(t, t, MPFR_RNDU);
  mpfr_add_ui(t, t, 1, MPFR_RNDU);
  mpfr_ui_div(lo, 1, t, MPFR_RNDD);
  mpfr_neg(t, x, MPFR_RNDN);
  mpfr_exp(t, t, MPFR_RNDD);
  mpfr_add_ui(t, t, 1, MPFR_RNDD);
  mpfr_ui_div(hi, 1, t, MPFR_RNDU);
  mpfr_clear(t);
}
void mp_silu(mpfr_t lo, mpfr_t hi, const mpfr_t x) {
  mpfr_t slo, shi;
  mpfr_inits2(mpfr_get_prec(lo), slo, shi, (mpfr_ptr)0);
  mp_sigmoid(slo, shi, x);  // 0 < slo <= shi
  const bool neg = mpfr_signbit(x);
  mpfr_mul(lo, x, neg ? shi : slo, MPFR_RNDD);
  mpfr_mul(hi, x, neg ? slo : shi, MPFR_RNDU);
  mpfr_clears(slo, shi, (mpfr_ptr)0);
}
void mp_softplus(mpfr_t lo, mpfr_t hi, const mpfr_t x) {
  mpfr_exp(lo, x, MPFR_RNDD);
  mpfr_log1p(lo, lo, MPFR_RNDD);
  mpfr_exp(hi, x, MPFR_RNDU);
  mpfr_log1p(hi, hi, MPFR_RNDU);
}

MpFn mp_fn(PmathId id) {
  switch (id) {
    case PmathId::exp: return mp_direct<mpfr_exp>;
    case PmathId::exp2: return mp_direct<mpfr_exp2>;
    case PmathId::log: return mp_direct<mpfr_log>;
    case PmathId::log1p: return mp_direct<mpfr_log1p>;
    case PmathId::expm1: return mp_direct<mpfr_expm1>;
    case PmathId::sigmoid: return mp_sigmoid;
    case PmathId::silu: return mp_silu;
    case PmathId::softplus: return mp_softplus;
    case PmathId::rsqrt: return mp_direct<mpfr_rec_sqrt>;
    case PmathId::sqrt: return mp_direct<mpfr_sqrt>;
    case PmathId::sin: return mp_direct<mpfr_sin>;
    case PmathId::cos: return mp_direct<mpfr_cos>;
  }
  return nullptr;
}

// ---- Reference evaluation.

bool same_bits(float a, float b) { return f32_bits(a) == f32_bits(b); }
std::string hex32(uint32_t u) {
  char b[9];
  std::snprintf(b, sizeof b, "%08x", u);
  return b;
}

// Correctly rounded f(x) from MPFR enclosures of growing precision. NaN comes back canonical.
float mpfr_reference(PmathId id, float x) {
  const MpFn mp = mp_fn(id);
  for (mpfr_prec_t prec = 96; prec <= 16384; prec *= 2) {
    mpfr_t X, lo, hi;
    mpfr_init2(X, 24);
    mpfr_inits2(prec, lo, hi, (mpfr_ptr)0);
    mpfr_set_flt(X, x, MPFR_RNDN);  // exact
    mp(lo, hi, X);
    const float a = mpfr_get_flt(lo, MPFR_RNDN), b = mpfr_get_flt(hi, MPFR_RNDN);
    mpfr_clears(X, lo, hi, (mpfr_ptr)0);
    if (std::isnan(a) && std::isnan(b)) return f32_from_bits(spec::kCanonicalNaN);
    if (same_bits(a, b)) return a;
  }
  std::fprintf(stderr, "FATAL: MPFR could not decide %s(0x%08x) at 16384 bits\n", kPmathTable[int(id)].name,
               f32_bits(x));
  std::exit(3);
}

struct Reference {
  float value;         // correctly rounded f(x)
  long double approx;  // long double evaluation (NaN where none was made)
  bool decided;        // value came from the long double evaluation alone
};

// The long double reference where it decides (pmath_ref::ld_reference), MPFR everywhere else.
Reference reference(PmathId id, float x) {
  const pmath_ref::LdRef r = pmath_ref::ld_reference(id, x);
  return {r.decided ? r.value : mpfr_reference(id, x), r.v, r.decided};
}

// The spec's fixed value or MPFR, no long double: what the special-case table is checked against.
float exact_reference(PmathId id, float x) {
  float s;
  return spec::fixed_value(id, x, &s) ? s : mpfr_reference(id, x);
}

// ---- Tallies.

// Distance in representable floats (ordinal difference; +0 and -0 share ordinal 0). A NaN against a
// number is "infinitely" far (UINT32_MAX).
uint32_t ulp_distance(float got, float want) {
  const bool gn = std::isnan(got), wn = std::isnan(want);
  if (gn || wn) return gn && wn ? 0 : UINT32_MAX;
  const int64_t d = pmath_ref::ordinal(got) - pmath_ref::ordinal(want);
  return uint32_t(std::min<int64_t>(d < 0 ? -d : d, UINT32_MAX));
}

constexpr size_t kListLen = 6;

struct Tally {
  uint64_t inputs = 0, not_cr = 0, over1 = 0, slow = 0, mpfr = 0, ld_wrong = 0;
  uint32_t max_ulp = 0;
  std::vector<uint32_t> worst;                 // first inputs (in sweep order) at max_ulp (if > 0)
  std::vector<std::pair<uint32_t, float>> bad;  // first not correctly rounded inputs and the right value
  std::vector<uint32_t> slow_at;               // first inputs that take the slow path
  double fast_max_rel = 0;                     // max |fast - f| / |f| over non-special inputs
  uint32_t fast_max_at = 0;
  // --sample only:
  uint64_t slow_not_cr = 0;    // the slow stage alone, run on every non-special input
  long double ld_max_rel = 0;  // max relative error of the long double evaluation (vs 256-bit MPFR)

  void merge(const Tally& t) {
    inputs += t.inputs, not_cr += t.not_cr, over1 += t.over1, slow += t.slow, mpfr += t.mpfr;
    ld_wrong += t.ld_wrong, slow_not_cr += t.slow_not_cr;
    if (t.max_ulp > max_ulp) max_ulp = t.max_ulp, worst.clear();
    if (t.max_ulp == max_ulp)
      for (uint32_t u : t.worst)
        if (worst.size() < kListLen) worst.push_back(u);
    for (auto& b : t.bad)
      if (bad.size() < kListLen) bad.push_back(b);
    for (uint32_t u : t.slow_at)
      if (slow_at.size() < kListLen) slow_at.push_back(u);
    if (t.fast_max_rel > fast_max_rel) fast_max_rel = t.fast_max_rel, fast_max_at = t.fast_max_at;
    ld_max_rel = std::max(ld_max_rel, t.ld_max_rel);
  }
};

// One input: compare pmath with the reference; in sample mode also the slow stage alone and the long
// double evaluation against MPFR.
void check_input(PmathId id, uint32_t u, bool sample, Tally& t) {
  const PmathEntry& f = kPmathTable[int(id)];
  const float x = f32_from_bits(u);
  const float got = f.fn(x);
  Reference ref = reference(id, x);
  t.mpfr += !ref.decided;
  if (ref.decided && !same_bits(got, ref.value) && !std::isnan(ref.approx)) {
    // Every disagreement is settled by MPFR: a wrong long double value must not count against pmath.
    const float exact = mpfr_reference(id, x);
    ++t.mpfr;
    if (!same_bits(exact, ref.value)) ++t.ld_wrong, ref.value = exact;
  }
  ++t.inputs;
  const uint32_t d = ulp_distance(got, ref.value);
  if (!same_bits(got, ref.value)) {
    ++t.not_cr;
    if (t.bad.size() < kListLen) t.bad.push_back({u, ref.value});
  }
  if (d > 1) ++t.over1;
  if (d > t.max_ulp) t.max_ulp = d, t.worst.clear();
  if (d == t.max_ulp && d > 0 && t.worst.size() < kListLen) t.worst.push_back(u);

  // --sample: long double accuracy (normal long double results; subnormal ones, e.g. expl(-11000),
  // round to float 0 anyway): distance to the exact value, from a 256-bit MPFR evaluation.
  if (sample && std::isnormal(ref.approx)) {
    mpfr_t X, lo, hi, v;
    mpfr_init2(X, 24);
    mpfr_inits2(256, lo, hi, v, (mpfr_ptr)0);
    mpfr_set_flt(X, x, MPFR_RNDN);
    mp_fn(id)(lo, hi, X);
    mpfr_set_ld(v, ref.approx, MPFR_RNDN);
    mpfr_sub(v, v, lo, MPFR_RNDN);
    mpfr_div(v, v, lo, MPFR_RNDN);
    t.ld_max_rel = std::max(t.ld_max_rel, fabsl(mpfr_get_ld(v, MPFR_RNDN)));
    mpfr_clears(X, lo, hi, v, (mpfr_ptr)0);
  }

  float special;
  if (f.special == nullptr || f.special(x, &special)) return;
  const double y = f.fast(x);
  if (!pd::round_fast(y, &special) && t.slow++ < kListLen) t.slow_at.push_back(u);
  const double rel = pmath_ref::fast_rel_err(y, ref.approx);
  if (rel > t.fast_max_rel) t.fast_max_rel = rel, t.fast_max_at = u;
  if (!sample) return;
  if (!same_bits(f.slow(x), ref.value)) ++t.slow_not_cr;
}

// ---- Inputs.

// --sample: every exponent's boundary patterns (both signs), then n pseudo-random patterns.
std::vector<uint32_t> sample_inputs(uint64_t n, uint64_t seed) {
  std::vector<uint32_t> in;
  for (uint32_t sign = 0; sign < 2; ++sign)
    for (uint32_t e = 0; e < 256; ++e)
      for (uint32_t m : {0u, 1u, 2u, 0x400000u, 0x7FFFFEu, 0x7FFFFFu}) in.push_back(sign << 31 | e << 23 | m);
  for (uint64_t i = 0; i < n; ++i) in.push_back(uint32_t(splitmix64(seed)));
  return in;
}

Tally run(PmathId id, const std::vector<uint32_t>* sample) {
  const uint64_t total = sample ? sample->size() : (uint64_t(1) << 32);
  const int chunks = sample ? int(std::min<uint64_t>(256, total)) : 4096;
  std::vector<Tally> tallies(chunks);
  std::atomic<int> done{0};
  const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel for schedule(dynamic, 1)
  for (int c = 0; c < chunks; ++c) {
    const uint64_t lo = total * c / chunks, hi = total * (c + 1) / chunks;
    for (uint64_t i = lo; i < hi; ++i) check_input(id, sample ? (*sample)[i] : uint32_t(i), sample, tallies[c]);
    const int k = ++done;
    if (k * 16 / chunks != (k - 1) * 16 / chunks) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "  %s: %2d/16 of the inputs, %.0f s\n", kPmathTable[int(id)].name, k * 16 / chunks, s);
    }
  }
  Tally all;
  for (const Tally& t : tallies) all.merge(t);
  return all;
}

// ---- Self-tests: the tool's conversions, pmath's constants, the special-case table.

int self_test() {
  int fails = 0;
  // mpfr_get_flt and long double -> float must round exactly like double -> float (IEEE, SSE),
  // including subnormal results, exact midpoints and the overflow boundary.
  uint64_t s = 12345;
  mpfr_t m;
  mpfr_init2(m, 53);
  for (int i = 0; i < 2000000; ++i) {
    double d;
    const uint64_t r = splitmix64(s);
    if (i % 2) {  // a float, or the midpoint above it (for FLT_MAX: the overflow threshold)
      const float a = f32_from_bits(uint32_t(r) & 0x7F7FFFFFu), b = std::nextafter(a, INFINITY);
      d = i % 4 == 3 ? double(a) : std::isinf(b) ? double(a) + 0x1p103 : 0.5 * (double(a) + double(b));
    } else {
      d = std::ldexp(1.0 + double(r >> 12) * 0x1p-52, int(r % 290) - 160);
    }
    if (r >> 63) d = -d;
    mpfr_set_d(m, d, MPFR_RNDN);
    const float want = float(d);
    if (!same_bits(mpfr_get_flt(m, MPFR_RNDN), want) || !same_bits(float((long double)d), want)) {
      if (fails++ < 5) std::printf("self-test: conversion of %a\n", d);
    }
  }
  mpfr_clear(m);
  // Constants against MPFR at 400 bits.
  mpfr_t c, t;
  mpfr_inits2(400, c, t, (mpfr_ptr)0);
  auto off_by = [&](mpfr_t exact, std::initializer_list<double> parts) {  // log2 |sum(parts) - exact|
    mpfr_set_ui(t, 0, MPFR_RNDN);
    for (double p : parts) mpfr_add_d(t, t, p, MPFR_RNDN);
    mpfr_sub(t, t, exact, MPFR_RNDN);
    return mpfr_zero_p(t) ? -1000.0 : double(mpfr_get_exp(t));
  };
  auto expect = [&](bool ok, const char* what) {
    if (!ok) ++fails, std::printf("self-test: constant %s\n", what);
  };
  mpfr_const_log2(c, MPFR_RNDN);
  expect(off_by(c, {pd::kLn2_1, pd::kLn2_2, pd::kLn2_3}) <= -145, "kLn2_1+kLn2_2+kLn2_3");
  expect(off_by(c, {pd::kLn2, pd::kLn2Tail}) <= -108, "kLn2+kLn2Tail");
  expect(off_by(c, {pd::kLn2_1, pd::kLn2Lo}) <= -102, "kLn2_1+kLn2Lo");
  mpfr_const_pi(c, MPFR_RNDN);
  mpfr_div_2ui(c, c, 1, MPFR_RNDN);
  expect(off_by(c, {pd::kPio2Hi, pd::kPio2Lo}) <= -106, "kPio2Hi+kPio2Lo");
  mpfr_ui_div(c, 1, c, MPFR_RNDN);  // 2/pi
  for (int i = 0; i < 9; ++i) {
    mpfr_mul_2ui(c, c, 32, MPFR_RNDN);
    const unsigned long w = mpfr_get_ui(c, MPFR_RNDZ);
    mpfr_sub_ui(c, c, w, MPFR_RNDN);
    expect(w == pd::two_over_pi_word(i), "two_over_pi_word");
  }
  mpfr_clears(c, t, (mpfr_ptr)0);
  // The special-case table: every `want` is the spec's fixed value or the MPFR value, and pmath's.
  for (const spec::SpecialPoint& p : spec::kSpecialPoints) {
    const char* name = kPmathTable[int(p.id)].name;
    const float x = f32_from_bits(p.in);
    const uint32_t exact = f32_bits(exact_reference(p.id, x)), got = f32_bits(kPmathTable[int(p.id)].fn(x));
    if (exact != p.want && fails++ < 20) std::printf("self-test: table %s(0x%08x) = 0x%08x, MPFR 0x%08x\n", name, p.in, p.want, exact);
    if (got != p.want && fails++ < 20) std::printf("self-test: pmath %s(0x%08x) = 0x%08x, table 0x%08x\n", name, p.in, got, p.want);
  }
  return fails;
}

int check_pmath_main(int argc, char** argv) {
  uint64_t sample_n = 0, seed = 1;
  bool sample = false;
  std::vector<std::string> want;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--sample" && i + 1 < argc) {
      sample = true, sample_n = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--list") {
      for (const PmathEntry& f : kPmathTable) std::printf("%s\n", f.name);
      return 0;
    } else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "usage: check_pmath [--sample N] [--seed S] [function ...] | --list\n");
      return 2;
    } else {
      want.push_back(a);
    }
  }
  for (const std::string& w : want)
    if (pmath_id(w) < 0) {
      std::fprintf(stderr, "unknown function %s\n", w.c_str());
      return 2;
    }
  if (const int fails = self_test()) {
    std::printf("self-test FAILED (%d)\n", fails);
    return 2;
  }
  std::printf("self-test passed (conversions, constants, special cases). threads: %d\n\n", omp_get_max_threads());
  const std::vector<uint32_t> inputs = sample ? sample_inputs(sample_n, seed) : std::vector<uint32_t>{};
  std::printf("%s\n\n", sample ? "sampled inputs (exponent boundaries + pseudo-random)" : "all 2^32 inputs");
  std::printf("| function | inputs | max ulp | not correctly rounded | > 1 ulp | slow path | fast max rel err | "
              "MPFR calls | long double wrong | seconds |%s\n",
              sample ? " slow stage not CR | long double max rel err |" : "");
  std::printf("|---|---|---|---|---|---|---|---|---|---|%s\n", sample ? "---|---|" : "");
  std::vector<std::string> notes;
  int status = 0;
  for (int i = 0; i < kPmathCount; ++i) {
    const PmathEntry& f = kPmathTable[i];
    if (!want.empty() && std::find(want.begin(), want.end(), f.name) == want.end()) continue;
    const auto t0 = std::chrono::steady_clock::now();
    const Tally t = run(PmathId(i), sample ? &inputs : nullptr);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char fast[64] = "-";
    if (f.fast) std::snprintf(fast, sizeof fast, "2^%.1f (0x%08x)", t.fast_max_rel > 0 ? std::log2(t.fast_max_rel) : -999.0, t.fast_max_at);
    std::printf("| %s | %llu | %u | %llu | %llu | %llu | %s | %llu | %llu | %.0f |", f.name, (unsigned long long)t.inputs,
                t.max_ulp, (unsigned long long)t.not_cr, (unsigned long long)t.over1, (unsigned long long)t.slow, fast,
                (unsigned long long)t.mpfr, (unsigned long long)t.ld_wrong, sec);
    if (sample) {
      char ld[32] = "0";
      if (t.ld_max_rel > 0) std::snprintf(ld, sizeof ld, "2^%.1f", std::log2(double(t.ld_max_rel)));
      std::printf(" %s | %s |", f.slow ? std::to_string(t.slow_not_cr).c_str() : "-", ld);
    }
    std::printf("\n");
    std::fflush(stdout);
    for (uint32_t u : t.worst) {
      char line[160];
      std::snprintf(line, sizeof line, "%s worst (%u ulp): x = 0x%08x", f.name, t.max_ulp, u);
      notes.push_back(line);
    }
    if (!t.slow_at.empty()) {
      std::string line = std::string(f.name) + " slow path, first inputs:";
      for (uint32_t u : t.slow_at) line += " 0x" + hex32(u);
      notes.push_back(line);
    }
    for (auto& [u, right] : t.bad) {
      char line[160];
      std::snprintf(line, sizeof line, "%s not correctly rounded: x = 0x%08x got 0x%08x want 0x%08x", f.name, u,
                    f32_bits(f.fn(f32_from_bits(u))), f32_bits(right));
      notes.push_back(line);
    }
    if (t.over1 > 0 || (sample && t.slow_not_cr > 0)) status = 1;
  }
  if (!notes.empty()) std::printf("\n");
  for (const std::string& n : notes) std::printf("- %s\n", n.c_str());
  std::printf("\n%s\n", status ? "FAIL: some function is more than 1 ulp off (or its slow stage is wrong)"
                               : "PASS: every function within 1 ulp");
  return status;
}

}  // namespace
}  // namespace v4

int main(int argc, char** argv) { return v4::check_pmath_main(argc, argv); }
