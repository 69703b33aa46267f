"""`Worlds`: the named per-world arrays of one simulation, world axis first."""

from __future__ import annotations

import datetime as _dt

import numpy as np

__all__ = ["NOT_APPLICABLE_LABEL", "Worlds"]

NOT_APPLICABLE_LABEL = "n/a"
"""How the report's tree and tables name the value of a node that does not apply (:meth:`Worlds.applicable`)."""


class Worlds:
    """Named arrays over simulated worlds.

    Per-world nodes have shape (n,); flows (n, months); dirichlet vectors (n, K); event nodes
    hold days after ``as_of`` with ``inf`` for never.  Categorical nodes hold integer codes into
    ``categories(name)``.  A boolean or categorical node with a node-level ``when:`` is not
    applicable where its condition is false (:meth:`applicable`): it holds false there, or the
    code ``NOT_APPLICABLE`` (-1, no category).  ``weights`` (shape (n,)) are 1 unless evidence
    re-weighted the worlds.

    Parameters
    ----------
    model : scenarios.model.scenario.Model
    arrays : dict of str to ndarray
    weights : ndarray, shape (n,), optional
    """

    def __init__(self, model, arrays: dict, weights: np.ndarray | None = None):
        self.model = model
        self.arrays = arrays
        first = next(iter(arrays.values()), None)
        self.n = 0 if first is None else int(np.shape(first)[0])
        self.weights = np.ones(self.n) if weights is None else weights

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def __contains__(self, name: str) -> bool:
        return name in self.arrays

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return f"Worlds(n={self.n}, nodes={list(self.arrays)})"

    @property
    def names(self) -> list[str]:
        return list(self.arrays)

    def kind(self, name: str):
        return self.model.kinds[name]

    def categories(self, name: str) -> list | None:
        kind = self.model.kinds.get(name)
        return list(kind.categories) if kind is not None and kind.categories else None

    def labels(self, name: str) -> np.ndarray:
        """Category names per world (object array) for a categorical node; ``"n/a"`` where it
        does not apply (:meth:`applicable`)."""
        cats = np.asarray(self.categories(name), dtype=object)
        codes = np.asarray(self.arrays[name])
        on = self.applicable(name)
        return np.where(on, cats[np.where(on, codes, 0)], NOT_APPLICABLE_LABEL).astype(object)

    def applicable(self, name: str) -> np.ndarray:
        """Whether node ``name`` applies in each world, shape (n,), bool.

        False exactly where a boolean or categorical node's node-level ``when:`` condition is
        false (recomputed from the drawn nodes it reads), and where a categorical node holds the
        code ``NOT_APPLICABLE`` (a copy of such a node, e.g. ``x: {expr: other}``); true
        everywhere for every other node.
        """
        from .families.categorical import NOT_APPLICABLE
        from .scenario import WhenSpec
        from .spec import Context

        on = np.ones(self.n, dtype=bool)
        spec = self.model.nodes[name].spec
        if isinstance(spec, WhenSpec):
            on &= spec.applicable(Context(self.arrays, self.model.kinds, self.n, self.model))
        if self.model.kinds[name].type == "category":
            on &= np.asarray(self.arrays[name]) != NOT_APPLICABLE
        return on

    def cumulative(self, name: str) -> np.ndarray:
        """Running total of a flow, shape (n, months): entry m-1 is the total through month m,
        from the flow's starting level (its ``initial:``, :meth:`Model.flow_initial`) at as_of."""
        total = np.cumsum(self.arrays[name], axis=1)
        initial = self.model.flow_initial(name)
        return total + initial if initial else total

    def month_end_dates(self) -> list[_dt.date]:
        """Calendar date of the last day of each model month."""
        md = self.model.month_days
        return [self.model.as_of + _dt.timedelta(days=md * m) for m in range(1, self.model.horizon_months + 1)]

    def cumulative_on(self, name: str, date: _dt.date) -> np.ndarray:
        """Running total of a flow up to and including ``date``, shape (n,), from its starting
        level at as_of.

        Within a month the count is spread evenly over its days (linear interpolation).
        """
        return cumulative_at_day(self.arrays[name], self.model.day_of(date), self.model.month_days,
                                 initial=self.model.flow_initial(name))


def cumulative_at_day(flow: np.ndarray, day: float, month_days: int, *, initial: float = 0.0) -> np.ndarray:
    """Running total of a per-month flow (n, months) on model day ``day``: ``initial`` (the level
    at as_of, day 0) plus the counts from day 0 up to ``day``, interpolated in-month; shape (n,).

    >>> cumulative_at_day(np.array([[30.0, 60.0]]), 45, 30, initial=100).tolist()
    [160.0]
    """
    n, months = flow.shape
    if day <= 0:
        return np.full(n, float(initial)) if initial else np.zeros(n)
    full = int(min(day // month_days, months))
    total = flow[:, :full].sum(axis=1) if full else np.zeros(n)
    if full < months:
        frac = (day - full * month_days) / month_days
        if frac > 0:
            total = total + frac * flow[:, full]
    return total + initial if initial else total
