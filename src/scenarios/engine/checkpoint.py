"""A chain that resumes: keys for what a run computed, and a folder that keeps it.

A forecast as of D depends only on the model, the evidence public by D, the seed, the chunk and
the engine, so what a chunk computed (its worlds after a step of the chain, a plan's part of the
results) can be kept under a key made of exactly those and used again by a later run:
:func:`fingerprint` turns them into a SHA-256, and a :class:`ChainStore` keeps the values in a
folder.  Values are trees of dicts, lists, tuples, numbers, strings and numpy arrays, written as
``.npz`` files (the tree's shape as JSON, the arrays as arrays) and read back with
``allow_pickle=False``: a file in the folder, whoever wrote it, is data and never runs code.  A
file that cannot be read is a miss, never an error; writes are atomic, so two runs writing the
same key at once leave one whole file.  The folder is kept under a size limit by dropping the
files read or written longest ago.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import hashlib
import io
import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np

from ..atomic import write_bytes
from ..errors import OutputError

__all__ = ["fingerprint", "engine_fingerprint", "ChainStore", "encode", "decode", "CHAIN_CACHE_ENVIRONMENT",
           "chain_store", "MAX_BYTES"]

CHAIN_CACHE_ENVIRONMENT = "SCENARIOS_CHAIN_CACHE"
"""A folder for :func:`chain_store` (the report sets it for its notebooks)."""

MAX_BYTES = 2 * 1024**3
"""A store's default size limit: 2 GiB (a 10,000-world chunk of params/base.yaml is about 25 MB)."""

SUFFIX = ".npz"


# =========================================================================== keys


def _canonical(x):
    """``x`` as JSON-able data that two equal inputs give alike (floats exactly, by repr)."""
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return {"f": repr(float(x))}
    if isinstance(x, (_dt.date, _dt.datetime)):
        return {"date": x.isoformat()}
    if isinstance(x, np.ndarray):
        return {"array": str(x.dtype), "shape": list(x.shape),
                "sha256": hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()}
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {"class": type(x).__name__,
                "fields": [[f.name, _canonical(getattr(x, f.name))] for f in dataclasses.fields(x)]}
    if isinstance(x, dict):
        return {"dict": sorted(([_canonical(k), _canonical(v)] for k, v in x.items()), key=json.dumps)}
    if isinstance(x, (list, tuple)):
        return [_canonical(v) for v in x]
    if isinstance(x, (set, frozenset)):
        return {"set": sorted((_canonical(v) for v in x), key=json.dumps)}
    raise TypeError(f"cannot fingerprint a {type(x).__name__}")


def fingerprint(*parts) -> str:
    """SHA-256 (hex) of ``parts``: numbers, strings, dates, arrays, dataclasses and containers of them.

    Raises
    ------
    TypeError
        Something that has no canonical form (a function, an arbitrary object): such a thing
        cannot be part of a key, so whatever it belongs to is not kept.
    """
    return hashlib.sha256(json.dumps(_canonical(list(parts)), separators=(",", ":")).encode()).hexdigest()


COMPUTING_PACKAGES = ("model", "engine", "backtest")
"""The subpackages whose code computes what a store keeps (worlds, accumulators, fans, CRPS
ensembles); the notebooks, the report and the command line only read it."""


