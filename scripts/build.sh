#!/usr/bin/env bash
# Configures and builds v4oracle into build/ (Release). CUDA kernels are compiled too when nvcc is found
# (they run only on a GPU machine). Usage: scripts/build.sh [extra cmake args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cuda=OFF
if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then
  cuda=ON
  export PATH="/usr/local/cuda/bin:$PATH"
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DV4ORACLE_CUDA=${V4ORACLE_CUDA:-$cuda} "$@" >/dev/null
cmake --build build -j"$(nproc)"
