// The batch-invariance probe (probes.h).
#include "compare/harness/op_exec.h"
#include "compare/harness/probes.h"
#include "golden/ops.h"
#include "reference/rng.h"

namespace v4::harness {

namespace {

// The CPU recipes (or the single definition, "reference") whose outputs on `in` equal `out`.
std::vector<std::string> matching_recipes(const std::string& op, const Inputs& in, const Outputs& out) {
  const golden::OpSpec* spec = golden::op_find(op);
  std::vector<std::string> m;
  if (!spec) return m;
  for (Recipe r : kAllRecipes) {
    if (count_differ(run_cpu_op(op, in, r), out) == 0) m.push_back(spec->has_recipe ? recipe_name(r) : "reference");
    if (!spec->has_recipe) break;
  }
  return m;
}

std::vector<int64_t> iota(int64_t from, int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = from + i;
  return v;
}

struct Batcher {
  const BatchSetup& s;
  std::map<std::string, Tensor> pool;  // per batched input: the probe rows first, then the neighbour rows
  int64_t rows = 0;

  // A batch of pool rows: its inputs (owned, viewed by inputs()) and expected output shapes.
  struct Batch {
    std::map<std::string, Tensor> owned;
    Inputs in;
    Outputs expected;
  };
  Batch batch(const std::vector<int64_t>& pick) const {
    Batch b;
    for (const auto& [name, t] : pool) b.owned[name] = gather_rows(t, pick);
    b.in = s.inputs;
    for (const auto& [name, t] : b.owned) b.in[name] = &t;
    for (const auto& [name, t] : s.golden) {
      std::vector<int64_t> shape = t.shape;
      if (!shape.empty()) shape[0] = int64_t(pick.size());
      b.expected.emplace_back(name, Tensor::make(t.fmt, shape));
    }
    return b;
  }
};

Outputs take_rows(const Outputs& out, const std::vector<int64_t>& rows) {
  Outputs r;
  for (const auto& [name, t] : out) r.emplace_back(name, gather_rows(t, rows));
  return r;
}

}  // namespace

BatchProbe probe_batch(Candidate& cand, const BatchSetup& s, const std::vector<int64_t>& sizes) {
  BatchProbe p;
  p.kernel = cand.kernel(s.op, s.recipe);
  p.sizes = sizes;
  const BatchLayout* layout = batch_layout(s.op);
  if (!layout) {
    p.skipped = s.op + " has no batch dimension (docs/gpu-check.md lists the ops that do)";
    return p;
  }
  Batcher b{s, {}, 0};
  for (const std::string& name : layout->inputs) {
    const auto it = s.inputs.find(name);
    if (it == s.inputs.end()) throw std::logic_error("probe_batch: batched input " + name + " missing");
    if (it->second->shape.empty() || rows_of(*it->second) < 1) {
      p.skipped = "input " + name + " has no rows";
      return p;
    }
    Tensor t = *it->second;
    const auto pit = s.pool.find(name);
    if (pit != s.pool.end()) t = concat_rows(t, pit->second);
    b.rows = rows_of(t);
    b.pool[name] = std::move(t);
  }
  p.probe_rows = std::min(kMaxProbeRows, rows_of(*s.inputs.at(layout->inputs[0])));
  p.neighbour_pool = b.rows > p.probe_rows ? b.rows - p.probe_rows : p.probe_rows;

  // Each probe row alone: the results every placement is compared with.
  Outputs alone;
  for (int64_t j = 0; j < p.probe_rows; ++j) {
    Batcher::Batch one = b.batch({j});
    Outputs o = cand.run(s.op, one.in, one.expected, s.recipe, RunOptions{});
    if (j == 0) {
      alone = std::move(o);
      continue;
    }
    for (size_t i = 0; i < alone.size(); ++i) alone[i].second = concat_rows(alone[i].second, o[i].second);
  }
  for (const auto& [name, t] : alone) p.row_elements += t.numel() / p.probe_rows;
  const Batcher::Batch all = b.batch(iota(0, p.probe_rows));
  p.baseline_matches = matching_recipes(s.op, all.in, alone);

  const uint64_t key = rng_key(s.seed, rng_stream_id("gpu-check neighbours"));
  for (int64_t size : sizes) {
    const int64_t k = std::min(size, p.probe_rows);
    const Outputs want = take_rows(alone, iota(0, k));
    std::map<int64_t, BatchCell> by_position;  // positions coincide for small batches: run each once
    for (int slot = 0; slot < 3; ++slot) {
      const int64_t pos = slot == 0 ? 0 : slot == 1 ? (size - k) / 2 : size - k;
      if (!by_position.count(pos)) {
        std::vector<int64_t> pick(static_cast<size_t>(size));
        for (int64_t i = 0; i < size; ++i) {
          const uint64_t r = rng_at(key, uint64_t(size) << 24 | uint64_t(slot) << 22 | uint64_t(i));
          pick[size_t(i)] = i >= pos && i < pos + k ? i - pos
                            : b.rows > p.probe_rows ? p.probe_rows + int64_t(r % uint64_t(b.rows - p.probe_rows))
                                                    : int64_t(r % uint64_t(p.probe_rows));
        }
        Batcher::Batch batch = b.batch(pick);
        const Outputs got = take_rows(cand.run(s.op, batch.in, batch.expected, s.recipe, RunOptions{}), iota(pos, k));
        BatchCell c;
        c.batch = size, c.position = pos, c.rows = k;
        int64_t flat = -1;
        c.differ = count_differ(want, got, &c.first_output, &flat);
        if (c.differ) {
          c.first_bits = element_pair_text(want, got, c.first_output, flat);
          for (const auto& [name, t] : got)
            if (name == c.first_output) {
              const int64_t per_row = t.numel() / k;
              c.first_row = pos + flat / per_row, c.first_col = flat % per_row;
            }
          const Batcher::Batch block = b.batch(iota(0, k));
          c.matches = matching_recipes(s.op, block.in, got);
          if (p.first_break < 0 && forensics_supports(s.op)) {
            p.baseline_forensics = recipe_forensics(s.op, block.in, want[0].second);
            p.break_forensics = recipe_forensics(s.op, block.in, got[0].second);
          }
        }
        by_position[pos] = c;
      }
      p.cells.push_back(by_position[pos]);
      if (p.first_break < 0 && p.cells.back().differ) p.first_break = int64_t(p.cells.size()) - 1;
    }
  }
  return p;
}

}  // namespace v4::harness
