#!/usr/bin/env python3
"""Capture Hopper tensor-core GEMM results to validate v4oracle's `hopper` recipe model (docs/gemm.md).

Two modes:
  capture  (on the lent H100, needs torch + triton):
      python3 scripts/validate_hopper.py capture --out $OUT
    Generates e4m3 / bf16 inputs with a fixed seed, runs torch._scaled_mm (cuBLASLt, unit scales, fp32 out,
    use_fast_accum False/True) and Triton tl.dot kernels (wgmma; fp32 accumulator; chained, or promoted
    every 128 / 32 K via max_num_imprecise_acc; or one instruction on a loaded fp32 C), and saves inputs
    and outputs as .npz files plus meta.json (versions, PTX wgmma instructions, cuBLAS kernel names).
  export   (here, numpy only; /usr/bin/python3):
      /usr/bin/python3 scripts/validate_hopper.py export --npz DIR_WITH_NPZ --bin OUTDIR
    Writes every array as a raw little-endian .bin file and OUTDIR/manifest.txt, the input of
    `bench_gemm --validate OUTDIR`, which compares the GPU bits with the C++ model (reference/wgmma_model.h).

The comparison itself is in C++ on purpose: what is validated is the project's model, not a Python copy.
Inputs are finite e4m3 codes only (no NaN codes 0x7F/0xFF).

  mmasim-zero  (here, numpy only):
      /usr/bin/python3 scripts/validate_hopper.py mmasim-zero --bin OUTDIR
    Evidence for one modelling decision only: MMA-Sim's code gives a zero operand the exponent -126, so a
    zero product can set the alignment exponent; our model lets zero products take no part. This mode
    replays the two GPU probes that separate the conventions with a literal port of MMA-Sim's
    fused_dot_add and prints its match count (ours: bench_gemm --validate).
"""
import argparse
import json
import os
import sys
import time
import traceback

import numpy as np

SEED = 20251113
FP8_SHAPES = [(64, 64), (128, 128)]
FP8_KS = [128, 256, 1024, 4096]
FP8_RANGES = ["wide", "narrow", "cancel", "subnormal", "zeros"]


# ----------------------------------------------------------------------------------------------
# Input generation (numpy only). A is [M, K], B is [N, K] (C = A·Bᵀ); K-position patterns (mirrors,
# zero masks) are shared by all rows so that every (m, n) pair sees them.
def e4m3_codes(rng, shape, exp_lo, exp_hi):
    """Random finite e4m3 codes with exponent field in [exp_lo, exp_hi] (exp field 15 only with mant < 7)."""
    sign = rng.integers(0, 2, shape, dtype=np.uint8)
    expf = rng.integers(exp_lo, exp_hi + 1, shape, dtype=np.uint8)
    mant = rng.integers(0, 8, shape, dtype=np.uint8)
    mant = np.where((expf == 15) & (mant == 7), 6, mant).astype(np.uint8)
    return ((sign << 7) | (expf << 3) | mant).astype(np.uint8)


def e4m3_wide(rng, shape):
    x = rng.integers(0, 254, shape)  # 254 finite codes: 0x00-0x7E, 0x80-0xFE
    return (x + (x >= 0x7F)).astype(np.uint8)


