#!/usr/bin/env bash
# The test command: installs what is missing, builds (CUDA kernels too when nvcc exists), runs every
# GoogleTest binary through ctest; then builds the same code with AddressSanitizer + UndefinedBehavior-
# Sanitizer into build-asan/ (CUDA off) and runs the suite there once more (docs/fuzzing.md).
# V4ORACLE_SKIP_ASAN=1 skips the second pass. Exhaustive sweeps are not here: see README "Exhaustive checks".
set -euo pipefail
cd "$(dirname "$0")/.."
V4ORACLE_WITH_BROWSER=1 bash scripts/build.sh
(cd build && ctest --output-on-failure -j"$(nproc)")
[ "${V4ORACLE_SKIP_ASAN:-0}" = 1 ] && exit 0
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DV4ORACLE_CUDA=OFF -DV4ORACLE_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
# Every report fatal; leaks checked at exit; the suppressions name libhdf5's own frames only.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:check_initialization_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp:print_suppressions=0
ctest --test-dir build-asan --output-on-failure -j"$(nproc)"
