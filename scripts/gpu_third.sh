#!/usr/bin/env bash
set -u
B=.devbuild/v4oracle_gpu_selftest
export OMP_NUM_THREADS=16 LD_LIBRARY_PATH=$PWD/.devbuild:${LD_LIBRARY_PATH:-}
for r in canonical hopper; do
  echo "== seeded, recipe $r"; $B --recipe $r 2>&1 | grep -v "^device\|^cuBLASLt"
  echo "== specials, recipe $r"; $B --recipe $r --specials 2>&1 | grep -v "^device\|^cuBLASLt"
done
echo "== odd GEMM shapes"
for r in canonical hopper; do for op in fp8_gemm fp4_gemm bf16_gemm f32_gemm; do
  $B --recipe $r --op $op --shape M=37 --shape N=150 --shape K=384 2>&1 | grep "_gemm  \|FAIL"
  $B --recipe $r --op $op --specials --shape M=130 --shape N=257 --shape K=512 2>&1 | grep "_gemm  \|FAIL"
done; done
echo "== cudacore fp8 hopper"
$B --cudacore --recipe hopper --op fp8_gemm --shape M=130 --shape N=257 --shape K=512 2>&1 | grep "_gemm  \|FAIL"
$B --cudacore --recipe hopper --op fp8_gemm --specials 2>&1 | grep "_gemm  \|FAIL"
