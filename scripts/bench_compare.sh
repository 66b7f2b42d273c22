#!/usr/bin/env bash
# Comparator throughput vs plain sequential read bandwidth of the same files (docs/compare.md
# §Performance). Generates a golden and a candidate of GIB GiB each in DIR (bench/bench_compare), then,
# warm cache (both files read once first; dropping the page cache needs root and is not attempted):
#   read:    cat golden.h5 candidate.h5 >/dev/null            best of REPS
#   compare: v4oracle compare -q golden.h5 candidate.h5       best of REPS (exit 1 expected: one planted ulp)
# prints throughput = (bytes of both files) / seconds, the ratio compare / read, and the comparator's
# peak RSS (bounded memory). Needs only bash, coreutils and awk.
# MODE=inspect measures the forked metadata inspector's cost instead (docs/hdf5-tensors.md §Untrusted
# files): the full compare and the metadata-only compare (--policy ignore), each with the inspector off
# (V4ORACLE_INSPECT=0, which exists for this measurement only) and on, runs alternating, best of REPS.
#   scripts/bench_compare.sh BUILD_DIR [GIB=4] [DIR=/tmp/v4bench] [REPS=3] [MODE=throughput|inspect]
set -euo pipefail
build=${1:?usage: scripts/bench_compare.sh BUILD_DIR [GIB] [DIR] [REPS] [MODE]}
gib=${2:-4}
dir=${3:-/tmp/v4bench}
reps=${4:-3}
mode=${5:-throughput}
case $mode in throughput|inspect) ;; *) echo "MODE must be throughput or inspect, not '$mode'" >&2; exit 2 ;; esac
mkdir -p "$dir"
if [ ! -f "$dir/golden.h5" ] || [ ! -f "$dir/candidate.h5" ] || [ "$(cat "$dir/.gib" 2>/dev/null)" != "$gib" ]; then
  "$build/bench/bench_compare" "$dir" "$gib"
  echo "$gib" >"$dir/.gib"
fi
g=$dir/golden.h5 c=$dir/candidate.h5
bytes=$(( $(stat -c %s "$g") + $(stat -c %s "$c") ))
best() {  # best wall time (seconds) of $reps runs of "$@"; exit status 1 (divergence) is expected
  local b="" t0 t1 rc
  for _ in $(seq "$reps"); do
    t0=$(date +%s%N)
    rc=0; "$@" >/dev/null || rc=$?
    t1=$(date +%s%N)
    [ $rc -le 1 ] || { echo "command failed ($rc): $*" >&2; exit 1; }
    b=$(awk -v b="$b" -v d=$(( t1 - t0 )) 'BEGIN { d /= 1e9; print (b == "" || d < b) ? d : b }')
  done
  echo "$b"
}
cat "$g" "$c" >/dev/null  # warm the page cache
if [ "$mode" = inspect ]; then
  v4=$build/cli/v4oracle
  run1() {  # "wall cpu" seconds of one run of "$@" (cpu: user + system of it and its children, the
            # inspector's forked children included); exit status 1 (divergence) is expected
    local TIMEFORMAT='%3R %3U %3S' t rc
    t=$( { time "$@" >/dev/null 2>&1; echo "rc $?" >&2; } 2>&1 )
    rc=$(echo "$t" | awk '/^rc/ { print $2 }')
    [ "$rc" -le 1 ] || { echo "command failed ($rc): $*" >&2; exit 1; }
    echo "$t" | awk '!/^rc/ { print $1, $2 + $3 }'
  }
  min2() { awk -v a="$1" -v b="$2" 'BEGIN { split(b, y, " "); if (a == "") { print b; exit }
                                           split(a, x, " "); print (y[1] < x[1] ? y[1] : x[1]), (y[2] < x[2] ? y[2] : x[2]) }'; }
  off_full="" on_full="" off_meta="" on_meta=""
  for _ in $(seq "$reps"); do  # alternating, so a change in the machine's load hits both sides alike
    off_full=$(min2 "$off_full" "$(run1 env V4ORACLE_INSPECT=0 "$v4" compare -q "$g" "$c")")
    on_full=$(min2 "$on_full" "$(run1 "$v4" compare -q "$g" "$c")")
    off_meta=$(min2 "$off_meta" "$(run1 env V4ORACLE_INSPECT=0 "$v4" compare -q --policy ignore "$g" "$c")")
    on_meta=$(min2 "$on_meta" "$(run1 "$v4" compare -q --policy ignore "$g" "$c")")
  done
  awk -v B="$bytes" -v a="$off_full" -v b="$on_full" -v m0="$off_meta" -v m1="$on_meta" -v r="$reps" -v n="$(nproc)" 'BEGIN {
    split(a, A, " "); split(b, Bn, " "); split(m0, M0, " "); split(m1, M1, " ")
    printf "files:    2 x %.2f GiB, %d cores, best of %d alternating runs (wall; cpu = user + system)\n", B / 2 / 2^30, n, r
    printf "metadata: compare -q --policy ignore  inspector off %.3f s (cpu %.3f)  on %.3f s (cpu %.3f)  wall %+.3f s\n", M0[1], M0[2], M1[1], M1[2], M1[1] - M0[1]
    printf "full:     compare -q                  inspector off %.3f s (cpu %.3f)  on %.3f s (cpu %.3f)  wall %+.3f s\n", A[1], A[2], Bn[1], Bn[2], Bn[1] - A[1]
    printf "throughput with / without inspector = %.3f (inspector cost %+.1f%% of the full compare%s)\n", A[1] / Bn[1], 100 * (Bn[1] - A[1]) / Bn[1], Bn[1] < A[1] ? "; negative: a saving" : ""
  }'
  exit 0
fi
t_cat=$(best cat "$g" "$c")
t_cmp=$(best "$build/cli/v4oracle" compare -q "$g" "$c")
rss=unknown
if [ -x /usr/bin/time ]; then
  rss=$( { /usr/bin/time -f %M "$build/cli/v4oracle" compare -q "$g" "$c" >/dev/null || true; } 2>&1 | tail -1)
  rss="$(( rss / 1024 )) MiB"
fi
awk -v B="$bytes" -v tc="$t_cat" -v tm="$t_cmp" -v n="$(nproc)" -v omp="${OMP_NUM_THREADS:-unset}" -v rss="$rss" 'BEGIN {
  printf "files:   2 x %.2f GiB (%.0f bytes), %d cores, OMP_NUM_THREADS=%s\n", B / 2 / 2^30, B, n, omp
  printf "read:    cat       %.3f s  %.2f GB/s\n", tc, B / tc / 1e9
  printf "compare: v4oracle  %.3f s  %.2f GB/s  (peak RSS %s)\n", tm, B / tm / 1e9, rss
  printf "ratio:   compare / read = %.2f\n", tc / tm
}'
