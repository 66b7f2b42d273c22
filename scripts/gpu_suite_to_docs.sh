#!/usr/bin/env bash
# Pastes the GPU suite's results (scripts/gpu_suite.sh writes DIR/suite.md) into docs/gpu.md between the
# gpu-suite markers. Usage: scripts/gpu_suite_to_docs.sh DIR
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:?usage: scripts/gpu_suite_to_docs.sh DIR}/suite.md
[ -f "$src" ] || { echo "gpu_suite_to_docs: $src: no such file" >&2; exit 2; }
python3 - "$src" docs/gpu.md <<'PY'
import sys
src, doc = sys.argv[1], sys.argv[2]
body = open(src).read().replace('# GPU suite', '### Results', 1).replace('\n## ', '\n#### ')
s = open(doc).read()
b, e = '<!-- gpu-suite:begin -->\n', '<!-- gpu-suite:end -->'
i, j = s.index(b) + len(b), s.index(e)
tmp = doc + '.tmp'
open(tmp, 'w').write(s[:i] + body.rstrip('\n') + '\n' + s[j:])
import os; os.replace(tmp, doc)
PY
echo "docs/gpu.md: suite results from $src"
