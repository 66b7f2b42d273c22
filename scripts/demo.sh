#!/usr/bin/env bash
# The main job: installs what is missing, builds, runs `v4oracle demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
./build/cli/v4oracle demo "$@"