def gen_fp8(rng, kind, M, N, K):
    if kind == "wide":
        return e4m3_wide(rng, (M, K)), e4m3_wide(rng, (N, K))
    if kind == "narrow":  # |v| in [0.5, 4): products within 4 binades, random signs
        return e4m3_codes(rng, (M, K), 6, 8), e4m3_codes(rng, (N, K), 6, 8)
    if kind == "cancel":
        # In every 32-chunk: k in 16..29 repeats k-16 with B negated and its mantissa LSB flipped at
        # random (near-cancellation inside one wgmma); k = 30, 31 are tiny (exp field 0..2).
        a = e4m3_codes(rng, (M, K), 5, 9)
        b = e4m3_codes(rng, (N, K), 5, 9)
        for c0 in range(0, K, 32):
            src = np.arange(c0, c0 + 14)
            dst = src + 16
            a[:, dst] = a[:, src]
            flip = rng.integers(0, 2, (N, 14), dtype=np.uint8)
            b[:, dst] = (b[:, src] ^ 0x80) ^ flip
            a[:, c0 + 30:c0 + 32] = e4m3_codes(rng, (M, 2), 0, 2)
            b[:, c0 + 30:c0 + 32] = e4m3_codes(rng, (N, 2), 0, 2)
        return a, b
    if kind == "subnormal":  # mostly subnormal codes, some large: long alignment shifts
        def one(rows):
            sel = rng.random((rows, K))
            return np.where(sel < 0.8, e4m3_codes(rng, (rows, K), 0, 0),
                            np.where(sel < 0.9, e4m3_codes(rng, (rows, K), 1, 2),
                                     e4m3_codes(rng, (rows, K), 9, 14))).astype(np.uint8)
        return one(M), one(N)
    if kind == "zeros":
        # Probe: does a zero product take part in the alignment exponent? A small (exp field 1..4) with
        # 1/4 zeros (both signs); B = ±448 exactly where A is zero, small elsewhere. If a zero operand had
        # the exponent of the smallest binade (-6), the zero product's exponent -6+8 = 2 would be the max
        # and truncate the real products (exponents <= -6) at 2^-11.
        a = e4m3_codes(rng, (M, K), 1, 4)
        b = e4m3_codes(rng, (N, K), 1, 4)
        mask = rng.random(K) < 0.25
        a[:, mask] = (rng.integers(0, 2, (M, int(mask.sum())), dtype=np.uint8) << 7)
        b[:, mask] = 0x7E | (rng.integers(0, 2, (N, int(mask.sum())), dtype=np.uint8) << 7)
        return a, b
    raise ValueError(kind)


def f32_to_bf16_codes(x):
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def bf16_codes(rng, shape, exp_lo, exp_hi):
    sign = rng.integers(0, 2, shape, dtype=np.uint16)
    expf = rng.integers(exp_lo + 127, exp_hi + 128, shape, dtype=np.uint16)
    mant = rng.integers(0, 128, shape, dtype=np.uint16)
    return ((sign << 15) | (expf << 7) | mant).astype(np.uint16)


def gen_bf16(rng, kind, M, N, K):
    if kind == "normal":
        return (f32_to_bf16_codes(rng.standard_normal((M, K))), f32_to_bf16_codes(rng.standard_normal((N, K))))
    if kind == "wide":
        return bf16_codes(rng, (M, K), -40, 40), bf16_codes(rng, (N, K), -40, 40)
    if kind == "zeros":  # as the fp8 probe: B = ±2^120 where A is zero
        a = bf16_codes(rng, (M, K), -12, -8)
        b = bf16_codes(rng, (N, K), -12, -8)
        mask = rng.random(K) < 0.25
        a[:, mask] = (rng.integers(0, 2, (M, int(mask.sum())), dtype=np.uint16) << 15)
        b[:, mask] = (247 << 7) | (rng.integers(0, 2, (N, int(mask.sum())), dtype=np.uint16) << 15)
        return a, b
    raise ValueError(kind)


def gen_c(rng, kind, M, N):
    if kind == "c_random":
        c = rng.standard_normal((M, N)) * np.exp2(rng.integers(-8, 12, (M, N)))
        return c.astype(np.float32)
    if kind == "c_huge":
        c = (1 + rng.random((M, N))) * np.exp2(rng.integers(20, 25, (M, N)))
        return (c * np.where(rng.random((M, N)) < 0.5, -1, 1)).astype(np.float32)
    if kind in ("c_tiny", "c_tiny_nz"):
        c = ((1 + rng.random((M, N))) * np.exp2(rng.integers(-126, -115, (M, N)))).astype(np.float32)
        sub = rng.integers(1, 1 << 23, (M, N), dtype=np.uint32).view(np.float32)
        c = np.where(rng.random((M, N)) < 0.25, sub, c).astype(np.float32)
        return (c * np.where(rng.random((M, N)) < 0.5, -1, 1)).astype(np.float32)
    raise ValueError(kind)


