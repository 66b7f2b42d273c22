#!/usr/bin/env bash
# The GPU suite: everything docs/gpu.md reports about the lent GPU, in one command on the device machine.
#   here:            bash scripts/gpu_build.sh             (builds .devbuild/)
#   on the GPU:      bash scripts/gpu_suite.sh [quick]     (through the `device` tool, carrying .devbuild)
#   back here:       bash scripts/gpu_suite_to_docs.sh DIR (DIR: where the tool put suite.md and suite.log)
# Writes $OUT/suite.md (tables, pasted into docs/gpu.md between the gpu-suite markers) and $OUT/suite.log
# (every command's full output). `quick` skips the exhaustive sweep and the large probes. About 8 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-suite}; mkdir -p "$OUT"
D=$PWD/.devbuild
export LD_LIBRARY_PATH=$D:${LD_LIBRARY_PATH:-} OMP_NUM_THREADS=$(nproc)
if [ -z "${V4ORACLE_CUBLASLT:-}" ]; then
  V4ORACLE_CUBLASLT=$(find / -name 'libcublasLt.so.1*' -not -path '/proc/*' 2>/dev/null | sort | head -1); export V4ORACLE_CUBLASLT
fi
md=$OUT/suite.md log=$OUT/suite.log
: >"$md"; : >"$log"
t0=$(date +%s)
say() { echo "$*" | tee -a "$md"; }
# run "what" command...: full output to the log, "| what | exit | last line |" to the table.
run() {
  local what=$1; shift
  local s=$(date +%s)
  { echo; echo "### $what"; echo "\$ $*"; } >>"$log"
  "$@" >"$OUT/.cmd" 2>&1; local rc=$?
  cat "$OUT/.cmd" >>"$log"
  local last why; last=$(grep -v '^$' "$OUT/.cmd" | tail -1 | sed 's/|/\\|/g')
  # gpu-check: the first recipe-forensics verdict, when there is one
  why=$(grep -m1 -o -E '[a-z0-9_]+ at M=[0-9]+ N=[0-9]+ K=[0-9]+ (behaves as|: no variant).*' "$OUT/.cmd" | sed 's/|/\\|/g')
  echo "| $what | $rc | $(( $(date +%s) - s )) s | $last${why:+ <br> forensics: $why} |" >>"$md"
  echo "[$(( $(date +%s) - t0 )) s] $what: exit $rc"
}
gc() { "$D/v4oracle" gpu-check "$@"; }

say "# GPU suite"; say
say "- device: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null)"
say "- cuBLASLt: ${V4ORACLE_CUBLASLT:-none}"
say "- build: $("$D/v4oracle" --version)"
say "- date: $(date -u +%Y-%m-%d)"; say

say "## Built-in kernels against the CPU reference (v4oracle_gpu_selftest)"; say
say "| check | exit | time | verdict |"; say "|---|---|---|---|"
for r in canonical hopper; do
  for sp in "" --specials; do
    "$D/v4oracle_gpu_selftest" --recipe $r $sp >"$OUT/.st" 2>&1; rc=$?
    cat "$OUT/.st" >>"$log"
    grep -E "^[a-z0-9_]+ +[^ ].*: v4oracle compare" "$OUT/.st" | while read -r op kernel rest; do
      echo "| $op ($r${sp:+, specials}) | $rc | - | ${kernel%:} ${rest#*v4oracle compare: } |" | sed 's/ (outputs:/ (/' >>"$md"
    done
  done
done
run "fp8_gemm hopper, CUDA-core wgmma model, 130x257x512, specials" "$D/v4oracle_gpu_selftest" --cudacore --recipe hopper --op fp8_gemm --specials --shape M=130 --shape N=257 --shape K=512
run "fp8_gemm hopper, tensor cores, 1000x300x512" "$D/v4oracle_gpu_selftest" --recipe hopper --op fp8_gemm --shape M=1000 --shape N=300 --shape K=512
if [ "${1:-}" != quick ]; then
  run "exhaustive, every 16th chunk of 2^24 float32 inputs" "$D/v4oracle_gpu_selftest" --exhaustive --stride 16
fi
say

say "## gpu-check: bitwise diff, batch-invariance and determinism probes"; say
say "| candidate, op, shape | exit | time | summary |"; say "|---|---|---|---|"
G="M=256 N=2048 K=4096"
run "builtin fp8_gemm hopper (tensor cores) $G" gc --candidate builtin --op fp8_gemm --recipe hopper --shape $G
run "builtin fp8_gemm canonical $G" gc --candidate builtin --op fp8_gemm --recipe canonical --shape M=256 N=512 K=1024
for op in fp4_gemm bf16_gemm f32_gemm; do
  for r in canonical hopper; do run "builtin $op $r M=256 N=512 K=1024" gc --candidate builtin --op $op --recipe $r --shape M=256 N=512 K=1024; done
done
for op in act_quant fp4_act_quant hadamard bf16 fp8_e4m3 fp4_e2m1 exp silu; do run "builtin $op" gc --candidate builtin --op $op; done
run "cublaslt fp8_gemm (block scales) $G" gc --candidate cublaslt --op fp8_gemm --recipe hopper --shape $G
# Per-tensor scales: the batch probe's neighbour rows come from another seed (another scale), so only
# the diff and the determinism probe apply.
run "cublaslt:tensorwise fp8_gemm M=256 N=2048 K=4096 uniform_scales=1" gc --candidate cublaslt:tensorwise --op fp8_gemm --recipe hopper --probe determinism --shape $G uniform_scales=1
run "cublaslt:tensorwise-fastaccum fp8_gemm, same" gc --candidate cublaslt:tensorwise-fastaccum --op fp8_gemm --recipe hopper --probe determinism --shape $G uniform_scales=1
for s in "M=128 N=1024 K=1024" "M=512 N=2048 K=512" "M=64 N=512 K=4096" "M=1 N=4096 K=7168" "M=256 N=256 K=8192"; do
  run "cublaslt bf16_gemm $s" gc --candidate cublaslt --op bf16_gemm --recipe hopper --shape $s
done
run "plugin splitk_bf16 (device) bf16_gemm M=256 N=1024 K=7168" gc --candidate plugin:$D/libv4oracle_plugin_splitk_bf16.so --op bf16_gemm --recipe canonical --shape M=256 N=1024 K=7168
say

say "## Tensor-core FP8 GEMM against cuBLASLt (v4oracle_gpu_selftest --bench)"; say
"$D/v4oracle_gpu_selftest" --bench >"$OUT/.b" 2>&1; cat "$OUT/.b" >>"$log"; grep '^|' "$OUT/.b" >>"$md"
say
if [ -x "$D/bench_compare" ] && [ "${1:-}" != quick ]; then
  say "## Comparator throughput with and without the metadata inspector (scripts/bench_compare.sh MODE=inspect)"; say
  b=/tmp/v4suite-build; mkdir -p $b/bench $b/cli; ln -sf "$D/bench_compare" $b/bench/; ln -sf "$D/v4oracle" $b/cli/
  say "2 GiB golden + 2 GiB candidate on the GPU machine's local disk, best of 15, warm page cache:"; say; say '```'
  bash scripts/bench_compare.sh $b 2 /tmp/v4bench 15 inspect >"$OUT/.i" 2>&1; cat "$OUT/.i" >>"$log"; tail -15 "$OUT/.i" >>"$md"
  say '```'
  rm -rf /tmp/v4bench
fi
rm -f "$OUT/.cmd" "$OUT/.st" "$OUT/.b" "$OUT/.i"
echo "suite done in $(( $(date +%s) - t0 )) s: $md"
