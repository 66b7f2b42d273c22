#!/usr/bin/python3
"""Write a v4oracle candidate file with h5py + numpy (docs/golden-schema.md).

This is what a kernel test dumps so that `v4oracle compare golden.h5 candidate.h5` can diff it:
root attributes `magic` and `schema_version`, one dataset per tensor at the golden's path
(/layers/<L>/<component>/<tensor>), low-precision data stored as raw codes with a `format` attribute.
From PyTorch, take the codes with `t.view(torch.uint16)` (bf16), `t.view(torch.uint8)` (float8_e4m3fn,
float8_e8m0fnu, float4_e2m1fn_x2), then `.cpu().numpy()`; here numpy stands in for the kernel.

Usage: /usr/bin/python3 scripts/write_candidate_example.py OUT.h5 [--compress]
       /usr/bin/python3 scripts/write_candidate_example.py --from-golden GOLDEN.h5 OUT.h5
  --compress     store chunked + gzip (h5py's options work; the comparator reads them more slowly)
  --from-golden  the kernel's side of `v4oracle op bf16`: read the golden's input /x, round it to bf16
                 in numpy (the kernel stand-in), write the op's outputs /codes and /values
"""
import sys

import h5py
import numpy as np


def bf16_codes(x):
    """float32 -> bf16 codes, round to nearest even (NaN -> 0x7FFF), as uint16."""
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = (u & 0x7FFFFFFF) > 0x7F800000
    r[nan] = 0x7FFF
    return r


def e4m3_decode_table():
    """Value of each of the 256 e4m3fn codes (NaN for 0x7F/0xFF)."""
    t = np.empty(256, dtype=np.float64)
    for c in range(256):
        e, m = (c >> 3) & 0xF, c & 7
        v = m / 8 * 2.0 ** -6 if e == 0 else (1 + m / 8) * 2.0 ** (e - 7)
        t[c] = np.nan if (c & 0x7F) == 0x7F else (-v if c & 0x80 else v)
    return t


def e4m3_codes_exact(v):
    """Codes of values that are exactly representable in e4m3fn (a lookup, not a rounding cast)."""
    table = e4m3_decode_table()
    lookup = {float(val): c for c, val in enumerate(table) if not np.isnan(val) and not (c == 0x80)}
    return np.array([lookup[float(x)] for x in np.ravel(v)], dtype=np.uint8).reshape(np.shape(v))


def put(f, path, codes, fmt, logical_shape=None, compress=False, **attrs):
    opts = dict(chunks=True, compression="gzip") if compress else {}
    d = f.create_dataset(path, data=codes, **opts)
    d.attrs["format"] = fmt
    if logical_shape is not None:
        d.attrs["logical_shape"] = np.asarray(logical_shape, dtype=np.int64)
    for k, v in attrs.items():
        d.attrs[k] = v
    return d


def candidate_root_attrs(f, writer):
    f.attrs["magic"] = "v4oracle"
    f.attrs["schema_version"] = np.int64(1)
    f.attrs["kind"] = "candidate"
    f.attrs["candidate"] = writer


def from_golden(golden, out):
    """A candidate for an op golden (`v4oracle op bf16 --seed S -o golden.h5`): same inputs, outputs
    computed here, written at the golden's paths; the inputs need not be copied."""
    with h5py.File(golden, "r") as g:
        x = g["/x"][...].astype(np.float32)
    codes = bf16_codes(x)
    with h5py.File(out, "w") as f:
        candidate_root_attrs(f, "write_candidate_example.py --from-golden")
        put(f, "/codes", codes, "bf16")
        put(f, "/values", (codes.astype(np.uint32) << 16).view(np.float32), "f32")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == "--from-golden":
        if len(sys.argv) != 4:
            sys.exit(__doc__)
        return from_golden(sys.argv[2], sys.argv[3])
    out, compress = sys.argv[1], "--compress" in sys.argv[2:]
    # Creation order tracked in every group, so h5py and the comparator list datasets in model order
    # (a candidate is walked in the golden's order anyway; this matters when you write goldens).
    h5py.get_config().track_order = True
    with h5py.File(out, "w") as f:
        candidate_root_attrs(f, "write_candidate_example.py")

        # bf16 activations [4, 8]: y = (i - 16) * 0.3 in float32, rounded to bf16.
        i = np.arange(32, dtype=np.float32).reshape(4, 8)
        put(f, "/layers/0/rmsnorm/y", bf16_codes((i - np.float32(16)) * np.float32(0.3)), "bf16", compress=compress)

        # e4m3fn codes [4, 256] with ue8m0 scales [4, 2] (blocks of [1, 128]); scale code 127 = 1.0.
        j = np.arange(4 * 256).reshape(4, 256)
        q = e4m3_codes_exact(((j * 7) % 33 - 16) * 0.25)
        put(f, "/layers/0/act_quant/q", q, "e4m3fn", compress=compress,
            scale="/layers/0/act_quant/s", block=np.array([1, 128], dtype=np.int64))
        put(f, "/layers/0/act_quant/s", np.full((4, 2), 127, dtype=np.uint8), "ue8m0", compress=compress)

        # top-4 of scores [4, 16]: larger score first, equal scores -> smaller index first.
        r, c = np.meshgrid(np.arange(4), np.arange(16), indexing="ij")
        scores = ((c * 5 + r * 3) % 16).astype(np.float32)
        put(f, "/layers/0/indexer/scores", scores, "f32", compress=compress)
        topk = np.stack([np.lexsort((np.arange(16), -row))[:4] for row in scores]).astype(np.int32)
        put(f, "/layers/0/indexer/topk", topk, "i32", compress=compress,
            kind="topk_indices", scores="/layers/0/indexer/scores")

        # e2m1 [2, 5]: codes (k * 3) % 16, two per byte, element 2k in the low nibble; the odd last dim
        # leaves a zero high nibble at the end of each row, so the stored shape is [2, 3].
        k = np.arange(10).reshape(2, 5)
        nib = ((k * 3) % 16).astype(np.uint8)
        padded = np.concatenate([nib, np.zeros((2, 1), dtype=np.uint8)], axis=1)
        packed = (padded[:, 0::2] | (padded[:, 1::2] << 4)).astype(np.uint8)
        put(f, "/layers/0/fp4/w", packed, "e2m1x2", logical_shape=[2, 5], compress=compress)


if __name__ == "__main__":
    main()
