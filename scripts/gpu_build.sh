#!/usr/bin/env bash
# Builds what the GPU suite runs on the lent GPU machine into .devbuild/ (git-ignored, carried by the
# `device` tool): v4oracle with gpu-check (CUDA on, HDF5 static, CUDA runtime static), the self-test, the
# example plug-ins, bench_compare, and the two libraries the static HDF5 needs at run time.
# Usage: scripts/gpu_build.sh   then, on the GPU machine: bash scripts/gpu_suite.sh (docs/gpu.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/cuda/bin:$PATH"
cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -DV4ORACLE_CUDA=ON -DV4ORACLE_TESTS=OFF -DV4ORACLE_STATIC_HDF5=ON >/dev/null
targets=(v4oracle v4oracle_gpu_selftest bench_compare)
for t in $(cmake --build build-dev --target help | sed -n 's/^\.\.\. \(v4oracle_plugin_[a-z0-9_]*\).*/\1/p'); do targets+=("$t"); done
cmake --build build-dev -j"$(nproc)" --target "${targets[@]}"
mkdir -p .devbuild
cp build-dev/cli/v4oracle build-dev/compare/gpu/v4oracle_gpu_selftest build-dev/bench/bench_compare .devbuild/
find build-dev -name 'libv4oracle_plugin_*.so' -exec cp {} .devbuild/ \;
for lib in libsz.so.2 libaec.so.0; do cp -L "/lib/x86_64-linux-gnu/$lib" .devbuild/; done
ls -la .devbuild
