#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with Debian's clang, ASan and UBSan in build-fuzz/, and runs each
# for SECONDS seconds on JOBS processes from a seed corpus of small valid files (docs/fuzzing.md);
# TARGETS picks some of them (default "h5_input policy catalog").
# libhdf5's own crashes and hangs are contained by the reader's forked inspector (they become
# InputErrors), so what the fuzzer stops on is a fault in project code.
#   scripts/fuzz.sh [SECONDS=60] [JOBS=1] [TARGETS="h5_input policy catalog"]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
jobs=${2:-1}
targets=${3:-h5_input policy catalog}
cmake -S . -B build-fuzz -DV4ORACLE_CUDA=OFF -DV4ORACLE_TESTS=OFF -DV4ORACLE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_h5_input fuzz_policy fuzz_catalog v4oracle >/dev/null  # errors go to stderr
corpus=build-fuzz/corpus
mkdir -p "$corpus/h5" "$corpus/policy" "$corpus/catalog"
# Seeds: small valid op files (every storage format and attribute kind) and a policy file.
for spec in "fp8_gemm --shape M=2 N=128 K=128" "act_quant --shape n=128" "fp4_act_quant --shape n=128" "rmsnorm" "hadamard"; do
  set -- $spec
  build-fuzz/cli/v4oracle op "$@" --seed 1 -o "$corpus/h5/$1.h5" >/dev/null 2>&1 || true
done
printf '# seed\nlayers/*/moe_gate/scores ulp:2 "gate scores"\n* bitwise\nlayers/1/* nmse:1e-6\nx ties\n' >"$corpus/policy/p.txt"
printf '# --map seed\nmodel.layers.0.attn.q /layers/0/attention/q\nout c\n' >"$corpus/policy/map.txt"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export V4ORACLE_INSPECT_TIMEOUT_S=${V4ORACLE_INSPECT_TIMEOUT_S:-2}
par=()  # several jobs: libFuzzer writes each job's output to fuzz-<n>.log in the current directory
[ "$jobs" -gt 1 ] && par=(-jobs="$jobs" -workers="$jobs")
for t in $targets; do
  dir=$corpus/$t; [ "$t" = h5_input ] && dir=$corpus/h5
  echo "== fuzz_$t: ${secs}s x $jobs"
  build-fuzz/fuzz/fuzz_$t "$dir" -max_total_time="$secs" "${par[@]}" -max_len=65536 -timeout=30 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix=build-fuzz/ 2>&1 | grep -E "^(stat::|#[0-9]+ +DONE|==[0-9]+==ERROR|SUMMARY)" || true
done
