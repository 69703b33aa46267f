"""Stocks over time: quantities that accumulate month by month from a start event.

Casualties, deployed troops, stockpiles: a level at as_of (``initial``) plus what is added each
month from the day a start event happens, optionally capped per world.  A world holds the level
at as_of and at the end of each model month, shape (n, months + 1); a question about "at least
X by D" reads the level on D (interpolated within the month), so it depends on D.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..families.poisson import POISSON_MAX
from ..schema import excerpt
from ..spec import STOCK, ModelRuntimeError, Spec, refs_of

__all__ = ["StockSpec", "compile", "level_at_day", "exposure_by_month"]


@dataclass
class StockSpec(Spec):
    """A stock.

    Parameters
    ----------
    rate : Spec
        Added per model month once started, per world (>= 0), or a flow (per month).
    start : str or None
        Event node from whose day on the stock grows (pro rata in the month it happens); never
        happens: the level stays ``initial``.  None: from as_of.
    initial : Spec
        Level at as_of, per world.
    cap : Spec or None
        Highest level, per world.
    count : str
        ``expected`` (adds the rate) or ``poisson`` (adds a Poisson count with that mean).
    """

    rate: Spec
    start: str | None
    initial: Spec
    cap: Spec | None
    count: str = "expected"
    path: tuple = ()

    def refs(self):
        return refs_of((self.rate, self.initial, self.cap), {self.path + ("start",): self.start})

    def kind(self, kinds, doc):
        if self.start is not None and kinds[self.start].type != "event":
            raise doc.error(self.path + ("start",), f"expected an event node, {excerpt(self.start)} is a {kinds[self.start].type} node")
        if self.rate.kind(kinds, doc).type not in ("number", "bool", "flow"):
            raise doc.error(self.path + ("rate",), "expected a per-world number or a flow (added per month)")
        for s, key in ((self.initial, "initial"), (self.cap, "cap")):
            if s is not None and s.kind(kinds, doc).type not in ("number", "bool"):
                raise doc.error(self.path + (key,), "expected a per-world number")
        return STOCK

    def _check(self, values, key, ctx, n, *, lo=0.0, hi=np.inf, what=""):
        """Refuse per-world values that are NaN, infinite or outside [lo, hi], naming ``key``."""
        bad = ~((values >= lo) & (values <= hi) & np.isfinite(values))
        if bad.any():
            worlds = int(bad.reshape(n, -1).any(axis=1).sum())
            expected = what or (f"a finite number >= {lo:g}" if lo > -np.inf else "a finite number")
            raise ModelRuntimeError(
                ctx.model.doc.origin(self.path), ".".join(self.path + ((key,) if key else ())),
                f"expected {expected} in every world, got {float(values[bad].flat[0]):g} in {worlds} of {n} worlds",
            )

    def sample(self, ctx, rng, n):
        model = ctx.model
        months = model.horizon_months
        rate = np.asarray(self.rate.sample(ctx, rng, n), dtype=float)
        rate = rate[:, :months] if rate.ndim == 2 else np.broadcast_to(rate, (n,))[:, None]
        self._check(rate, "rate", ctx, n)
        start = np.zeros(n) if self.start is None else np.asarray(ctx.get(self.start), dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):  # what overflows is refused below
            added = exposure_by_month(start, months, model.month_days) * rate  # (n, months)
        if self.count == "poisson":
            self._check(added, "rate", ctx, n, hi=POISSON_MAX,
                        what=f"a count per month in [0, {POISSON_MAX:g}] (the largest numpy draws)")
            added = rng.poisson(added.T).T.astype(float)  # month-major draws
        initial = np.broadcast_to(np.asarray(self.initial.sample(ctx, rng, n), dtype=float), (n,))
        self._check(initial, "initial", ctx, n, lo=-np.inf)
        levels = np.empty((n, months + 1))
        levels[:, 0] = initial
        with np.errstate(over="ignore", invalid="ignore"):
            np.cumsum(added, axis=1, out=levels[:, 1:])
            levels[:, 1:] += initial[:, None]
        if self.cap is not None:
            cap = np.broadcast_to(np.asarray(self.cap.sample(ctx, rng, n), dtype=float), (n,))
            self._check(np.where(cap == np.inf, 0.0, cap), "cap", ctx, n, lo=-np.inf,
                        what="a finite level, or inf for no cap")
            np.minimum(levels, cap[:, None], out=levels)
        self._check(levels, "", ctx, n, lo=-np.inf,
                    what="a finite level (the sum overflows: a rate or initial level too large)")
        return levels


def exposure_by_month(start: np.ndarray, months: int, month_days: int) -> np.ndarray:
    """Share of each model month after day ``start``: shape (n, months), values in [0, 1].

    Month m covers days ((m - 1) * month_days, m * month_days]; ``start = inf`` gives zeros.
    """
    ends = np.arange(1, months + 1, dtype=float) * month_days
    with np.errstate(invalid="ignore"):
        share = (ends[None, :] - start[:, None]) / month_days
    return np.clip(np.nan_to_num(share, nan=0.0), 0.0, 1.0)


def level_at_day(levels: np.ndarray, day: float, month_days: int) -> np.ndarray:
    """Level of a stock (n, months + 1) on model day ``day``, linear within the month: shape (n,)."""
    months = levels.shape[1] - 1
    if day <= 0:
        return levels[:, 0].copy()
    full = int(min(day // month_days, months))
    if full >= months:
        return levels[:, months].copy()
    frac = (day - full * month_days) / month_days
    return levels[:, full] + frac * (levels[:, full + 1] - levels[:, full])


def compile(body, path, compiler) -> StockSpec:
    """Read ``stock: {rate, start, initial, cap, count}`` (see docs/modelling-language.md)."""
    compiler.mapping(body, path, ("rate", "start", "initial", "cap", "count"), ("rate",))
    rate = compiler.value(body["rate"], path + ("rate",), lo=0, what="an amount added per month")
    start = compiler.event_name(body["start"], path + ("start",)) if "start" in body else None
    initial = compiler.value(body.get("initial", 0), path + ("initial",), what="a level")
    cap = compiler.value(body["cap"], path + ("cap",), what="a level", finite=False) if "cap" in body else None
    count = compiler.choice(body.get("count", "expected"), path + ("count",), ("expected", "poisson"), what="expected or poisson")
    return StockSpec(rate, start, initial, cap, count, path)