@functools.lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    """SHA-256 of the source files of :data:`COMPUTING_PACKAGES`: any change to that code
    invalidates every kept value."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for path in sorted(p for sub in COMPUTING_PACKAGES for p in (root / sub).rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


# =========================================================================== values


_CLASSES: dict = {}


def register(cls):
    """Let instances of ``cls`` (plain attributes only) be kept: ``encode`` writes their ``__dict__``."""
    _CLASSES[cls.__name__] = cls
    return cls


def encode(tree) -> tuple[str, list]:
    """``tree`` as (JSON text of its shape, list of its arrays)."""
    arrays: list = []

    def enc(x):
        if x is None or isinstance(x, (bool, str)):
            return x
        if isinstance(x, (int, np.integer)):
            return int(x)
        if isinstance(x, (float, np.floating)):
            x = float(x)
            return x if math.isfinite(x) else {"float": repr(x)}
        if isinstance(x, np.ndarray):
            if x.dtype.hasobject:
                raise TypeError("an array of objects cannot be kept")
            arrays.append(x)
            return {"array": len(arrays) - 1}
        if isinstance(x, tuple):
            return {"tuple": [enc(v) for v in x]}
        if isinstance(x, list):
            return [enc(v) for v in x]
        if isinstance(x, dict):
            if not all(isinstance(k, str) for k in x):
                raise TypeError("only dicts with string keys can be kept")
            return {"dict": {k: enc(v) for k, v in x.items()}}
        name = type(x).__name__
        if _CLASSES.get(name) is type(x):
            return {"object": name, "attributes": enc(dict(vars(x)))}
        raise TypeError(f"a {name} cannot be kept")

    return json.dumps(enc(tree), separators=(",", ":")), arrays


def decode(text: str, arrays: list):
    """The tree :func:`encode` gave ``(text, arrays)`` for."""

    def dec(x):
        if isinstance(x, list):
            return [dec(v) for v in x]
        if not isinstance(x, dict):
            return x
        if "array" in x:
            return arrays[x["array"]]
        if "float" in x:
            return float(x["float"])
        if "tuple" in x:
            return tuple(dec(v) for v in x["tuple"])
        if "dict" in x:
            return {k: dec(v) for k, v in x["dict"].items()}
        cls = _CLASSES[x["object"]]
        out = cls.__new__(cls)
        out.__dict__.update(dec(x["attributes"]))
        return out

    return dec(json.loads(text))


# =========================================================================== the folder


class ChainStore:
    """Values kept in ``folder`` by key, one ``.npz`` file each, at most ``max_bytes`` in all.

    Picklable (a path and a number), so worker processes read and write the same folder.
    """

    def __init__(self, folder, max_bytes: int = MAX_BYTES):
        self.folder = os.fspath(folder)
        self.max_bytes = int(max_bytes)

    def __repr__(self) -> str:
        return f"ChainStore({self.folder!r})"

    def _path(self, key: str) -> str:
        if not key or not all(c in "0123456789abcdefghijklmnopqrstuvwxyz-" for c in key):
            raise ValueError(f"not a store key: {key[:80]!r}")
        return os.path.join(self.folder, key + SUFFIX)

    def get(self, key: str):
        """The value kept under ``key``, or None (none kept, or a file that cannot be read)."""
        path = self._path(key)
        try:
            with np.load(path, allow_pickle=False) as data:
                text = bytes(data["tree"]).decode("utf-8")
                arrays = [data[f"a{i}"] for i in range(len(data.files) - 1)]
            value = decode(text, arrays)
            os.utime(path)  # read now: kept longest
            return value
        except (OSError, ValueError, KeyError, IndexError, TypeError, EOFError, zipfile.BadZipFile, UnicodeDecodeError):
            return None

    def put(self, key: str, value) -> bool:
        """Keep ``value`` under ``key``; False (nothing kept) when the folder cannot be written."""
        text, arrays = encode(value)
        buffer = io.BytesIO()
        np.savez(buffer, tree=np.frombuffer(text.encode("utf-8"), dtype=np.uint8),
                 **{f"a{i}": a for i, a in enumerate(arrays)})
        try:
            write_bytes(self._path(key), buffer.getvalue())
        except OutputError:
            return False
        self.prune()
        return True

    def prune(self) -> None:
        """Drop the files used longest ago until the folder holds at most ``max_bytes``."""
        try:
            entries = []
            with os.scandir(self.folder) as it:
                for e in it:
                    if e.name.endswith(SUFFIX) and e.is_file(follow_symlinks=False):
                        st = e.stat(follow_symlinks=False)
                        entries.append((st.st_mtime, st.st_size, e.path))
        except OSError:
            return
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            try:
                os.unlink(path)
            except OSError:
                pass
            total -= size


def chain_store(folder=None) -> ChainStore | None:
    """A :class:`ChainStore` in ``folder``, else in the folder ``$SCENARIOS_CHAIN_CACHE`` names, else None."""
    folder = folder or os.environ.get(CHAIN_CACHE_ENVIRONMENT, "").strip()
    return ChainStore(folder) if folder else None