def build_cases():
    """Every case: dict(name, dtype, M, N, K, a, b, c (or None), runs=[variant names])."""
    rng = np.random.default_rng(SEED)
    cases = []
    fp8_runs = ["cublas_fast", "cublas_slow", "triton_chain_bk128", "triton_chain_bk32",
                "triton_p128_bk128", "triton_p32_bk128"]
    for kind in FP8_RANGES:
        for (M, N) in FP8_SHAPES:
            for K in FP8_KS:
                a, b = gen_fp8(rng, kind, M, N, K)
                cases.append(dict(name=f"fp8_{kind}_m{M}n{N}k{K}", file=f"fp8_{kind}", dtype="e4m3",
                                  M=M, N=N, K=K, a=a, b=b, c=None, runs=fp8_runs))
    # One wgmma (K = 32) on a loaded fp32 accumulator.
    for kind, arange in [("c_random", "wide"), ("c_huge", "narrow"), ("c_tiny", "zero448"), ("c_tiny_nz", "subnormal")]:
        M = N = 64
        K = 32
        if arange == "zero448":
            a = (rng.integers(0, 2, (M, K), dtype=np.uint8) << 7).astype(np.uint8)
            b = np.full((N, K), 0x7E, dtype=np.uint8)
        else:
            a, b = gen_fp8(rng, arange, M, N, K)
        cases.append(dict(name=f"fp8_{kind}_m{M}n{N}k{K}", file="probes", dtype="e4m3", M=M, N=N, K=K,
                          a=a, b=b, c=gen_c(rng, kind, M, N), runs=["triton_chain_c_bk32"]))
    for kind in ["normal", "wide", "zeros"]:
        for K in [128, 1024]:
            M = N = 64
            a, b = gen_bf16(rng, kind, M, N, K)
            cases.append(dict(name=f"bf16_{kind}_m{M}n{N}k{K}", file="probes", dtype="bf16", M=M, N=N, K=K,
                              a=a, b=b, c=None, runs=["triton_chain_bk64"]))
    M = N = 64
    a, b = gen_bf16(rng, "wide", M, N, 16)
    cases.append(dict(name="bf16_c_random_m64n64k16", file="probes", dtype="bf16", M=M, N=N, K=16,
                      a=a, b=b, c=gen_c(rng, "c_random", M, N), runs=["triton_chain_c_bk16"]))
    return cases


