// What the probes and forensics share: running golden's CPU op on candidate-style inputs, the table of
// ops whose leading dimension is a batch of independent rows, and bitwise row helpers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compare/harness/candidate.h"

namespace v4::harness {

// golden's op `op` on `in` under r (InputError / std::invalid_argument for bad inputs).
Outputs run_cpu_op(const std::string& op, const Inputs& in, Recipe r);

// An op whose dim 0 is a batch of independent rows: the inputs and outputs that carry it (every other
// input is shared by all rows) and the --shape parameter that sets it for seeded inputs.
struct BatchLayout {
  std::string op, param;
  std::vector<std::string> inputs, outputs;
};
const std::vector<BatchLayout>& batch_layouts();
const BatchLayout* batch_layout(const std::string& op);  // null: the op has no batch dimension

int64_t rows_of(const Tensor& t);  // dim 0 (1 for a scalar)
// Rows `rows` of t along dim 0 (repeats allowed), in that order; a rank-1 e2m1x2 tensor row is one code.
Tensor gather_rows(const Tensor& t, const std::vector<int64_t>& rows);
// a's rows then b's (same format and trailing shape; std::invalid_argument otherwise).
Tensor concat_rows(const Tensor& a, const Tensor& b);
// Logical elements whose bits differ (a and b of one format and shape); *first: the first one's flat
// index, or -1.
int64_t count_differ(const Tensor& a, const Tensor& b, int64_t* first = nullptr);
// The same for every output of two output lists with the same names; first_output/first_index locate
// the first differing element. std::logic_error when names or shapes disagree.
int64_t count_differ(const Outputs& a, const Outputs& b, std::string* first_output = nullptr, int64_t* first_index = nullptr);
// Output `name`'s element `flat` in a and in b, bits and value: "0x3f80 (1) vs 0x3f81 (1.0078125)".
std::string element_pair_text(const Outputs& a, const Outputs& b, const std::string& name, int64_t flat);

}  // namespace v4::harness
