// The comparator's driver: see compare.h. compare_files runs in named phases: open both files and
// match every golden dataset with the candidate's in each run (match_datasets), validate the golden's
// links (validate_links) and, on request, the content hashes -- all before any tensor data is read, so
// bad input fails fast with one line -- then compare each pair (compare_tensor: streamed in bounded
// ranges by stream.h, with the tie analysis of tie_analysis.h, then its verdict), and summarize per
// layer. Streaming and tie analysis live in their own files; this one decides what to compare and what
// the numbers mean under the policy.
#include "compare/compare.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <map>
#include <optional>
#include <fstream>
#include <set>
#include <sstream>

#include "compare/report_common.h"
#include "compare/stream.h"
#include "compare/gemm_terms.h"
#include "compare/tie_analysis.h"
#include "reference/formats.h"

namespace v4::compare {

using golden::InputError;
using golden::TensorInfo;

namespace {

// One golden dataset paired with the candidate's in one run; format and logical shape already agree.
struct Planned {
  std::string run, golden_ds, cand_ds;
  TensorInfo ginfo, cinfo;
  golden::TensorLinks links;
  PolicyRule rule;
  std::string role = kRoleOutput;
  bool cast = false;  // candidate f32 rounded to the golden's bf16 (--candidate-cast)
};

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// ---------------------------------------------------------------------------------------------
// Phase 1: runs and pairing
// ---------------------------------------------------------------------------------------------

// The runs a candidate holds, in report order: its run groups, or the single run "".
std::vector<std::string> find_runs(const std::vector<std::string>& cds) {
  bool has_tf = false, has_fr = false;
  for (const std::string& d : cds) {
    has_tf = has_tf || starts_with(d, std::string("/") + kRunTeacherForced + "/");
    has_fr = has_fr || starts_with(d, std::string("/") + kRunFreeRunning + "/");
  }
  std::vector<std::string> runs;
  if (has_tf) runs.push_back(kRunTeacherForced);
  if (has_fr) runs.push_back(kRunFreeRunning);
  if (runs.empty()) runs.push_back("");
  return runs;
}

// The golden's output datasets, from its root attribute `outputs` (comma-separated paths); nullopt
// when it has none (every dataset then counts as an output).
std::optional<std::set<std::string>> golden_outputs(const OpenFile& g) {
  const std::optional<std::string> list = g.h5.root_str(golden::kAttrOutputs);
  if (!list) return std::nullopt;
  std::set<std::string> out;
  for (size_t i = 0; i <= list->size();) {
    const size_t j = std::min(list->find(',', i), list->size());
    if (j > i) out.insert(list->substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// Every golden dataset in every run, in model order per run, matched with the candidate's dataset
// (at the same path, or the one --map names): InputError when it differs in format or logical shape,
// is a group, or (require_all) is missing; otherwise a missing one is listed in res.not_in_candidate. Fills res.runs
// and res.candidate_extra.
std::vector<Planned> match_datasets(const OpenFile& g, const OpenFile& c, const CompareOptions& opt, CompareResult& res) {
  const std::vector<std::string> gds = g.h5.datasets(), cds = c.h5.datasets();
  if (gds.empty()) throw InputError(g.path, "", "holds no datasets");
  const std::set<std::string> cset(cds.begin(), cds.end()), gset(gds.begin(), gds.end());
  std::map<std::string, std::string> cand_of;  // golden path -> candidate path (without run prefix)
  for (const auto& [cp, gp] : opt.name_map) {
    if (!gset.count(gp))
      throw InputError(opt.name_map_file, cp, "maps to '" + gp + "', which names no dataset of the golden " + g.path);
    if (!cand_of.emplace(gp, cp).second)
      throw InputError(opt.name_map_file, cp, "maps to '" + gp + "', which another candidate path maps to already");
  }
  res.runs = find_runs(cds);
  std::vector<Planned> plan;
  std::set<std::string> used;
  const std::optional<std::set<std::string>> outputs = golden_outputs(g);
  for (const std::string& run : res.runs) {
    for (const std::string& ds : gds) {
      Planned p;
      p.run = run;
      p.golden_ds = ds;
      const auto m = cand_of.find(ds);
      const std::string base = m == cand_of.end() ? ds : m->second;
      p.cand_ds = run.empty() ? base : "/" + run + base;
      p.ginfo = g.h5.info(ds);
      if (!cset.count(p.cand_ds)) {
        if (c.h5.has_group(p.cand_ds))  // not "missing": the candidate put a group where the golden has data
          throw InputError(c.path, p.cand_ds,
                           std::string("is a group, not a dataset (the golden has ") + fmt_name(p.ginfo.fmt) + " " +
                               shape_str(p.ginfo.shape) + " here)");
        if (opt.require_all)
          throw InputError(c.path, p.cand_ds,
                           std::string("missing: the golden has this dataset (") + fmt_name(p.ginfo.fmt) + " " +
                               shape_str(p.ginfo.shape) + "; --require-all)");
        res.not_in_candidate.push_back(run.empty() ? ds : "/" + run + ds);
        continue;
      }
      used.insert(p.cand_ds);
      p.cinfo = c.h5.info(p.cand_ds);
      if (p.cinfo.fmt != p.ginfo.fmt) {
        p.cast = opt.candidate_cast && *opt.candidate_cast == p.ginfo.fmt && p.cinfo.fmt == Fmt::f32;
        if (!p.cast)
          throw InputError(c.path, p.cand_ds,
                           std::string("format ") + fmt_name(p.cinfo.fmt) + " (stored as " +
                               fmt_storage_name(p.cinfo.fmt) + ") but the golden's is " + fmt_name(p.ginfo.fmt) +
                               " (stored as " + fmt_storage_name(p.ginfo.fmt) + ")" +
                               (p.cinfo.fmt == Fmt::f32 && p.ginfo.fmt == Fmt::bf16
                                    ? "; --candidate-cast bf16 rounds float32 values to bf16 first"
                                    : ""));
      }
      if (p.cinfo.shape != p.ginfo.shape)
        throw InputError(c.path, p.cand_ds,
                         "logical shape " + shape_str(p.cinfo.shape) + " but the golden's is " + shape_str(p.ginfo.shape));
      p.links = g.schema.links(ds);
      p.rule = opt.policy.match(ds);
      if (outputs && !outputs->count(ds)) p.role = kRoleInput;
      plan.push_back(std::move(p));
    }
  }
  if (plan.empty())
    throw InputError(c.path, "", "holds none of the golden's datasets (the golden's first is " + gds.front() +
                                     (opt.name_map.empty() ? std::string("; --map FILE maps other names to it)") : ")"));
  for (const std::string& d : cds)
    if (!used.count(d)) res.candidate_extra.push_back(d);
  return plan;
}

// Policy rules whose pattern matches no golden dataset: a warning each, or bad input under --strict
// (a CI gate must not pass because a rule silently fell back to the default budget).
void check_policy_rules(const OpenFile& g, const CompareOptions& opt, CompareResult& res) {
  const std::vector<PolicyRule>& rules = opt.policy.rules();
  for (size_t i : opt.policy.unmatched_rules(g.h5.datasets())) {
    const PolicyRule& r = rules[i];
    std::string msg = "policy rule '" + r.pattern + " " + r.budget.text() + "' matches no dataset of the golden";
    if (!r.pattern.empty() && r.pattern[0] == '/')
      msg += " (patterns match the path without its leading '/': write '" + r.pattern.substr(1) + "')";
    const std::string where = opt.policy.file().empty() ? std::string("policy") : opt.policy.file();
    const std::string line = r.line > 0 ? "line " + std::to_string(r.line) : "rule " + std::to_string(i + 1);
    if (opt.strict) throw InputError(where, line, msg + "; --strict makes this an error");
    res.warnings.push_back(where + ": " + line + ": " + msg);
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 2: the golden's links and the content hashes, checked once before any data is read
// ---------------------------------------------------------------------------------------------

// A link `what` of golden dataset ds names a dataset of the file in one of fmts.
void check_link_target(const OpenFile& g, const std::string& ds, const std::string& what, const std::string& target,
                       std::initializer_list<Fmt> fmts) {
  if (!g.h5.has(target))
    throw InputError(g.path, ds, what + " '" + target + "' names no dataset in this file");
  const TensorInfo t = g.h5.info(target);
  for (Fmt f : fmts)
    if (t.fmt == f) return;
  throw InputError(g.path, ds, what + " '" + target + "' has format " + fmt_name(t.fmt) + ", which cannot serve as " + what);
}

// The golden's links (scores of index tensors, source and scale of quantized ones) name datasets of
// a usable format and shape. The golden is the same in every run, so the first run's pairs suffice.
void validate_links(const OpenFile& g, const std::vector<Planned>& plan, const std::string& first_run) {
  for (const Planned& p : plan) {
    if (p.run != first_run) break;
    if (p.links.kind == golden::kKindTopkIndices) {
      if (p.ginfo.fmt != Fmt::i32 && p.ginfo.fmt != Fmt::i64)
        throw InputError(g.path, p.golden_ds, "kind topk_indices needs format i32 or i64");
      check_link_target(g, p.golden_ds, "scores", p.links.scores, {Fmt::f32, Fmt::bf16});
      const TensorInfo s = g.h5.info(p.links.scores);
      if (p.ginfo.shape.empty() || s.shape.size() != p.ginfo.shape.size() ||
          !std::equal(s.shape.begin(), s.shape.end() - 1, p.ginfo.shape.begin()))
        throw InputError(g.path, p.golden_ds,
                         "topk indices " + shape_str(p.ginfo.shape) + " and scores " + shape_str(s.shape) +
                             " must share every dimension but the last");
    }
    if (!p.links.source.empty()) {
      check_link_target(g, p.golden_ds, "source", p.links.source, {Fmt::f32, Fmt::bf16});
      if (g.h5.info(p.links.source).shape != p.ginfo.shape)
        throw InputError(g.path, p.golden_ds, "source '" + p.links.source + "' has another logical shape");
    }
    if (!p.ginfo.attrs.scale.empty()) {
      check_link_target(g, p.golden_ds, "scale", p.ginfo.attrs.scale, {Fmt::ue8m0, Fmt::f32, Fmt::bf16});
      const TensorInfo s = g.h5.info(p.ginfo.attrs.scale);
      std::vector<int64_t> want;
      for (size_t d = 0; d < p.ginfo.shape.size() && d < p.ginfo.attrs.block.size(); ++d)
        want.push_back((p.ginfo.shape[d] + p.ginfo.attrs.block[d] - 1) / p.ginfo.attrs.block[d]);
      if (p.ginfo.attrs.block.empty() || s.shape != want)
        throw InputError(g.path, p.golden_ds,
                         "scale '" + p.ginfo.attrs.scale + "' has shape " + shape_str(s.shape) +
                             ", expected ceil(logical shape / block) = " + shape_str(want));
    }
  }
}

// Recomputes the sha256 of every dataset that carries one (the golden's once, the candidate's per run).
void verify_hashes(const OpenFile& g, const OpenFile& c, const std::vector<Planned>& plan, const std::string& first_run) {
  const auto verify = [](const OpenFile& f, const std::string& ds, const TensorInfo& info) {
    if (!info.sha256.empty() && !f.h5.verify_hash(ds))
      throw InputError(f.path, ds, "content hash mismatch: the data does not hash to its sha256 attribute (corrupt file)");
  };
  for (const Planned& p : plan) {
    if (p.run == first_run) verify(g, p.golden_ds, p.ginfo);
    verify(c, p.cand_ds, p.cinfo);
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 3: one tensor pair, streamed, analysed and judged
// ---------------------------------------------------------------------------------------------

// "[i, j]: golden 0x3f80 (1) candidate 0x3f81 (1.0078125), 1 ulp (bf16)"; "" for no element.
std::string elem_pair_text(Fmt f, const std::vector<int64_t>& shape, const ElemRef& r) {
  if (r.index < 0) return "";
  const Elem a = elem_from_bits(f, r.a_bits), b = elem_from_bits(f, r.b_bits);
  std::string s = coords_text(shape, r.index) + ": golden " + bits_hex(f, r.a_bits) + " (" + elem_value_text(f, a) +
                  ") candidate " + bits_hex(f, r.b_bits) + " (" + elem_value_text(f, b) + ")";
  if (r.steps_valid)
    s += ", " + std::to_string(r.steps) + " " + steps_unit(f);
  else if (a.cls != b.cls)
    s += ", non-finite mismatch";
  else
    s += ", NaN payloads differ";
  return s;
}

// Fraction of elements within an allclose budget (1 for an empty tensor).
double close_pass_rate(const TensorStats& s) { return s.n ? double(s.n - s.over_count) / double(s.n) : 1.0; }

// One line on a failing tensor: its budget and what broke it.
std::string verdict_why(const TensorResult& t) {
  const TensorStats& s = t.stats;
  const std::string unit = steps_unit(t.fmt);
  const std::string b = t.rule.budget.text();
  char buf[512];
  if (t.index && t.rule.budget.kind != Budget::Kind::bitwise) {
    std::snprintf(buf, sizeof buf, "%s: %lld of %s %s beyond equal-score ties", b.c_str(),
                  (long long)t.index->rows_real, plural(t.index->rows, "row").c_str(), verb_s(t.index->rows_real, "differ", "differs"));
    return buf;
  }
  if (t.index) {
    std::snprintf(buf, sizeof buf, "%s: %lld of %s %s (%s of equal scores, %s)", b.c_str(),
                  (long long)t.index->rows_differ, plural(t.index->rows, "row").c_str(), verb_s(t.index->rows_differ, "differ", "differs"),
                  plural(t.index->rows_tie_flip, "tie flip").c_str(), plural(t.index->rows_real, "real mismatch", "real mismatches").c_str());
    return buf;
  }
  if (t.quant && t.rule.budget.kind == Budget::Kind::ties && s.nonfinite_mismatch == 0) {
    const QuantStats& q = *t.quant;
    std::snprintf(buf, sizeof buf, "%s: %lld of %s not on a rounding tie (%lld not a tie, %lld tie unknown%s)",
                  b.c_str(), (long long)(q.flips - q.flips_on_tie), plural(q.flips, "code flip").c_str(), (long long)q.flips_not_tie,
                  (long long)q.flips_tie_unknown, q.source.empty() ? ": no source values in the golden" : "");
    return buf;
  }
  if (s.nonfinite_mismatch > 0 && t.rule.budget.kind != Budget::Kind::bitwise && t.rule.budget.kind != Budget::Kind::close) {
    std::snprintf(buf, sizeof buf, "%s: %s %s in NaN/inf class (NaN golden %lld candidate %lld, inf golden %lld candidate %lld)",
                  b.c_str(), plural(s.nonfinite_mismatch, "element").c_str(), verb_s(s.nonfinite_mismatch, "differ", "differs"), (long long)s.nan_a, (long long)s.nan_b, (long long)s.inf_a,
                  (long long)s.inf_b);
    return buf;
  }
  switch (t.rule.budget.kind) {
    case Budget::Kind::ulp:
      std::snprintf(buf, sizeof buf, "%s: %lld of %s over %llu %s (max %llu)", b.c_str(), (long long)s.over_count,
                    plural(s.n, "element").c_str(), (unsigned long long)t.rule.budget.ulp, unit.c_str(), (unsigned long long)s.max_steps);
      return buf;
    case Budget::Kind::nmse:
      std::snprintf(buf, sizeof buf, "%s: NMSE %.6g > %g", b.c_str(), s.nmse(), t.rule.budget.nmse);
      return buf;
    case Budget::Kind::close:
      std::snprintf(buf, sizeof buf, "%s: %lld of %s not within |c - g| <= atol + rtol |g| (pass rate %.6g < %g)",
                    b.c_str(), (long long)s.over_count, plural(s.n, "element").c_str(), close_pass_rate(s), t.rule.budget.pass_rate);
      return buf;
    default:
      std::snprintf(buf, sizeof buf, "%s: %lld of %s %s (max %llu %s%s)", b.c_str(),
                    (long long)(s.n - s.bit_equal), plural(s.n, "element").c_str(), verb_s(s.n - s.bit_equal, "differ", "differs"), (unsigned long long)s.max_steps, unit.c_str(),
                    s.nonfinite_mismatch ? ", NaN/inf class mismatches" : s.nan_bits_differ ? ", NaN payloads differ" : "");
      return buf;
  }
}

// Every differing element of a quantized tensor is a code flip the tie analysis put on a rounding tie
// (NaN pairs with other payloads are allowed, as under every non-bitwise budget; a NaN against a
// number is never a flip, so it fails here).
bool quant_all_ties(const TensorStats& s, const QuantStats& q) {
  return q.flips_not_tie == 0 && q.flips_tie_unknown == 0 && q.flips_on_tie == s.n - s.bit_equal - s.nan_bits_differ;
}

// Within its budget? Index tensors under a non-bitwise budget pass when every differing row is a tie flip.
bool tensor_passes(const TensorResult& t) {
  const TensorStats& s = t.stats;
  switch (t.rule.budget.kind) {
    case Budget::Kind::ignore: return true;
    case Budget::Kind::bitwise: return s.bit_equal == s.n;
    case Budget::Kind::ties:
      if (t.index) return t.index->rows_real == 0;
      if (t.quant) return quant_all_ties(s, *t.quant);
      return s.bit_equal == s.n;
    case Budget::Kind::ulp:
      if (t.index) return t.index->rows_real == 0;
      return s.over_count == 0;
    case Budget::Kind::nmse:
      if (t.index) return t.index->rows_real == 0;
      return s.nonfinite_mismatch == 0 && s.nmse() <= t.rule.budget.nmse;
    case Budget::Kind::close:
      if (t.index) return t.index->rows_real == 0;
      return close_pass_rate(s) >= t.rule.budget.pass_rate;
  }
  return false;
}

// The per-element budget the scan pass counts "over" elements against.
ElemBudget elem_budget(const Budget& bud) {
  ElemBudget eb;
  eb.nan_equal = bud.nan_equal();
  if (bud.kind == Budget::Kind::bitwise || bud.kind == Budget::Kind::ties) eb.bits_exact = true, eb.max_steps = 0;
  if (bud.kind == Budget::Kind::ulp) eb.max_steps = bud.ulp;
  if (bud.kind == Budget::Kind::close) eb.close = true, eb.atol = bud.atol, eb.rtol = bud.rtol;
  return eb;
}

// The verdict of one compared tensor; for a failing one its one-line why, its decoded first and worst
// mismatches, and (keep_grid: one of the first kPlottedFailures of its run) the mismatch heatmap and
// the error density.
void judge(TensorResult& tr, const StatsAccumulator& acc, ErrorDensity&& density, bool keep_grid) {
  tr.pass = tensor_passes(tr);
  if (tr.pass) return;
  tr.why = verdict_why(tr);
  const bool ulp_first = (tr.rule.budget.kind == Budget::Kind::ulp || tr.rule.budget.kind == Budget::Kind::close) && !tr.index;
  const ElemRef& first = ulp_first ? tr.stats.first_over : tr.stats.first_diff;
  tr.first_index = first.index;
  tr.first_text = elem_pair_text(tr.fmt, tr.shape, first);
  tr.worst_text = elem_pair_text(tr.fmt, tr.shape, tr.stats.worst);
  for (const ElemRef& e : tr.stats.top) tr.top_text.push_back(elem_pair_text(tr.fmt, tr.shape, e));
  if (keep_grid) {
    tr.grid_rows = acc.grid_rows(), tr.grid_cols = acc.grid_cols();
    tr.grid_count = acc.grid_count(), tr.grid_max = acc.grid_max();
    if (!density.count.empty()) tr.density = std::move(density);
  }
}

// What a pair is before it is compared: run, path and its parts, format, shape, rule.
TensorResult describe(const Planned& p, const std::string& root_name) {
  TensorResult tr;
  tr.run = p.run;
  tr.path = p.golden_ds;
  const PathParts pp = split_model_path(p.golden_ds, root_name);
  tr.layer = pp.layer, tr.component = pp.component, tr.tensor = pp.tensor;
  tr.fmt = p.ginfo.fmt;
  tr.shape = p.ginfo.shape;
  tr.rule = p.rule;
  tr.role = p.role;
  tr.candidate_path = p.cand_ds;
  tr.cast = p.cast;
  return tr;
}

std::string fmt_g17(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

// The candidate's bytes of a range in the golden's format: as stored, or (--candidate-cast) its
// float32 values rounded to bf16 by bf16_encode, in a buffer reused across ranges.
struct CandidateBytes {
  bool cast = false;
  std::vector<uint8_t> buf;
  const uint8_t* get(const View& v, int64_t n) {
    if (!cast) return v.data();
    buf.resize(size_t(n) * 2);
    for (int64_t i = 0; i < n; ++i) {
      float x;
      std::memcpy(&x, v.data() + 4 * i, 4);
      const uint16_t h = bf16_encode(x);
      std::memcpy(buf.data() + 2 * i, &h, 2);
    }
    return buf.data();
  }
};

// Pass 2, only for tensors that differ: the error sums over every element (NMSE, calc_diff, mean errors)
// and the error quantiles, which the scan pass leaves out; returns the error density.
ErrorDensity add_error_sums(TensorResult& tr, const Source& sa, const Source& sb, const ChunkPlan& cp, CandidateBytes& cb,
                            int64_t& bytes_read) {
  StatsAccumulator sums(tr.fmt, tr.shape, StatsAccumulator::Mode::sums);
  ErrorQuantiles quantiles;
  bytes_read += stream_pair(sa, sb, cp, [&](int64_t e0, int64_t e1, const View& va, const View& vb) {
    const uint8_t* b = cb.get(vb, e1 - e0);
    sums.add(e0, e1 - e0, va.data(), b, cp.row_len);
    quantiles.add(tr.fmt, va.data(), b, e1 - e0, cp.row_len);
  });
  quantiles.fill(tr.stats);
  const TensorStats s2 = sums.finish();
  tr.stats.sum_d2 = s2.sum_d2, tr.stats.sum_a2 = s2.sum_a2, tr.stats.sum_b2 = s2.sum_b2, tr.stats.sum_ab = s2.sum_ab;
  tr.stats.sum_abs_err = s2.sum_abs_err, tr.stats.sum_rel_err = s2.sum_rel_err;
  tr.stats.n_finite = s2.n_finite, tr.stats.n_rel = s2.n_rel;
  return quantiles.density();
}

// Compares one pair. Pass 1 streams both in ranges of the tensor's plan: the scan statistics, and
// for ranges that differ the index or quant tie analysis; pass 2 (add_error_sums) when they differ;
// then the verdict.
TensorResult compare_tensor(const OpenFile& g, const OpenFile& c, const Planned& p, const CompareOptions& opt,
                            const std::string& root_name, bool keep_grid, int64_t& bytes_read) {
  TensorResult tr = describe(p, root_name);
  if (p.rule.budget.kind == Budget::Kind::ignore) return tr;

  const Source sa(g, p.golden_ds, p.ginfo), sb(c, p.cand_ds, p.cinfo);
  const bool is_index = p.links.kind == golden::kKindTopkIndices;
  const int64_t k = is_index ? p.ginfo.shape.back() : 1;
  const ChunkPlan cp = make_plan(p.ginfo, opt.chunk_bytes, k, !sa.raw() || !sb.raw(), sa.inner());
  StatsAccumulator acc(tr.fmt, tr.shape, StatsAccumulator::Mode::scan, elem_budget(p.rule.budget), opt.grid_rows,
                       opt.grid_cols);
  std::optional<IndexTies> index;
  std::optional<QuantTies> quant;
  if (is_index) index.emplace(g, p.links.scores, p.ginfo.shape, opt.chunk_bytes);
  if (is_quantized(p.ginfo, p.links)) quant.emplace(g, p.ginfo, p.links, opt.chunk_bytes);

  CandidateBytes cb{p.cast, {}};
  bytes_read += stream_pair(sa, sb, cp, [&](int64_t e0, int64_t e1, const View& va, const View& vb) {
    const uint8_t* b = cb.get(vb, e1 - e0);
    acc.add(e0, e1 - e0, va.data(), b, cp.row_len);
    if ((index || quant) && std::memcmp(va.data(), b, size_t(va.size())) != 0) {
      if (index && k > 0) index->add(tr.fmt, e0 / k, (e1 - e0) / k, va.data(), b);
      if (quant) quant->add(tr.fmt, cp, e0, e1, va.data(), b);
    }
  });
  tr.stats = acc.finish();
  if (index) tr.index = index->stats();
  if (quant) tr.quant = quant->stats();

  ErrorDensity density;
  if (tr.stats.bit_equal < tr.stats.n) density = add_error_sums(tr, sa, sb, cp, cb, bytes_read);
  judge(tr, acc, std::move(density), keep_grid);
  return tr;
}

// ---------------------------------------------------------------------------------------------
// Phase 4: per-layer summaries, in model order per run
// ---------------------------------------------------------------------------------------------

std::vector<LayerSummary> summarize_layers(const std::vector<std::string>& runs, const std::vector<TensorResult>& tensors) {
  std::vector<LayerSummary> layers;
  for (const std::string& run : runs) {
    std::map<std::string, size_t> at;
    for (const TensorResult& t : tensors) {
      if (t.run != run) continue;
      auto it = at.find(t.layer);
      if (it == at.end()) {
        it = at.emplace(t.layer, layers.size()).first;
        LayerSummary l;
        l.run = run, l.layer = t.layer;
        layers.push_back(l);
      }
      LayerSummary& l = layers[it->second];
      ++l.tensors;
      l.elements += t.stats.n;
      l.elements_bit_equal += t.stats.bit_equal;
      if (t.stats.bit_equal == t.stats.n) ++l.tensors_bit_equal;
      if (!t.pass) {
        ++l.tensors_failed;
        if (l.first_failed.empty()) l.first_failed = t.path;
      }
      l.max_steps = std::max(l.max_steps, t.stats.max_steps);
      const double nm = fmt_info(t.fmt).kind != FmtKind::integer ? t.stats.nmse() : 0.0;
      if (l.worst_tensor.empty() || nm > l.max_nmse) l.worst_tensor = t.path, l.max_nmse = std::max(l.max_nmse, nm);
    }
  }
  return layers;
}

}  // namespace

std::string mismatches_csv(const CompareResult& r, const CompareOptions& opt) {
  std::string o = "run,path,index,coords,golden_bits,candidate_bits,golden_value,candidate_value,steps,abs_err,rel_err\n";
  const OpenFile g(r.golden_path), c(r.candidate_path, /*candidate=*/true);
  for (const TensorResult& t : r.tensors) {
    if (t.rule.budget.kind == Budget::Kind::ignore || t.stats.bit_equal == t.stats.n) continue;
    const golden::TensorInfo gi = g.h5.info(t.path), ci = c.h5.info(t.candidate_path);
    const Source sa(g, t.path, gi), sb(c, t.candidate_path, ci);
    const ChunkPlan cp = make_plan(gi, opt.chunk_bytes, 1, !sa.raw() || !sb.raw(), sa.inner());
    CandidateBytes cb{t.cast, {}};
    stream_pair(sa, sb, cp, [&](int64_t e0, int64_t e1, const View& va, const View& vb) {
      const uint8_t* b = cb.get(vb, e1 - e0);
      for (int64_t j = 0; j < e1 - e0; ++j) {
        const Elem x = elem_read(t.fmt, va.data(), j, cp.row_len), y = elem_read(t.fmt, b, j, cp.row_len);
        if (x.bits == y.bits) continue;
        const bool valid = x.cls == y.cls && x.cls != Cls::nan;
        const bool fin = x.cls == Cls::finite && y.cls == Cls::finite;
        const double ae = fin ? std::fabs(x.value - y.value) : 0;
        o += t.run + "," + t.path + "," + std::to_string(e0 + j) + ",\"" + coords_text(t.shape, e0 + j) + "\"," +
             bits_hex(t.fmt, x.bits) + "," + bits_hex(t.fmt, y.bits) + "," + elem_value_text(t.fmt, x) + "," +
             elem_value_text(t.fmt, y) + "," + (valid ? std::to_string(elem_steps(x, y)) : std::string()) + "," +
             (fin ? fmt_g17(ae) : std::string()) + "," +
             (fin && x.value != 0 ? fmt_g17(ae / std::fabs(x.value)) : std::string()) + "\n";
      }
    });
  }
  return o;
}

std::vector<std::pair<std::string, std::string>> load_name_map(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path, "", "cannot open the name map file");
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::string> seen;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::istringstream ws(line);
    std::string cand, gold, more;
    if (!(ws >> cand) || cand[0] == '#') continue;
    if (!(ws >> gold) || (ws >> more))
      throw InputError(path, "line " + std::to_string(n), "expected `<candidate path> <golden path>`");
    if (cand[0] != '/') cand = "/" + cand;
    if (gold[0] != '/') gold = "/" + gold;
    if (!seen.insert(cand).second) throw InputError(path, "line " + std::to_string(n), "candidate path " + cand + " given twice");
    out.emplace_back(cand, gold);
  }
  return out;
}

PathParts split_model_path(const std::string& path, const std::string& root_name) {
  std::vector<std::string> parts;
  size_t i = 1;
  while (i <= path.size()) {
    const size_t j = path.find('/', i);
    parts.push_back(path.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  if (parts.size() >= 4 && parts[0] == "layers") {
    std::string rest = parts[3];
    for (size_t k = 4; k < parts.size(); ++k) rest += "/" + parts[k];
    return {parts[1], parts[2], rest};
  }
  if (parts.size() == 1) return {root_name, root_name, parts[0]};
  std::string comp = parts[0];
  for (size_t k = 1; k + 1 < parts.size(); ++k) comp += "/" + parts[k];
  return {"-", comp, parts.back()};
}

bool CompareResult::pass() const { return verdict() < 0; }

int64_t CompareResult::first_failure(const std::string& run) const {
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].run == run && !tensors[i].pass) return int64_t(i);
  return -1;
}

int64_t CompareResult::verdict() const {
  for (const char* r : {kRunTeacherForced, "", kRunFreeRunning}) {
    const int64_t i = first_failure(r);
    if (i >= 0) return i;
  }
  return -1;
}

CompareResult compare_files(const std::string& golden_path, const std::string& candidate_path, const CompareOptions& opt) {
  const auto t_start = std::chrono::steady_clock::now();
  OpenFile g(golden_path), c(candidate_path, /*candidate=*/true);
  CompareResult res;
  res.golden_path = golden_path, res.candidate_path = candidate_path;
  res.golden_meta = g.meta, res.candidate_meta = c.meta;
  res.policy_default = opt.policy.default_rule(), res.policy_rules = opt.policy.rules(), res.policy_file = opt.policy.file();
  const std::string root_name = !g.meta.name.empty() ? g.meta.name : !g.meta.kind.empty() ? g.meta.kind : "root";

  const std::vector<Planned> plan = match_datasets(g, c, opt, res);
  check_policy_rules(g, opt, res);
  validate_links(g, plan, res.runs.front());
  if (opt.verify_hash) verify_hashes(g, c, plan, res.runs.front());

  std::map<std::string, int> failures;  // per run, so far: the first kPlottedFailures keep their plots
  for (const Planned& p : plan) {
    TensorResult tr = compare_tensor(g, c, p, opt, root_name, failures[p.run] < kPlottedFailures, res.bytes_read);
    res.elements += tr.stats.n;
    if (!tr.pass) ++failures[p.run];
    res.tensors.push_back(std::move(tr));
  }
  attach_scale_mismatches(res.tensors);
  attach_gemm_terms(g, res.tensors);
  res.layers = summarize_layers(res.runs, res.tensors);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return res;
}

}  // namespace v4::compare
