"""Statements by named sources: what a source says about a quantity or an event, and when.

A source (a government, a military, a monitoring team) publishes at all with probability
``chance``; when it does, it publishes ``lag`` days after the fact (the event's day; for a
number or a stock, the day of an ``after`` event, or as_of) or on a scheduled ``date``: the first
of its dates on or after the fact.  What it says is the true value (a number, a stock's level or a flow's
running total on the publication day; 1 for an event) times ``bias`` times a lognormal error
exp(noise * Z), rounded as the source rounds (``round_to`` a multiple, ``rounding`` nearest, or
down for "at least" statements, or up for "at most").  A world holds the publication day
(``inf``: never, or beyond the horizon) and the value said (NaN if never), shape (n, 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..schema import describe, excerpt
from ..spec import STATEMENT, ModelRuntimeError, Spec, refs_of

__all__ = ["StatementSpec", "compile", "said_by_day", "ROUNDING"]

ROUNDING = ("nearest", "down", "up")
DAY, VALUE = 0, 1
BIAS_MAX = 1e6
"""The largest ``bias`` (median ratio of what is said to the truth): a source that says a million
times the truth says nothing about it, and larger ratios overflow."""
NOISE_MAX = 10.0
"""The largest ``noise`` (sd of log(said / true)): a 90% range of e^±16 times the truth already."""
ROUND_TO_MIN = 1e-9
"""The finest ``round_to`` step: finer steps (1e-320 is a subnormal number) make said / step
overflow and round nothing."""


@dataclass
class StatementSpec(Spec):
    """A statement by a source about the node ``about``.

    Parameters
    ----------
    about : str
        A number, event, stock or flow node.
    chance : Spec
        Probability that the source publishes at all, per world.
    after : str or None
        Event after which a number or stock is known (default: as_of). Not used with an event.
    lag : Spec or None
        Days from the fact to the publication, per world (>= 0).
    on : tuple of float or None
        Model days of scheduled publication dates, ascending (instead of ``lag``): the source
        speaks on the first of them on or after the fact.
    bias, noise : Spec
        Median ratio of what is said to the truth, and the sd of its logarithm.
    round_to : float or None
        Said values are multiples of this.
    rounding : str
        nearest, down ("at least" statements) or up ("at most").
    """

    about: str
    chance: Spec
    after: str | None
    lag: Spec | None
    on: tuple | None  # model days of the scheduled publication dates, ascending
    bias: Spec
    noise: Spec
    round_to: float | None = None
    rounding: str = "nearest"
    path: tuple = ()

    def refs(self):
        out = {self.about: self.path + ("about",)}
        out.update(refs_of((self.chance, self.lag, self.bias, self.noise), {self.path + ("after",): self.after}))
        return out

    def kind(self, kinds, doc):
        about = kinds[self.about].type
        if about not in ("number", "bool", "event", "stock", "flow"):
            raise doc.error(self.path + ("about",), f"expected a number, event, stock or flow node, {excerpt(self.about)} is a {about} node")
        if self.after is not None:
            if about == "event":
                raise doc.error(self.path + ("after",), f"{excerpt(self.about)} is an event: its statement follows it; drop after")
            if kinds[self.after].type != "event":
                raise doc.error(self.path + ("after",), f"expected an event node, {excerpt(self.after)} is a {kinds[self.after].type} node")
        for s, key in ((self.chance, "chance"), (self.lag, "lag"), (self.bias, "bias"), (self.noise, "noise")):
            if s is not None and s.kind(kinds, doc).type not in ("number", "bool"):
                raise doc.error(self.path + (key,), "expected a per-world number")
        return STATEMENT

    def _draw(self, spec, key, ctx, rng, n, lo, hi=np.inf):
        """A per-world parameter in [lo, hi] (NaN refused; inf only where ``hi`` is inf: a lag)."""
        v = np.broadcast_to(np.asarray(spec.sample(ctx, rng, n), dtype=float), (n,))
        bad = ~((v >= lo) & (v <= hi))
        if bad.any():
            raise ModelRuntimeError(
                ctx.model.doc.origin(self.path), ".".join(self.path + (key,)),
                f"expected a number in [{lo:g}, {hi:g}] in every world, got {float(v[bad][0]):g} in {int(bad.sum())} of {n} worlds",
            )
        return v

    def sample(self, ctx, rng, n):
        model = ctx.model
        about_kind = ctx.kinds[self.about].type
        truth = ctx.get(self.about)
        if about_kind == "event":
            fact = np.asarray(truth, dtype=float)
        elif self.after is not None:
            fact = np.asarray(ctx.get(self.after), dtype=float)
        else:
            fact = np.zeros(n)
        # the random numbers in a fixed order, whatever the parameters: publication, lag, error
        published = rng.random(n) < self._draw(self.chance, "chance", ctx, rng, n, 0.0, 1.0)
        if self.lag is not None:
            day = fact + self._draw(self.lag, "lag", ctx, rng, n, 0.0)
        else:
            dates = np.append(np.asarray(self.on, dtype=float), np.inf)
            day = dates[np.searchsorted(dates, fact, side="left")]  # first date >= fact; NaN-free
        day = np.where(published & (day <= model.horizon_days), day, np.inf)
        z = rng.standard_normal(n)
        out = np.empty((n, 2))
        out[:, DAY] = day
        out[:, VALUE] = np.nan
        said = np.isfinite(day)
        if not said.any():
            return out
        idx = np.flatnonzero(said)
        if about_kind == "event":
            true = np.ones(len(idx))
        elif about_kind in ("stock", "flow"):
            true = _running_value(np.asarray(truth)[idx], day[idx], about_kind, model.month_days,
                                  initial=model.flow_initial(self.about))
        else:
            true = np.asarray(np.broadcast_to(truth, (n,)), dtype=float)[idx]
        bias = self._draw(self.bias, "bias", ctx, rng, n, 0.0, BIAS_MAX)[idx]
        noise = self._draw(self.noise, "noise", ctx, rng, n, 0.0, NOISE_MAX)[idx]
        with np.errstate(over="ignore", invalid="ignore"):  # what overflows is refused below
            value = true * bias * np.exp(noise * z[idx])
            if self.round_to is not None:
                step = self.round_to
                value = {"nearest": np.round, "down": np.floor, "up": np.ceil}[self.rounding](value / step) * step
        if not np.isfinite(value).all():
            bad = ~np.isfinite(value)
            raise ModelRuntimeError(
                model.doc.origin(self.path), ".".join(self.path),
                f"what the source says is not a finite number in {int(bad.sum())} of {n} worlds "
                f"(true value {float(true[bad][0]):g}, said {float(value[bad][0]):g}): the value it is about, "
                "bias, noise or round_to is too large or too small",
            )
        out[idx, VALUE] = value
        return out


def _running_value(values: np.ndarray, days: np.ndarray, kind: str, month_days: int, *,
                   initial: float = 0.0) -> np.ndarray:
    """A stock's level, or a flow's running total, of each world on its own day: shape (n,).

    ``values`` is a stock's levels (n, months + 1) or a flow (n, months); ``days`` (n,) finite
    model days; ``initial`` a flow's level at as_of (its ``initial:``).  Per world, the same
    interpolation as :func:`scenarios.model.kinds.stock.level_at_day` and
    :func:`scenarios.model.worlds.cumulative_at_day` at one day, in one vectorised pass (days
    differ by world when the lag is drawn per world).
    """
    values = np.asarray(values, dtype=float)
    n = len(days)
    if kind == "stock":
        levels = values
    else:  # running totals at the end of each month, ``initial`` at day 0
        levels = np.zeros((n, values.shape[1] + 1))
        np.cumsum(values, axis=1, out=levels[:, 1:])
        if initial:
            levels += initial
    months = levels.shape[1] - 1
    day = np.maximum(np.asarray(days, dtype=float), 0.0)
    full = np.minimum(np.floor(day / month_days), months).astype(np.int64)
    frac = np.where(full >= months, 0.0, (day - full * month_days) / month_days)
    rows = np.arange(n)
    low = levels[rows, full]
    high = levels[rows, np.minimum(full + 1, months)]
    return low + frac * (high - low)


def said_by_day(statement: np.ndarray, day: float) -> np.ndarray:
    """The value said by model day ``day`` (NaN where not yet, or never, published): shape (n,)."""
    return np.where(statement[:, DAY] <= day, statement[:, VALUE], np.nan)


def _dates(raw, path, compiler) -> tuple:
    """Model days of one publication date or a list of them, ascending, no repeats."""
    if not isinstance(raw, list):
        return (compiler.day(raw, path),)
    if not raw:
        raise compiler.err(path, "expected a date or a non-empty list of dates, got an empty list")
    days = [compiler.day(d, path + (str(i),)) for i, d in enumerate(raw)]
    for i in range(1, len(days)):
        if days[i] <= days[i - 1]:
            raise compiler.err(path + (str(i),), f"expected dates in increasing order, got {raw[i]} after {raw[i - 1]}")
    return tuple(days)


def compile(body, path, compiler) -> StatementSpec:
    """Read ``statement: {about, chance, after, lag | date, bias, noise, round_to, rounding}``."""
    compiler.mapping(
        body, path, ("about", "chance", "after", "lag", "date", "bias", "noise", "round_to", "rounding"), ("about",),
    )
    about = body["about"]
    if not isinstance(about, str):
        raise compiler.err(path + ("about",), f"expected the name of a node, got {describe(about)}")
    compiler.check_ref(about, path + ("about",))
    if ("lag" in body) == ("date" in body):
        raise compiler.err(path, "expected exactly one of 'lag' (days after the fact) and 'date' (a publication date)")
    chance = compiler.value(body.get("chance", 1), path + ("chance",), lo=0, hi=1, what="a probability")
    after = compiler.event_name(body["after"], path + ("after",)) if "after" in body else None
    lag = compiler.value(body["lag"], path + ("lag",), lo=0, what="a lag (days)", finite=False) if "lag" in body else None
    on = _dates(body["date"], path + ("date",), compiler) if "date" in body else None
    bias = compiler.value(body.get("bias", 1), path + ("bias",), lo=0, hi=BIAS_MAX, what="a ratio of said to true")
    noise = compiler.value(body.get("noise", 0), path + ("noise",), lo=0, hi=NOISE_MAX,
                           what="a standard deviation of the log of said / true")
    round_to = (
        float(compiler.number(body["round_to"], path + ("round_to",), lo=ROUND_TO_MIN,
                              what=f"a step >= {ROUND_TO_MIN:g} (the multiple the source rounds to)"))
        if "round_to" in body else None
    )
    rounding = compiler.choice(body.get("rounding", "nearest"), path + ("rounding",), ROUNDING, what="nearest, down or up")
    return StatementSpec(about, chance, after, lag, on, bias, noise, round_to, rounding, path)
