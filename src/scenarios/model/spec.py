"""What every compiled piece of a node shares: its kind, the worlds it draws in, the Spec interface.

The model compiler (:mod:`scenarios.model.scenario`) and the families that compile to specs of
their own (:mod:`scenarios.model.families`: categorical, dirichlet, mixture) build on these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ParamsError

if TYPE_CHECKING:
    from .params import ParamsDoc
    from .scenario import Model

__all__ = [
    "BOOL", "EVENT", "FLOW", "NUMBER", "REPEATED", "STATEMENT", "STOCK", "Context", "Kind", "ModelRuntimeError", "Spec",
    "refs_of",
]


class ModelRuntimeError(ParamsError):
    """A per-world value outside its valid range, found while drawing (located by file and line)."""

    def __init__(self, file: str | None, path: str, message: str, line: int | None = None):
        if line is None and file and path:
            from .yaml_lines import line_of

            line = line_of(file, tuple(path.split(".")))
        super().__init__(file, path, message, line)


@dataclass(frozen=True)
class Kind:
    """What a node holds.

    type is one of ``number`` (shape (n,)), ``bool`` (n,), ``category`` (int codes, (n,)),
    ``vector`` (per-world probabilities, (n, K)), ``event`` (days after as_of, ``inf`` = never,
    (n,)), ``flow`` (per-month counts, (n, months)), ``repeated`` (days of the 1st, 2nd, ...
    occurrences, ``inf`` padded, (n, max)), ``stock`` (level at as_of and at the end of each
    month, (n, months + 1)) or ``statement`` (publication day, ``inf`` = never, and the value
    said, NaN if never, (n, 2)).
    """

    type: str
    categories: tuple | None = None

    @property
    def is_flow(self) -> bool:
        return self.type == "flow"


NUMBER = Kind("number")
BOOL = Kind("bool")
EVENT = Kind("event")
FLOW = Kind("flow")
REPEATED = Kind("repeated")
STOCK = Kind("stock")
STATEMENT = Kind("statement")


class Context:
    """Arrays of the nodes drawn so far for one chunk of worlds, optionally a subset of them."""

    def __init__(self, arrays: dict, kinds: dict, n: int, model: Model, idx=None, months=None):
        self.arrays = arrays
        self.kinds = kinds
        self.n = n
        self.model = model
        self.idx = idx
        # months of flows drawn for the node being drawn now (only what its readers need)
        self.months = model.horizon_months if months is None else months

    def get(self, name: str):
        a = self.arrays[name]
        return a if self.idx is None else a[self.idx]

    def categories(self, name: str):
        kind = self.kinds.get(name)
        return list(kind.categories) if kind is not None and kind.type == "category" else None

    def sub(self, idx: np.ndarray) -> Context:
        full = idx if self.idx is None else self.idx[idx]
        return Context(self.arrays, self.kinds, len(idx), self.model, full, self.months)

    def get_trimmed(self, name: str):
        """Like :meth:`get`, with flows cut to the months drawn for the current node."""
        a = self.get(name)
        if np.ndim(a) == 2 and self.kinds[name].is_flow and a.shape[1] > self.months:
            return a[:, : self.months]
        return a


def refs_of(parts, names: dict) -> dict:
    """What a spec reads: the refs of its sub-specs ``parts`` (None skipped), then the node names
    it names directly, ``names`` (key path -> node name or None)."""
    out: dict = {}
    for part in parts:
        if part is not None:
            out.update(part.refs())
    for path, name in names.items():
        if name is not None:
            out[name] = path
    return out


class Spec:
    """A compiled piece of a node: knows what it reads, what it yields, and how to draw it."""

    path: tuple = ()

    def refs(self) -> dict:
        """Node names read, mapped to the key path where each is referenced."""
        return {}

    def kind(self, kinds: dict, doc: ParamsDoc) -> Kind:
        raise NotImplementedError

    def sample(self, ctx: Context, rng: np.random.Generator, n: int):
        raise NotImplementedError

    def static_value(self):
        """The constant this spec always yields, or None."""
        return None
