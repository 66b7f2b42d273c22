#!/usr/bin/env bash
# Runs the pmath verification outside CI: (1) objdump gate: pmath.h compiled alone with the project's
# host flags must reference no external symbol (no libm call, no __builtin fallback); (2) the
# exhaustive sweep check/check_pmath.cpp (all 2^32 inputs per function; arguments pass through,
# e.g. `--sample 100000` or `exp sin`). Usage: scripts/check_pmath.sh [check_pmath args...]
# Build dir: $BUILD (default build-pmath). Takes about an hour for all 12 functions on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build-pmath}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target check_pmath -j2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# One extern "C" wrapper per function of the list in reference/pmath_table.h (V4_PMATH_FUNCTIONS).
cat >"$tmp/pmath_only.cpp" <<'EOF'
#include "reference/pmath_table.h"
#define V4_WRAP(f, kind) extern "C" float pmath_##f(float x) { return v4::pmath::f(x); }
V4_PMATH_FUNCTIONS(V4_WRAP)
EOF
g++ -std=c++20 -O2 -march=x86-64-v3 -ffp-contract=off -fno-fast-math -I"$root" -c "$tmp/pmath_only.cpp" -o "$tmp/pmath_only.o"
undefined=$(nm -u "$tmp/pmath_only.o")
if [[ -n "$undefined" ]]; then
  echo "objdump gate FAILED: pmath.h references external symbols:"
  echo "$undefined"
  exit 1
fi
echo "objdump gate passed: $(nm -g --defined-only "$tmp/pmath_only.o" | grep -c " T pmath_") functions, $(objdump -d "$tmp/pmath_only.o" | grep -c vfmadd) vfmadd, $(objdump -d "$tmp/pmath_only.o" | grep -c vsqrts) vsqrt, 0 external symbols"

"$build/check/check_pmath" "$@"
