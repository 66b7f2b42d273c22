// The JSON report (schema "v4oracle-compare-report", kJsonReportVersion; fields in docs/compare.md):
// every number of CompareResult, non-finite numbers as the strings "nan", "inf", "-inf".
#include "compare/report.h"
#include "compare/report_common.h"

namespace v4::compare {

namespace {

// A JSON number (%.17g: round-trips a double), or the string "nan", "inf", "-inf".
std::string jnum(double v) {
  return std::isfinite(v) ? fmtf("%.17g", v) : jstr(num(v));
}
std::string jint(int64_t v) { return std::to_string(v); }
// A string that is absent when empty: null.
std::string jstr_or_null(const std::string& s) { return s.empty() ? std::string("null") : jstr(s); }
// A decoded element as a JSON number: integers exactly, floats with %.17g (exact for every format
// here), non-finite as the strings "nan", "inf", "-inf".
std::string jvalue(Fmt f, const Elem& e) {
  if (fmt_info(f).kind == FmtKind::integer) return std::to_string(e.key);
  if (e.cls != Cls::finite) return jstr(elem_value_text(f, e));
  return jnum(e.value);
}
std::string jshape(const std::vector<int64_t>& s) {
  std::string o = "[";
  o += jjoin(s, jint);
  return o + ']';
}

std::string jref(Fmt f, const std::vector<int64_t>& shape, const ElemRef& r) {
  if (r.index < 0) return "null";
  const Elem a = elem_from_bits(f, r.a_bits), b = elem_from_bits(f, r.b_bits);
  return "{\"index\":" + std::to_string(r.index) + ",\"coords\":" + jshape(coords_of(shape, r.index)) +
         ",\"golden_bits\":" + jstr(bits_hex(f, r.a_bits)) + ",\"candidate_bits\":" + jstr(bits_hex(f, r.b_bits)) +
         ",\"golden_value\":" + jvalue(f, a) + ",\"candidate_value\":" + jvalue(f, b) +
         ",\"steps\":" + (r.steps_valid ? std::to_string(r.steps) : std::string("null")) + "}";
}

std::string jmeta(const std::string& path, const golden::FileMeta& m) {
  std::string o = "{\"path\":" + jstr(path) + ",\"schema_version\":" +
                  (m.schema_version ? std::to_string(m.schema_version) : std::string("null")) +
                  ",\"kind\":" + jstr_or_null(m.kind) + ",\"name\":" + jstr_or_null(m.name) +
                  ",\"generator_version\":" + jstr_or_null(m.generator_version) +
                  ",\"generator_commit\":" + jstr_or_null(m.generator_commit);
  o += ",\"seed\":" + (m.seed ? std::to_string(*m.seed) : std::string("null"));
  o += ",\"recipe\":" + (m.recipe ? jstr(*m.recipe) : std::string("null"));
  o += ",\"config\":" + (m.config_json ? jstr(*m.config_json) : std::string("null"));
  o += ",\"release_switches\":" + (m.release_switches_json ? jstr(*m.release_switches_json) : std::string("null"));
  return o + "}";
}

std::string jrule(const PolicyRule& r) {
  return "{\"pattern\":" + jstr(r.pattern) + ",\"budget\":" + jstr(r.budget.text()) + ",\"reason\":" + jstr(r.reason) +
         ",\"line\":" + std::to_string(r.line) + "}";
}

std::string jrow(int64_t row) { return row < 0 ? std::string("null") : std::to_string(row); }

std::string jtensor(const TensorResult& t) {
  const TensorStats& s = t.stats;
  std::string o = "{\"run\":" + jstr(t.run) + ",\"path\":" + jstr(t.path) + ",\"role\":" + jstr(t.role) +
                  ",\"candidate_path\":" + jstr(t.candidate_path) + ",\"cast\":" + (t.cast ? "true" : "false") + ",\"layer\":" + jstr(t.layer) +
                  ",\"component\":" + jstr(t.component) + ",\"tensor\":" + jstr(t.tensor) +
                  ",\"format\":" + jstr(fmt_name(t.fmt)) + ",\"shape\":" + jshape(t.shape) +
                  ",\"budget\":" + jstr(t.rule.budget.text()) + ",\"reason\":" + jstr(t.rule.reason) +
                  ",\"pattern\":" + jstr(t.rule.pattern) + ",\"pass\":" + (t.pass ? "true" : "false") +
                  ",\"why\":" + jstr_or_null(t.why);
  o += ",\"elements\":" + std::to_string(s.n) + ",\"bit_equal\":" + std::to_string(s.bit_equal) +
       ",\"nan_golden\":" + std::to_string(s.nan_a) + ",\"nan_candidate\":" + std::to_string(s.nan_b) +
       ",\"inf_golden\":" + std::to_string(s.inf_a) + ",\"inf_candidate\":" + std::to_string(s.inf_b) +
       ",\"nan_both\":" + std::to_string(s.nan_both) + ",\"nan_bits_differ\":" + std::to_string(s.nan_bits_differ) +
       ",\"nonfinite_mismatch\":" + std::to_string(s.nonfinite_mismatch) + ",\"max_steps\":" + std::to_string(s.max_steps) +
       ",\"steps_unit\":" + jstr(steps_unit(t.fmt)) + ",\"steps_hist\":[" +
       jjoin(s.steps_hist, jint);
  o += "],\"max_abs\":" + jnum(s.max_abs) + ",\"max_rel\":" + jnum(s.max_rel) + ",\"nmse\":" + jnum(s.nmse()) +
       ",\"calc_diff\":" + jnum(s.calc_diff()) + ",\"cosine\":" + jnum(s.cosine()) +
       ",\"mean_abs\":" + jnum(s.mean_abs_err()) + ",\"mean_rel\":" + jnum(s.mean_rel_err()) +
       ",\"median_abs\":" + jnum(s.median_abs) + ",\"p99_abs\":" + jnum(s.p99_abs) + ",\"median_rel\":" +
       jnum(s.median_rel) + ",\"p99_rel\":" + jnum(s.p99_rel) + ",\"over_budget\":" + std::to_string(s.over_count) +
       ",\"first_diff\":" + jref(t.fmt, t.shape, s.first_diff) + ",\"worst\":" + jref(t.fmt, t.shape, s.worst) +
       ",\"first_over\":" + jref(t.fmt, t.shape, s.first_over) + ",\"top\":[" +
       jjoin(s.top, [&](const ElemRef& e) { return jref(t.fmt, t.shape, e); }) + "]";
  if (!t.terms.empty()) {
    o += ",\"gemm_terms\":{\"text\":" + jstr(t.terms_text) + ",\"elements\":[" +
         jjoin(t.terms, [&](const TermCheck& c) {
           return "{\"index\":" + jint(c.index) + ",\"coords\":" + jshape(coords_of(t.shape, c.index)) +
                  ",\"golden\":" + jnum(c.golden) + ",\"error\":" + jnum(c.err) + ",\"abs_terms\":" + jnum(c.abs_terms) +
                  ",\"error_over_abs_terms\":" + jnum(c.abs_terms > 0 ? c.err / c.abs_terms : 0) + ",\"bound\":" +
                  jnum(c.bound) + ",\"within\":" + (c.within ? "true" : "false") +
                  ",\"cancellation\":" + (c.cancellation ? "true" : "false") + "}";
         }) + "]}";
  }
  if (t.quant) {
    const QuantStats& q = *t.quant;
    o += ",\"quant\":{\"scale\":" + jstr_or_null(q.scale) + ",\"source\":" + jstr_or_null(q.source) + ",\"block\":" + jshape(q.block) +
         ",\"flips\":" + std::to_string(q.flips) + ",\"flips_on_tie\":" + std::to_string(q.flips_on_tie) +
         ",\"flips_not_tie\":" + std::to_string(q.flips_not_tie) + ",\"flips_tie_unknown\":" +
         std::to_string(q.flips_tie_unknown) + ",\"scale_mismatch\":" +
         (q.scale_mismatch < 0 ? std::string("null") : std::to_string(q.scale_mismatch)) +
         ",\"scale_max_steps\":" + std::to_string(q.scale_max_steps) + "}";
  }
  if (t.index) {
    const IndexStats& x = *t.index;
    o += ",\"index\":{\"scores\":" + jstr(x.scores) + ",\"rows\":" + std::to_string(x.rows) + ",\"k\":" + std::to_string(x.k) +
         ",\"rows_differ\":" + std::to_string(x.rows_differ) + ",\"rows_tie_flip\":" + std::to_string(x.rows_tie_flip) +
         ",\"rows_real\":" + std::to_string(x.rows_real) + ",\"set_diff\":" + std::to_string(x.set_diff) +
         ",\"order_diff\":" + std::to_string(x.order_diff) + ",\"first_tie_row\":" + jrow(x.first_tie_row) +
         ",\"first_tie_detail\":" + jstr_or_null(x.first_tie_detail) + ",\"first_real_row\":" + jrow(x.first_real_row) +
         ",\"first_real_detail\":" + jstr_or_null(x.first_real_detail) + "}";
  }
  return o + "}";
}

}  // namespace

std::string report_json(const CompareResult& r) {
  const int64_t v = r.verdict();
  std::string o = "{\n\"schema\":\"v4oracle-compare-report\",\"version\":" + std::to_string(kJsonReportVersion) +
                  ",\n\"result\":" + jstr(v < 0 ? "ok" : "diverged") + ",\"exit_code\":" + (v < 0 ? "0" : "1") +
                  ",\n\"summary\":" + jstr(report_summary_line(r)) + ",\n\"golden\":" + jmeta(r.golden_path, r.golden_meta) +
                  ",\n\"candidate\":" + jmeta(r.candidate_path, r.candidate_meta) + ",\n\"runs\":[";
  o += jjoin(r.runs, jstr);
  o += "],\n\"policy\":{\"default\":" + jrule(r.policy_default) + ",\"file\":" + jstr_or_null(r.policy_file) + ",\"rules\":[";
  o += jjoin(r.policy_rules, jrule);
  o += "]},\n\"verdict\":";
  if (v < 0) {
    o += "null";
  } else {
    const TensorResult& t = r.tensors[size_t(v)];
    const bool ulp_first = (t.rule.budget.kind == Budget::Kind::ulp || t.rule.budget.kind == Budget::Kind::close) && !t.index;
    o += "{\"run\":" + jstr(t.run) + ",\"path\":" + jstr(t.path) + ",\"layer\":" + jstr(t.layer) + ",\"component\":" +
         jstr(t.component) + ",\"tensor\":" + jstr(t.tensor) + ",\"why\":" + jstr(t.why) + ",\"reason\":" + jstr(t.rule.reason) +
         ",\"first\":" + jref(t.fmt, t.shape, ulp_first ? t.stats.first_over : t.stats.first_diff) +
         ",\"worst\":" + jref(t.fmt, t.shape, t.stats.worst) + "}";
  }
  o += ",\n\"first_failure\":{";
  o += jjoin(r.runs, [&](const std::string& run) {
    const int64_t f = r.first_failure(run);
    return jstr(run) + ":" + (f < 0 ? std::string("null") : jstr(r.tensors[size_t(f)].path));
  });
  o += "},\n\"layers\":[";
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const LayerSummary& l = r.layers[i];
    o += std::string(i ? ",\n" : "\n") + "{\"run\":" + jstr(l.run) + ",\"layer\":" + jstr(l.layer) + ",\"tensors\":" +
         std::to_string(l.tensors) + ",\"tensors_bit_equal\":" + std::to_string(l.tensors_bit_equal) +
         ",\"tensors_failed\":" + std::to_string(l.tensors_failed) + ",\"elements\":" + std::to_string(l.elements) +
         ",\"elements_bit_equal\":" + std::to_string(l.elements_bit_equal) + ",\"max_steps\":" + std::to_string(l.max_steps) +
         ",\"max_nmse\":" + jnum(l.max_nmse) + ",\"worst_tensor\":" + jstr(l.worst_tensor) +
         ",\"first_failed\":" + jstr_or_null(l.first_failed) + "}";
  }
  o += "],\n\"tensors\":[";
  for (size_t i = 0; i < r.tensors.size(); ++i) o += std::string(i ? ",\n" : "\n") + jtensor(r.tensors[i]);
  o += "],\n\"not_in_candidate\":[";
  o += jjoin(r.not_in_candidate, jstr);
  o += "],\n\"warnings\":[";
  o += jjoin(r.warnings, jstr);
  o += "],\n\"roles\":{";
  o += jjoin(std::vector<std::string>{kRoleOutput, kRoleInput}, [&](const std::string& role) {
    const RoleTally t = role_tally(r, role);
    return jstr(role + "s") + ":{\"tensors\":" + jint(t.tensors) + ",\"tensors_bit_equal\":" + jint(t.tensors_bit_equal) +
           ",\"elements\":" + jint(t.elements) + ",\"elements_bit_equal\":" + jint(t.bit_equal) + "}";
  });
  o += "},\n\"candidate_extra\":[";
  o += jjoin(r.candidate_extra, jstr);
  o += "],\n\"elements\":" + std::to_string(r.elements) + ",\"bytes_read\":" + std::to_string(r.bytes_read) +
       ",\"seconds\":" + jnum(r.seconds) + "\n}\n";
  return o;
}

}  // namespace v4::compare
