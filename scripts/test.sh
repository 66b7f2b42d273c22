#!/usr/bin/env bash
# The test command: installs what is missing, builds (CUDA kernels too when nvcc exists), runs every
# GoogleTest binary through ctest. Exhaustive sweeps are not here: see README "Exhaustive checks".
set -euo pipefail
cd "$(dirname "$0")/.."
V4ORACLE_WITH_BROWSER=1 bash scripts/build.sh
cd build
ctest --output-on-failure -j"$(nproc)"
