// Seeded inputs of a registry op, owned, with the name -> tensor view that gpu-check candidates take
// (compare/harness/candidate.h). Shared by the gpu-check tests.
#pragma once
#include <string>
#include <vector>

#include "compare/harness/candidate.h"
#include "golden/ops.h"

namespace v4::test {

struct SeededOpInputs {
  std::vector<golden::NamedTensor> tensors;
  harness::Inputs in;
  // The op's defaults overridden by `shape`.
  SeededOpInputs(const std::string& op, golden::ShapeParams shape, uint64_t seed = 0) {
    const golden::OpSpec* spec = golden::op_find(op);
    for (const auto& [k, v] : spec->defaults)
      if (!shape.count(k)) shape[k] = v;
    tensors = spec->make_inputs(seed, shape);
    for (const golden::NamedTensor& nt : tensors) in[nt.name] = &nt.t;
  }
};

}  // namespace v4::test
