// Comparison policies (docs/compare.md §Policies): what a tensor must satisfy to be "within policy".
// A budget is bitwise (default), ulp:N (every element within N steps of its own format), nmse:X
// (normalized MSE at most X), ties (index tensors: only equal-score tie flips allowed), or ignore. A
// policy file maps glob patterns over dataset paths to budgets, each with a reason the report prints.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace v4::compare {

struct Budget {
  enum class Kind { bitwise, ulp, nmse, ties, ignore, close };
  Kind kind = Kind::bitwise;
  uint64_t ulp = 0;   // Kind::ulp
  double nmse = 0.0;  // Kind::nmse
  // Kind::close (numpy.allclose with the golden as reference): element within when |c - g| <= atol +
  // rtol |g|; the tensor passes when the fraction of elements within is at least pass_rate.
  double atol = 0.0, rtol = 0.0, pass_rate = 1.0;
  std::string text() const;  // "bitwise", "ulp:2", "nmse:1e-06", "ties", "ignore", "close:1e-05,0.001[,0.999]"
  // NaN vs NaN (any payloads) counts as equal under every budget except bitwise (design.md §3).
  bool nan_equal() const { return kind != Kind::bitwise; }
};

// Parses "bitwise", "ulp:N" (N a non-negative integer), "nmse:X" (X a finite non-negative number),
// "ties", "ignore", "close:ATOL,RTOL[,RATE]" (finite, >= 0; RATE in [0, 1]). std::invalid_argument with the offending text otherwise.
Budget budget_parse(const std::string& spec);

struct PolicyRule {
  std::string pattern;  // fnmatch glob over the dataset path without its leading '/' ('*' crosses '/')
  Budget budget;
  std::string reason;
  int line = 0;  // line in the policy file (0: the default rule)
};

class Policy {
 public:
  Policy() = default;
  explicit Policy(Budget default_budget, std::string default_reason = "default");
  // Rules from a policy file, one per line: `<pattern> <budget> [reason...]`; '#' starts a comment
  // line; the reason may be double-quoted. First matching rule wins. InputError (file, "line N", ...)
  // on a malformed line.
  void load_file(const std::string& path);
  void add_rule(PolicyRule r) { rules_.push_back(std::move(r)); }
  // The rule for a dataset path ("/layers/3/moe_gate/scores"); the default rule when none matches.
  const PolicyRule& match(const std::string& dataset_path) const;
  // Indices into rules() of the rules whose pattern matches none of `dataset_paths` (a typo, or a
  // leading '/', would otherwise fall back to the default budget without a word).
  std::vector<size_t> unmatched_rules(const std::vector<std::string>& dataset_paths) const;
  const std::vector<PolicyRule>& rules() const { return rules_; }
  const PolicyRule& default_rule() const { return default_; }
  std::string file() const { return file_; }

 private:
  PolicyRule default_{"*", Budget{}, "default", 0};
  std::vector<PolicyRule> rules_;
  std::string file_;
};

}  // namespace v4::compare
