"""Writes candidate files for `v4oracle compare` from tensors (numpy arrays, or torch tensors when
torch is installed) or from PyTorch forward hooks on a module: the golden schema of
docs/golden-schema.md, with h5py and numpy only. See docs/python-dump.md.

    from v4oracle_dump import write_candidate
    write_candidate("cand.h5", {"/c": c})                     # float32 -> f32, int32 -> i32, ...
    write_candidate("cand.h5", {"/y": y_u16}, formats={"/y": "bf16"})  # bf16 bit patterns

    with DumpHooks(model, {"layers.3.attn": "/layers/3/attn/out"}) as d:
        model(x)
    d.write("cand.h5")

bf16 is stored as its 16-bit codes (uint16, `format = "bf16"`): pass the codes (uint16 or int16, what
`tensor.view(torch.int16)` gives) with formats={path: "bf16"}, a torch bfloat16 tensor, or float32
values with formats={path: "bf16-from-f32"} to round them by the project's rule (to_bf16 below).
"""

import numpy as np

MAGIC = "v4oracle"
SCHEMA_VERSION = 1

# numpy dtype -> golden format of a dataset that needs no conversion.
_PLAIN = {np.dtype(np.float32): "f32", np.dtype(np.int32): "i32", np.dtype(np.int64): "i64"}


def to_bf16(x):
    """float32 values -> bf16 codes (uint16), the project's rule (reference/formats.h bf16_encode):
    round to nearest, ties to even; overflow to +-inf; every NaN to 0x7FFF."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounded = ((u.astype(np.uint64) + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where((u & 0x7FFFFFFF) > 0x7F800000, np.uint16(0x7FFF), rounded)


def _as_numpy(t, fmt):
    """(codes as a numpy array, golden format) of one tensor."""
    try:  # torch is optional
        import torch

        if isinstance(t, torch.Tensor):
            t = t.detach().cpu()
            if t.dtype == torch.bfloat16:
                return t.contiguous().view(torch.int16).numpy().view(np.uint16), "bf16"
            t = t.numpy()
    except ImportError:
        pass
    a = np.asarray(t)
    if fmt == "bf16":
        if a.dtype not in (np.dtype(np.uint16), np.dtype(np.int16)):
            raise ValueError("format bf16 needs 16-bit codes (uint16/int16); for float32 values use bf16-from-f32")
        return np.ascontiguousarray(a).view(np.uint16), "bf16"
    if fmt == "bf16-from-f32":
        if a.dtype != np.dtype(np.float32):
            raise ValueError("bf16-from-f32 needs float32 values, got %s" % a.dtype)
        return to_bf16(a), "bf16"
    if fmt is not None and fmt != _PLAIN.get(a.dtype):
        raise ValueError("format %s does not match dtype %s" % (fmt, a.dtype))
    if a.dtype not in _PLAIN:
        raise ValueError("dtype %s has no golden format: use float32, int32, int64 or bf16 codes" % a.dtype)
    return np.ascontiguousarray(a), _PLAIN[a.dtype]


def write_candidate(path, tensors, formats=None, producer="v4oracle_dump.py"):
    """Writes {golden path: tensor} to `path` in insertion order, with the root attributes magic,
    schema_version, kind = "candidate" and candidate = producer. Each dataset carries `format`."""
    import h5py

    formats = formats or {}
    with h5py.File(path, "w", libver="earliest") as f:
        f.attrs["magic"] = MAGIC
        f.attrs["schema_version"] = np.int64(SCHEMA_VERSION)
        f.attrs["kind"] = "candidate"
        f.attrs["candidate"] = producer
        for name, t in tensors.items():
            if not name.startswith("/"):
                name = "/" + name
            codes, fmt = _as_numpy(t, formats.get(name))
            d = f.create_dataset(name, data=codes)
            d.attrs["format"] = fmt


class DumpHooks:
    """Forward hooks on the named submodules of a torch module: each call stores the module's output
    (a tensor, or the first tensor of a tuple) under the golden path `mapping[module name]`; the last
    call wins. Use as a context manager (hooks are removed on exit), then write(path)."""

    def __init__(self, module, mapping, formats=None):
        self.module, self.mapping, self.formats = module, dict(mapping), formats or {}
        self.outputs, self._handles = {}, []

    def __enter__(self):
        named = dict(self.module.named_modules())
        missing = [n for n in self.mapping if n not in named]
        if missing:
            raise KeyError("no submodule named %s" % ", ".join(missing))
        for name, path in self.mapping.items():
            self._handles.append(named[name].register_forward_hook(self._hook(path)))
        return self

    def _hook(self, path):
        def hook(_module, _inputs, output):
            if isinstance(output, (tuple, list)):
                output = output[0]
            self.outputs[path] = output.detach().clone()

        return hook

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        self._handles = []
        return False

    def write(self, path):
        # Golden paths in the order of the mapping (model order when the table is written that way).
        ordered = {p: self.outputs[p] for p in self.mapping.values() if p in self.outputs}
        write_candidate(path, ordered, self.formats)