# ----------------------------------------------------------------------------------------------
# GPU side.
def capture(out_dir):
    import torch
    import triton
    import triton.language as tl

    @triton.jit
    def mm_kernel(a_ptr, b_ptr, c_ptr, out_ptr, M, N, K,
                  BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                  IMPRECISE: tl.constexpr, LOAD_C: tl.constexpr):
        pid_m = tl.program_id(0)
        pid_n = tl.program_id(1)
        rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        rk = tl.arange(0, BLOCK_K)
        if LOAD_C:
            acc = tl.load(c_ptr + rm[:, None] * N + rn[None, :])
        else:
            acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        for k0 in range(0, K, BLOCK_K):
            a = tl.load(a_ptr + rm[:, None] * K + (k0 + rk)[None, :])
            b = tl.load(b_ptr + rn[None, :] * K + (k0 + rk)[:, None])  # [BLOCK_K, BLOCK_N] view of B[N, K]
            if IMPRECISE > 0:
                acc = tl.dot(a, b, acc, max_num_imprecise_acc=IMPRECISE)
            else:
                acc = tl.dot(a, b, acc)
        tl.store(out_ptr + rm[:, None] * N + rn[None, :], acc)

    dev = torch.device("cuda")
    meta = dict(seed=SEED, torch=torch.__version__, triton=triton.__version__,
                device=torch.cuda.get_device_name(0), capability=list(torch.cuda.get_device_capability(0)),
                cuda=torch.version.cuda, cublaslt=None, ptx={}, cublas_kernels={}, errors=[],
                nondeterministic=[], cases=[])
    try:
        meta["cublaslt"] = torch._C._cuda_getCompiledVersion()
    except Exception:
        pass
    print(f"device {meta['device']} torch {meta['torch']} triton {meta['triton']} cuda {meta['cuda']}", flush=True)

    def to_dev(case):
        if case["dtype"] == "e4m3":
            a = torch.from_numpy(case["a"]).to(dev).view(torch.float8_e4m3fn)
            b = torch.from_numpy(case["b"]).to(dev).view(torch.float8_e4m3fn)
        else:
            a = torch.from_numpy(case["a"].view(np.int16)).to(dev).view(torch.bfloat16)
            b = torch.from_numpy(case["b"].view(np.int16)).to(dev).view(torch.bfloat16)
        return a, b

    one = torch.ones((), dtype=torch.float32, device=dev)

    def run_cublas(a, b, fast):
        return torch._scaled_mm(a, b.t(), scale_a=one, scale_b=one, out_dtype=torch.float32,
                                use_fast_accum=fast)

    def run_triton(a, b, c, M, N, K, bk, imprecise, tag):
        out = torch.empty((M, N), dtype=torch.float32, device=dev)
        out.fill_(float("nan"))
        cc = c if c is not None else out
        ck = mm_kernel[(M // 64, N // 64)](a, b, cc, out, M, N, K, BLOCK_M=64, BLOCK_N=64, BLOCK_K=bk,
                                           IMPRECISE=imprecise, LOAD_C=c is not None, num_warps=4)
        if tag not in meta["ptx"]:
            try:
                import re
                ptx = ck.asm["ptx"]
                meta["ptx"][tag] = sorted(set(re.findall(r"(?:wgmma\.mma_async|mma)\.[A-Za-z0-9_.]+", ptx)))
            except Exception as e:  # noqa: BLE001
                meta["ptx"][tag] = f"unavailable: {e!r}"
        return out

    def cublas_kernel_names(a, b, fast):
        from torch.profiler import profile, ProfilerActivity
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            run_cublas(a, b, fast)
            torch.cuda.synchronize()
        return sorted({e.name for e in prof.events() if str(e.device_type).endswith("CUDA")})

    cases = build_cases()
    files = {}
    t0 = time.time()
    for case in cases:
        M, N, K = case["M"], case["N"], case["K"]
        a, b = to_dev(case)
        c = torch.from_numpy(case["c"]).to(dev) if case["c"] is not None else None
        store = files.setdefault(case["file"], {})
        store[case["name"] + "__a"] = case["a"]
        store[case["name"] + "__b"] = case["b"]
        if case["c"] is not None:
            store[case["name"] + "__c"] = case["c"]
        done = []
        for run in case["runs"]:
            try:
                def once():
                    if run == "cublas_fast":
                        return run_cublas(a, b, True)
                    if run == "cublas_slow":
                        return run_cublas(a, b, False)
                    if run.startswith("triton_"):
                        bk = int(run.rsplit("_bk", 1)[1])
                        imprecise = 0
                        if "_p128_" in run:
                            imprecise = 128
                        if "_p32_" in run:
                            imprecise = 32
                        tag = f"{case['dtype']}_{run}"
                        return run_triton(a, b, c, M, N, K, bk, imprecise, tag)
                    raise ValueError(run)
                r1 = once()
                r2 = once()
                torch.cuda.synchronize()
                o1 = r1.float().cpu().numpy().astype(np.float32)
                o2 = r2.float().cpu().numpy().astype(np.float32)
                if not np.array_equal(o1.view(np.uint32), o2.view(np.uint32)):
                    meta["nondeterministic"].append(f"{case['name']}:{run}")
                store[f"{case['name']}__out_{run}"] = o1
                done.append(run)
                if run.startswith("cublas") and K in (128, 4096) and case["name"].startswith("fp8_wide"):
                    key = f"m{M}n{N}k{K}_{run}"
                    try:
                        meta["cublas_kernels"][key] = cublas_kernel_names(a, b, run == "cublas_fast")
                    except Exception as e:  # noqa: BLE001
                        meta["cublas_kernels"][key] = f"unavailable: {e!r}"
            except Exception as e:  # noqa: BLE001
                msg = f"{case['name']}:{run}: {e!r}"
                print("ERROR", msg, flush=True)
                traceback.print_exc()
                meta["errors"].append(msg)
        meta["cases"].append(dict(name=case["name"], file=case["file"], dtype=case["dtype"], M=M, N=N, K=K,
                                  has_c=case["c"] is not None, runs=done))
        print(f"{time.time() - t0:7.1f}s {case['name']}: {' '.join(done)}", flush=True)

    os.makedirs(out_dir, exist_ok=True)
    for fname, arrays in files.items():
        np.savez_compressed(os.path.join(out_dir, fname + ".npz"), **arrays)
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps({k: meta[k] for k in ("device", "torch", "triton", "cuda", "ptx", "cublas_kernels",
                                            "errors", "nondeterministic")}, indent=1), flush=True)
    sizes = {f: os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir)}
    print("files:", sizes, flush=True)


