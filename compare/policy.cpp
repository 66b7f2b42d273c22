// Comparison policies: see policy.h.
#include "compare/policy.h"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "golden/input_error.h"

namespace v4::compare {

std::string Budget::text() const {
  switch (kind) {
    case Kind::bitwise: return "bitwise";
    case Kind::ulp: return "ulp:" + std::to_string(ulp);
    case Kind::nmse: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "nmse:%g", nmse);
      return buf;
    }
    case Kind::ties: return "ties";
    case Kind::ignore: return "ignore";
    case Kind::close: {
      char buf[128];
      if (pass_rate < 1)
        std::snprintf(buf, sizeof buf, "close:%g,%g,%g", atol, rtol, pass_rate);
      else
        std::snprintf(buf, sizeof buf, "close:%g,%g", atol, rtol);
      return buf;
    }
  }
  return "?";
}

Budget budget_parse(const std::string& spec) {
  Budget b;
  if (spec == "bitwise") return b;
  if (spec == "ties") return b.kind = Budget::Kind::ties, b;
  if (spec == "ignore") return b.kind = Budget::Kind::ignore, b;
  const auto bad = [&](const std::string& why) {
    return std::invalid_argument("policy '" + spec + "': " + why +
                                 " (expected bitwise, ulp:N, nmse:X, close:ATOL,RTOL[,RATE], ties or ignore)");
  };
  if (spec.rfind("ulp:", 0) == 0) {
    const std::string n = spec.substr(4);
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) throw bad("N must be a non-negative integer");
    try {
      b.ulp = std::stoull(n);
    } catch (const std::exception&) {
      throw bad("N is too large");
    }
    b.kind = Budget::Kind::ulp;
    return b;
  }
  if (spec.rfind("close:", 0) == 0) {
    std::vector<double> v;
    const std::string body = spec.substr(6);
    for (size_t i = 0; i <= body.size();) {
      const size_t j = std::min(body.find(',', i), body.size());
      const std::string x = body.substr(i, j - i);
      size_t used = 0;
      double d = -1;
      try {
        d = std::stod(x, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (x.empty() || used != x.size() || !std::isfinite(d) || d < 0) throw bad("ATOL, RTOL and RATE must be finite numbers >= 0");
      v.push_back(d);
      i = j + 1;
    }
    if (v.size() < 2 || v.size() > 3) throw bad("expected close:ATOL,RTOL or close:ATOL,RTOL,RATE");
    if (v.size() == 3 && v[2] > 1) throw bad("RATE is a fraction in [0, 1]");
    b.kind = Budget::Kind::close;
    b.atol = v[0], b.rtol = v[1], b.pass_rate = v.size() == 3 ? v[2] : 1.0;
    return b;
  }
  if (spec.rfind("nmse:", 0) == 0) {
    const std::string x = spec.substr(5);
    size_t used = 0;
    double v = -1;
    try {
      v = std::stod(x, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (x.empty() || used != x.size() || !std::isfinite(v) || v < 0) throw bad("X must be a finite number >= 0");
    b.kind = Budget::Kind::nmse;
    b.nmse = v;
    return b;
  }
  throw bad("unknown budget");
}

Policy::Policy(Budget default_budget, std::string default_reason)
    : default_{"*", default_budget, std::move(default_reason), 0} {}

namespace {

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

// Next whitespace-separated word of `s` from `pos`.
std::string next_word(const std::string& s, size_t& pos) {
  while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
  const size_t start = pos;
  while (pos < s.size() && s[pos] != ' ' && s[pos] != '\t') ++pos;
  return s.substr(start, pos - start);
}

}  // namespace

void Policy::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw golden::InputError(path, "", "cannot open the policy file");
  file_ = path;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    size_t pos = 0;
    PolicyRule r;
    r.line = n;
    r.pattern = next_word(t, pos);
    const std::string spec = next_word(t, pos);
    if (spec.empty())
      throw golden::InputError(path, "line " + std::to_string(n), "expected `<pattern> <budget> [reason]`");
    try {
      r.budget = budget_parse(spec);
    } catch (const std::invalid_argument& e) {
      throw golden::InputError(path, "line " + std::to_string(n), e.what());
    }
    r.reason = trim(t.substr(pos));
    if (r.reason.size() >= 2 && r.reason.front() == '"' && r.reason.back() == '"')
      r.reason = r.reason.substr(1, r.reason.size() - 2);
    if (r.reason.empty()) r.reason = "policy file line " + std::to_string(n);
    rules_.push_back(std::move(r));
  }
}

namespace {
std::string without_slash(const std::string& p) { return !p.empty() && p[0] == '/' ? p.substr(1) : p; }
}  // namespace

const PolicyRule& Policy::match(const std::string& dataset_path) const {
  const std::string p = without_slash(dataset_path);
  for (const PolicyRule& r : rules_)
    if (fnmatch(r.pattern.c_str(), p.c_str(), 0) == 0) return r;
  return default_;
}

std::vector<size_t> Policy::unmatched_rules(const std::vector<std::string>& dataset_paths) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < rules_.size(); ++i) {
    bool any = false;
    for (const std::string& d : dataset_paths)
      if ((any = fnmatch(rules_[i].pattern.c_str(), without_slash(d).c_str(), 0) == 0)) break;
    if (!any) out.push_back(i);
  }
  return out;
}

}  // namespace v4::compare
