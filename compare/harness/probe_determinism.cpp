// The determinism probe (probes.h).
#include "compare/harness/op_exec.h"
#include "compare/harness/probes.h"

namespace v4::harness {

DeterminismProbe probe_determinism(Candidate& cand, const std::string& op, const Inputs& in, const Outputs& expected,
                                   Recipe r, int repeats) {
  DeterminismProbe p;
  p.repeats = repeats;
  p.streams = cand.streams();
  if (repeats < 2 && p.streams < 2) {
    p.skipped = "fewer than 2 launches";
    return p;
  }
  const Outputs first = cand.run(op, in, expected, r, RunOptions{0});
  int run = 1;
  auto launch = [&](int stream) {
    Launch l;
    l.run = ++run;
    l.stream = stream;
    const Outputs out = cand.run(op, in, expected, r, RunOptions{stream});
    l.differ = count_differ(first, out, &l.first_output, &l.first_index);
    if (l.differ) l.first_bits = element_pair_text(first, out, l.first_output, l.first_index);
    if (l.differ && p.first_diff < 0) p.first_diff = int64_t(p.launches.size());
    p.launches.push_back(l);
  };
  for (int i = 1; i < repeats; ++i) launch(0);
  for (int s = 1; s < p.streams; ++s) launch(s);
  return p;
}

}  // namespace v4::harness
