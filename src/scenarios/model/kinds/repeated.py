"""Repeated events: things that can happen more than once (meetings, launches, visits).

Occurrences form a Poisson process in time whose rate (per month, per world) may change once,
from the day of another event on.  A world holds the days of its 1st, 2nd, ... occurrences
(``inf`` padded), shape (n, max); questions read the n-th occurrence as an event and the count
by a date as a quantity.

The process is drawn exactly by time change: the k-th occurrence happens when the integrated
rate Λ(t) = ∫ rate reaches E_1 + ... + E_k with E_i ~ Exp(1) i.i.d., and Λ is piecewise linear
(rate before the change, rate after it), so each occurrence day is one division.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..schema import excerpt
from ..spec import REPEATED, ModelRuntimeError, Spec, refs_of

__all__ = ["RepeatedSpec", "Clock", "compile", "count_by_day"]

DEFAULT_MAX = 30


@dataclass
class RepeatedSpec(Spec):
    """A repeated event.

    Parameters
    ----------
    rate : Spec
        Expected occurrences per model month, per world (>= 0).
    start : str or None
        Event node: no occurrence before it (never if it never happens). None: from as_of.
    change_after : str or None
        Event node from whose day on the rate is ``rate_after``.
    rate_after : Spec or None
        Occurrences per month after ``change_after``.
    max : int
        Occurrences held per world; more within the horizon is an error (raise ``max``).
    """

    rate: Spec
    start: str | None
    change_after: str | None
    rate_after: Spec | None
    max: int
    path: tuple = ()

    def refs(self):
        return refs_of((self.rate, self.rate_after), {
            self.path + ("start",): self.start, self.path + ("change", "after"): self.change_after,
        })

    def kind(self, kinds, doc):
        for name, key in ((self.start, ("start",)), (self.change_after, ("change", "after"))):
            if name is not None and kinds[name].type != "event":
                raise doc.error(self.path + key, f"expected an event node, {excerpt(name)} is a {kinds[name].type} node")
        for spec, key in ((self.rate, ("rate",)), (self.rate_after, ("change", "rate"))):
            if spec is not None and spec.kind(kinds, doc).type not in ("number", "bool"):
                raise doc.error(self.path + key, "expected a per-world number (occurrences per month)")
        return REPEATED

    def _rate(self, spec, key, ctx, rng, n) -> np.ndarray:
        r = np.broadcast_to(np.asarray(spec.sample(ctx, rng, n), dtype=float), (n,))
        bad = ~((r >= 0) & (r < np.inf))
        if bad.any():
            raise ModelRuntimeError(
                ctx.model.doc.origin(self.path), ".".join(self.path + key),
                f"a rate must be a finite number >= 0 in every world, got {float(r[bad][0]):g} in {int(bad.sum())} of {n} worlds",
            )
        return r

    def clock(self, ctx, rng, n) -> Clock:
        """Each world's operational time: its rates (drawn from ``rng`` where they are inline
        distributions), start and change day."""
        md = float(ctx.model.month_days)
        rate = self._rate(self.rate, ("rate",), ctx, rng, n)
        start = np.zeros(n) if self.start is None else np.maximum(np.asarray(ctx.get(self.start), dtype=float), 0.0)
        if self.change_after is None:
            change, rate_after = np.full(n, np.inf), rate
        else:
            change = np.maximum(np.asarray(ctx.get(self.change_after), dtype=float), start)
            rate_after = self._rate(self.rate_after, ("change", "rate"), ctx, rng, n)
        # operational time (expected occurrences) at the change; 0 where the rate before it is 0
        with np.errstate(invalid="ignore"):
            at_change = np.where(rate > 0, rate * (change - start) / md, 0.0)
        at_change = np.nan_to_num(at_change, nan=np.inf)  # start = change = never: no occurrence anyway
        return Clock(start, change, rate, rate_after, at_change, md)

    def sample(self, ctx, rng, n):
        clock = self.clock(ctx, rng, n)
        u = np.cumsum(rng.standard_exponential((n, self.max)), axis=1)
        return self.within_horizon(clock.days(u), ctx)

    def within_horizon(self, days: np.ndarray, ctx, overflow: np.ndarray | None = None) -> np.ndarray:
        """``days`` (n, max) with occurrences after the horizon set to never (inf); an error where
        a world reaches ``max`` occurrences within the horizon (or ``overflow``, (n,), is true)."""
        model = ctx.model
        days[~(days <= model.horizon_days)] = np.inf
        full = np.isfinite(days[:, -1])
        if overflow is not None:
            full |= overflow
        if full.any():
            raise ModelRuntimeError(
                model.doc.origin(self.path), ".".join(self.path),
                f"{self.max} occurrences (max) are reached within the horizon in {int(full.sum())} of {len(days)} worlds; "
                "raise max so that no world reaches it",
            )
        return days


@dataclass(frozen=True)
class Clock:
    """A repeated event's operational time in n worlds: the expected number of occurrences
    from its start to a day, Λ(t), piecewise linear (``rate`` per month from ``start``,
    ``rate_after`` from ``change``).  All arrays have shape (n,); days are model days."""

    start: np.ndarray
    change: np.ndarray
    rate: np.ndarray
    rate_after: np.ndarray
    at_change: np.ndarray  # Λ(change)
    month_days: float

    def operational(self, days) -> np.ndarray:
        """Λ at each of ``days`` (shape (m,)) in each world: shape (n, m), non-decreasing along
        its second axis; 0 up to the start (and everywhere in a world whose start is never)."""
        t = np.asarray(days, dtype=float)[None, :]
        start, change = self.start[:, None], self.change[:, None]
        md = self.month_days
        with np.errstate(invalid="ignore"):
            before = np.where(self.rate[:, None] > 0, self.rate[:, None] * (t - start) / md, 0.0)
            after = self.at_change[:, None] + np.where(self.rate_after[:, None] > 0, self.rate_after[:, None] * (t - change) / md, 0.0)
            return np.where(t <= start, 0.0, np.where(t <= change, before, after))

    def days(self, u: np.ndarray) -> np.ndarray:
        """The days at which Λ reaches the operational times ``u``, shape (n, k) (inf: never)."""
        md = self.month_days
        rate, rate_after = self.rate, self.rate_after
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # rate 0 or never: inf
            before = self.start[:, None] + u * (md / rate)[:, None]
            after = self.change[:, None] + (u - self.at_change[:, None]) * (md / rate_after)[:, None]
        before = np.where((rate > 0)[:, None], before, np.inf)
        after = np.where((rate_after > 0)[:, None], after, np.inf)
        return np.where(u <= self.at_change[:, None], before, after)


def count_by_day(days: np.ndarray, day: float) -> np.ndarray:
    """Occurrences on or before model day ``day``: shape (n,) from days of shape (n, max)."""
    return (days <= day).sum(axis=1).astype(float)


def compile(body, path, compiler) -> RepeatedSpec:
    """Read ``repeated: {rate, start, change: {after, rate}, max}`` (see docs/modelling-language.md)."""
    compiler.mapping(body, path, ("rate", "start", "change", "max"), ("rate",))
    rate = compiler.value(body["rate"], path + ("rate",), lo=0, what="a rate per month")
    start = compiler.event_name(body["start"], path + ("start",)) if "start" in body else None
    change_after = rate_after = None
    if "change" in body:
        change = compiler.mapping(body["change"], path + ("change",), ("after", "rate"), ("after", "rate"))
        change_after = compiler.event_name(change["after"], path + ("change", "after"))
        rate_after = compiler.value(change["rate"], path + ("change", "rate"), lo=0, what="a rate per month")
    size = int(compiler.number(
        body.get("max", DEFAULT_MAX), path + ("max",), what="a whole number of occurrences in [1, 10000]",
        lo=1, hi=10_000, integer=True,
    ))
    return RepeatedSpec(rate, start, change_after, rate_after, size, path)
