#!/usr/bin/env python3
"""GPU capture for the Newton-Schulz recipe check (docs/newton_schulz.md "GPU validation").

    python3 scripts/validate_newton_schulz.py capture --out DIR      # on the GPU machine (torch, triton)

Runs Keller Jordan's zeropower_via_newtonschulz5 op sequence (eager PyTorch, bf16) with DeepSeek-V4's
hybrid schedule on seeded inputs, with the three matrix products done by
  triton_chain   a Triton tl.dot kernel: one chain of bf16 wgmma instructions over all of K from zero,
                 fp32 accumulator, output cast to bf16 (the model of the `hopper` recipe, docs/gemm.md);
  cublas         torch.matmul (cuBLAS, PyTorch's defaults);
  cublas_full    torch.matmul with allow_bf16_reduced_precision_reduction = False.
Writes DIR/<case>.bin (the case's tensors as raw little-endian bf16 codes, one file per case, so each stays
under the device tool's 16 MiB per file), DIR/manifest.txt (what lies where), DIR/log.txt. The per-step trace
is kept for the cases up to 192 x 640. Compare here with `bench_newton_schulz --validate DIR` (C++; no numpy needed).
"""
import argparse
import json
import os
import sys
import time

SEED = 20260517
SHAPES = [(64, 128), (128, 64), (256, 256), (192, 640), (1024, 512)]
KELLER = (3.4445, -4.7750, 2.0315)
PIN = (2.0, -1.5, 0.5)
HYBRID = [KELLER] * 8 + [PIN] * 2


def capture(out_dir):
    import numpy as np
    import torch
    import triton
    import triton.language as tl

    @triton.jit
    def mm_kernel(a_ptr, b_ptr, out_ptr, M, N, K, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                  BLOCK_K: tl.constexpr):
        pid_m = tl.program_id(0)
        pid_n = tl.program_id(1)
        rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        rk = tl.arange(0, BLOCK_K)
        acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        for k0 in range(0, K, BLOCK_K):
            a = tl.load(a_ptr + rm[:, None] * K + (k0 + rk)[None, :])
            b = tl.load(b_ptr + rn[None, :] * K + (k0 + rk)[:, None])  # [BLOCK_K, BLOCK_N] view of B[N, K]
            acc = tl.dot(a, b, acc)
        tl.store(out_ptr + rm[:, None] * N + rn[None, :], acc)

    dev = torch.device("cuda")
    log = open(os.path.join(out_dir, "log.txt"), "w")

    def say(*a):
        s = " ".join(str(x) for x in a)
        print(s, flush=True)
        log.write(s + "\n")

    say(f"device {torch.cuda.get_device_name(0)} torch {torch.__version__} triton {triton.__version__} "
        f"cuda {torch.version.cuda}")
    ptx_seen = {}

    def mm_triton(a, b):  # a [M, K] @ b[N, K]^T -> bf16 [M, N]
        a, b = a.contiguous(), b.contiguous()
        M, K = a.shape
        N = b.shape[0]
        out = torch.empty((M, N), dtype=torch.float32, device=dev)
        ck = mm_kernel[(M // 64, N // 64)](a, b, out, M, N, K, BLOCK_M=64, BLOCK_N=64, BLOCK_K=64, num_warps=4)
        if "ptx" not in ptx_seen:
            import re
            ptx_seen["ptx"] = sorted(set(re.findall(r"(?:wgmma\.mma_async|mma)\.[A-Za-z0-9_.]+", ck.asm["ptx"])))
        return out.to(torch.bfloat16)

    def mm_cublas(a, b):
        return a @ b.T

    def ns(G, mm):
        # Keller's code, X.mT made contiguous so every product sees row-major operands.
        X = G.bfloat16()
        tr = G.size(0) > G.size(1)
        if tr:
            X = X.T.contiguous()
        norm = X.norm()
        X = X / (norm + 1e-7)
        trace = [X.clone()]
        for a, b, c in HYBRID:
            A = mm(X, X)
            B = b * A + mm(c * A, A.T.contiguous())
            X = a * X + mm(B, X.T.contiguous())
            trace.append(X.clone())
        if tr:
            X = X.T.contiguous()
        return X, norm, trace

    manifest = ["# case NAME ROWS COLS OFFSET | out NAME RUN OFFSET | trace NAME RUN K OFFSET | norm NAME RUN CODE",
                "# OFFSET: byte offset of raw little-endian bf16 codes in NAME.bin"]
    blob = bytearray()

    def put(t):
        off = len(blob)
        blob.extend(t.contiguous().view(torch.int16).cpu().numpy().astype("<i2").tobytes())
        return off

    rng = np.random.default_rng(SEED)
    t0 = time.time()
    for rows, cols in SHAPES:
        name = f"ns_{rows}x{cols}"
        blob = bytearray()
        g = torch.from_numpy((rng.standard_normal((rows, cols)) * 1e-3).astype(np.float32)).to(dev)
        gb = g.bfloat16()
        manifest.append(f"case {name} {rows} {cols} {put(gb)}")
        for run in ("triton_chain", "cublas", "cublas_full"):
            torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = run != "cublas_full"
            mm = mm_triton if run == "triton_chain" else mm_cublas
            o1, n1, tr1 = ns(gb, mm)
            o2, _, _ = ns(gb, mm)
            torch.cuda.synchronize()
            det = torch.equal(o1.view(torch.int16), o2.view(torch.int16))
            manifest.append(f"out {name} {run} {put(o1)}")
            manifest.append(f"norm {name} {run} {int(n1.view(torch.int16).item()) & 0xFFFF}")
            if rows * cols <= 192 * 640:
                for k, x in enumerate(tr1):
                    manifest.append(f"trace {name} {run} {k} {put(x)}")
            say(f"{time.time() - t0:6.1f}s {name} {run}: deterministic={det}")
        with open(os.path.join(out_dir, name + ".bin"), "wb") as f:
            f.write(blob)
    torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = True
    with open(os.path.join(out_dir, "manifest.txt"), "w") as f:
        f.write("\n".join(manifest) + "\n")
    say("triton ptx:", json.dumps(ptx_seen.get("ptx")))
    say("files:", {f: os.path.getsize(os.path.join(out_dir, f)) for f in sorted(os.listdir(out_dir))})
    log.close()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("--out", required=True)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.cmd == "capture":
        capture(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