# ----------------------------------------------------------------------------------------------
# Export for bench_gemm --validate (numpy only).
def export(npz_dir, bin_dir):
    with open(os.path.join(npz_dir, "meta.json")) as f:
        meta = json.load(f)
    os.makedirs(bin_dir, exist_ok=True)
    loaded = {}
    lines = [f"# v4oracle hopper validation manifest; device {meta['device']}, torch {meta['torch']}, "
             f"triton {meta['triton']}, seed {meta['seed']}",
             "# case NAME DTYPE(e4m3|bf16) M N K A.bin B.bin C.bin|-   then   out NAME RUN OUT.bin"]
    for case in meta["cases"]:
        fname = case["file"]
        if fname not in loaded:
            loaded[fname] = np.load(os.path.join(npz_dir, fname + ".npz"))
        z = loaded[fname]
        name = case["name"]

        def dump(key, dtype):
            arr = np.ascontiguousarray(z[f"{name}__{key}"]).astype(dtype.newbyteorder("<"), copy=False)
            path = f"{name}__{key}.bin"
            arr.tofile(os.path.join(bin_dir, path))
            return path
        in_dtype = np.dtype(np.uint8) if case["dtype"] == "e4m3" else np.dtype(np.uint16)
        a = dump("a", in_dtype)
        b = dump("b", in_dtype)
        c = dump("c", np.dtype(np.float32)) if case["has_c"] else "-"
        lines.append(f"case {name} {case['dtype']} {case['M']} {case['N']} {case['K']} {a} {b} {c}")
        for run in case["runs"]:
            lines.append(f"out {name} {run} {dump('out_' + run, np.dtype(np.float32))}")
    with open(os.path.join(bin_dir, "manifest.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(meta['cases'])} cases to {bin_dir}/manifest.txt")


# ----------------------------------------------------------------------------------------------
# MMA-Sim's literal zero convention, for the two probes where it matters (see the module docstring).
def _mmasim_split(v, emin):
    import math
    if v == 0:
        return 0.0, -126  # MMA-Sim: extract_significand_exponent gives a zero the exponent -126
    s, e = math.frexp(v)
    s, e = s * 2, e - 1
    if e < emin:
        s, e = s * 2.0 ** (e - emin), emin
    return s, e


def _mmasim_fused(a, b, c, nf, emin, of):
    import math
    sig, ex = [], []
    sc, ec = _mmasim_split(float(c), -126)
    sig.append(sc)
    ex.append(ec)
    for x, y in zip(a, b):
        sa, ea = _mmasim_split(float(x), emin)
        sb, eb = _mmasim_split(float(y), emin)
        sig.append(sa * sb)
        ex.append(ea + eb)
    emax = max(ex)
    tot = sum(math.trunc(s * 2.0 ** (nf + e - emax)) * 2.0 ** -nf for s, e in zip(sig, ex))
    v = tot * 2.0 ** emax
    if v == 0:
        return np.float32(0)
    s, e = _mmasim_split(v, -126)
    return np.float32(math.trunc(s * 2.0 ** of) * 2.0 ** -of * 2.0 ** e)


def mmasim_zero(bin_dir):
    def load(name, dt, shape):
        return np.fromfile(os.path.join(bin_dir, name), dtype=dt).reshape(shape)

    def e4m3(c):
        c = int(c)
        e, m = (c >> 3) & 15, c & 7
        v = m / 8 * 2.0 ** -6 if e == 0 else (1 + m / 8) * 2.0 ** (e - 7)
        return -v if c & 0x80 else v

    def bf16(c):
        return float(np.array([int(c) << 16], dtype=np.uint32).view(np.float32)[0])

    n = "fp8_c_tiny_m64n64k32"
    A, B = load(n + "__a.bin", np.uint8, (64, 32)), load(n + "__b.bin", np.uint8, (64, 32))
    C, G = load(n + "__c.bin", np.float32, (64, 64)), load(n + "__out_triton_chain_c_bk32.bin", np.float32, (64, 64))
    av = [[e4m3(x) for x in r] for r in A]
    bv = [[e4m3(x) for x in r] for r in B]
    hits = sum(int(_mmasim_fused(av[i], bv[j], C[i, j], 13, -6, 13).view(np.uint32) == G[i, j].view(np.uint32))
               for i in range(64) for j in range(64))
    print(f"{n} triton_chain_c_bk32: MMA-Sim zero convention matches {hits} / 4096")
    n = "bf16_zeros_m64n64k128"
    A, B = load(n + "__a.bin", np.uint16, (64, 128)), load(n + "__b.bin", np.uint16, (64, 128))
    G = load(n + "__out_triton_chain_bk64.bin", np.float32, (64, 64))
    av = [[bf16(x) for x in r] for r in A]
    bv = [[bf16(x) for x in r] for r in B]
    hits = 0
    for i in range(64):
        for j in range(64):
            d = np.float32(0)
            for q in range(0, 128, 16):
                d = _mmasim_fused(av[i][q:q + 16], bv[j][q:q + 16], d, 25, -126, 23)
            hits += int(d.view(np.uint32) == G[i, j].view(np.uint32))
    print(f"{n} triton_chain_bk64: MMA-Sim zero convention matches {hits} / 4096")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("capture")
    c.add_argument("--out", required=True)
    e = sub.add_parser("export")
    e.add_argument("--npz", required=True)
    e.add_argument("--bin", required=True)
    z = sub.add_parser("mmasim-zero")
    z.add_argument("--bin", required=True)
    sub.add_parser("selftest", help="generate the inputs only and check them (no GPU)")
    args = p.parse_args()
    if args.mode == "capture":
        capture(args.out)
    elif args.mode == "export":
        export(args.npz, args.bin)
    elif args.mode == "mmasim-zero":
        mmasim_zero(args.bin)
    else:
        cases = build_cases()
        total = 0
        for cs in cases:
            if cs["dtype"] == "e4m3":
                for arr in (cs["a"], cs["b"]):
                    assert not np.any((arr & 0x7F) == 0x7F), cs["name"]
            total += cs["a"].nbytes + cs["b"].nbytes + 4 * cs["M"] * cs["N"] * len(cs["runs"])
        print(f"{len(cases)} cases, ~{total / 2**20:.1f} MiB uncompressed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
