"""Numeric targets scored with the CRPS, and the weighted ensembles that stand for their forecasts;
date questions scored against the day their event happened, and the day masses that stand for theirs."""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field

import numpy as np

from ..engine.checkpoint import fingerprint
from ..engine.evidence import Evidence
from ..engine.forecast import flow_months, weighted_quantiles
from ..engine.memory import POINT_BYTES, VALUE_BYTES, SinkBytes, node_values
from ..engine.sinks import ChunkedSink
from ..errors import ParamsError
from ..model.scenario import Model
from .dates import question_life
from .resolutions import NEVER, Resolution

ENSEMBLE_SIZE = 1000
"""Quantile points that stand for a weighted forecast distribution when its CRPS is computed."""


@dataclass
class Target:
    """A numeric quantity scored with the CRPS against a reported or resolved value."""

    id: str
    label: str
    quantity: str
    on: _dt.date | None
    estimate: float
    low: float | None
    high: float | None
    public_on: _dt.date  # scored at as-of dates before this
    source: str
    evaluate: object  # worlds -> values (n,)
    given: object = None  # worlds -> mask (n,), or None
    reads: dict = field(default_factory=dict)
    first_as_of: _dt.date | None = None  # scored from this date (a question's open date)
    definition: tuple | None = None  # what evaluate and given compute, as data (None: unknown)


class Ensemble(ChunkedSink):
    """A weighted forecast distribution kept as ENSEMBLE_SIZE quantile points per chunk.

    The sort order of the quantity is kept while the arrays it is computed from are the same
    objects (not re-drawn for this as-of date), so only the weights are re-summed.
    """

    LEVELS = (np.arange(ENSEMBLE_SIZE) + 0.5) / ENSEMBLE_SIZE

    def __init__(self, target: Target, cache: dict | None = None):
        super().__init__()
        self.target = target
        self.reads = target.reads
        if target.definition is not None:  # a chain store keeps an ensemble by what it computes
            self.key = fingerprint("ensemble", target.definition, target.reads)
        self.cache = {} if cache is None else cache  # shared by the target's ensembles across dates
        self.points: list = []

    def chunks(self) -> list:
        return self.points

    def add(self, worlds, weights):
        w = weights if self.target.given is None else weights * np.asarray(self.target.given(worlds), dtype=bool)
        total = float(w.sum())
        if total <= 0:
            return
        sources = tuple(worlds.arrays[name] for name in sorted(self.target.reads))
        hit = self.cache.get("sources")
        if hit is None or len(hit) != len(sources) or any(x is not y for x, y in zip(hit, sources, strict=True)):
            values = np.asarray(self.target.evaluate(worlds), dtype=float)
            order = np.argsort(values, kind="stable")
            self.cache.update(sources=sources, order=order, sorted=values[order])
        order, ordered = self.cache["order"], self.cache["sorted"]
        cdf = np.cumsum(w[order])
        cdf /= cdf[-1]
        idx = np.minimum(np.searchsorted(cdf, self.LEVELS - 1e-12, side="left"), len(ordered) - 1)
        self.points.append(ordered[idx])
        self.weights.append(np.full(ENSEMBLE_SIZE, total / ENSEMBLE_SIZE))

    def memory_bytes(self, model: Model, months: dict) -> SinkBytes:
        """``LEVELS`` points of 16 bytes a chunk, and while a chunk runs the sort cache (shared by the
        target's ensembles): what its quantity reads and the order."""
        cache = 2 + sum(node_values(model, name, months.get(name)) for name in self.reads or {})
        return SinkBytes(0.0, float(POINT_BYTES * len(self.LEVELS)), float(VALUE_BYTES * cache), cache_of=self.cache)

    def ensemble(self) -> np.ndarray | None:
        if not self.points:
            return None
        if len(self.points) == 1:
            return self.points[0]
        return weighted_quantiles(np.concatenate(self.points), np.concatenate(self.weights), self.LEVELS)


def report_targets(model: Model, evidence: Evidence) -> list:
    """One CRPS target per evidence report that states a headline value."""
    out = []
    for it in evidence.reports():
        rep = it.report
        if rep.value is None:
            continue
        label = f"{rep.quantity}" + (f" on {rep.on}" if rep.on else "") + (f" ({rep.estimator})" if rep.estimator else "")
        m = rep.months(model)
        out.append(Target(
            id=it.id, label=label, quantity=rep.quantity, on=rep.on, estimate=rep.value, low=rep.low, high=rep.high,
            public_on=it.public_on, source=it.source,
            evaluate=(lambda w, rep=rep: rep.true_values(model, w.arrays)), reads={rep.node: m},
            definition=("report", rep),
        ))
    return out


def question_target(model: Model, q, res: Resolution) -> Target:
    fm = flow_months(model, [q])
    return Target(
        id=q.id, label=q.text, quantity=q.resolve.text, on=None, estimate=res.value, low=res.low, high=res.high,
        public_on=res.resolved_on or (q.close + _dt.timedelta(days=1) if q.close else _dt.date.max), source="resolutions",
        evaluate=q.resolve.evaluate, given=q.given.evaluate if q.given else None,
        reads={name: fm.get(name) for name in q.refs}, first_as_of=q.open,
        definition=("question", q.id, q.type, q.raw),
    )


# =========================================================================== date questions


@dataclass
class DateTarget:
    """A date question scored against the day its event happened, or never (not by its close).

    Days are model days (day d is ``start + d days``; an event at fractional day t falls on day
    ``ceil(t)``).  ``close_day`` is the question's last day (its close, or the model's horizon if
    that comes first: the model cannot tell a later day from never); every later day is never.
    """

    id: str
    text: str
    start: _dt.date  # the date of day 0: the model's as_of
    close_day: int
    truth: _dt.date | None  # None: never
    resolved_on: _dt.date | None  # when the outcome became public (never: by default the day after the close)
    life: tuple  # (first day, end day exclusive) of the question's open life
    evaluate: object  # worlds -> event days (n,), inf: never
    given: object = None  # worlds -> mask (n,), or None
    reads: dict = field(default_factory=dict)
    definition: tuple | None = None

    @property
    def truth_day(self) -> float:
        """The true day (inf: never), as the scores take it."""
        return math.inf if self.truth is None else float((self.truth - self.start).days)

    def date_of(self, day: float) -> str:
        """A day as its date (ISO), or ``never`` for a day after the close."""
        return NEVER if day > self.close_day else (self.start + _dt.timedelta(days=int(day))).isoformat()


def date_target(model: Model, q, res: Resolution) -> DateTarget:
    """The :class:`DateTarget` of a date question with a resolved :class:`Resolution`.

    Raises
    ------
    ParamsError
        The resolution's date is after the question's close (it resolves never), naming the
        resolutions file and the entry.
    """
    horizon = model.as_of + _dt.timedelta(days=model.horizon_days)
    last = min(q.close, horizon) if q.close is not None else horizon
    if res.date is not None and q.close is not None and res.date > q.close:
        message = (f"question {q.id!r} closes on {q.close} but its resolution is the date {res.date}: an event after the "
                   "close does not resolve it, so its outcome is never (write outcome: never and keep the date in resolution_note)")
        if res.where is not None:
            raise res.where.key("value").error(message)
        raise ParamsError(None, q.id, message)
    fm = flow_months(model, [q])
    public = res.resolved_on or (q.close + _dt.timedelta(days=1) if q.close else None)  # never: after the close
    return DateTarget(
        id=q.id, text=q.text, start=model.as_of, close_day=max(0, (last - model.as_of).days), truth=res.date,
        resolved_on=public, life=question_life(model, q, res), evaluate=q.resolve.evaluate,
        given=q.given.evaluate if q.given else None, reads={name: fm.get(name) for name in q.refs},
        definition=("date question", q.id, q.type, q.raw),
    )


class DaySink:
    """A date question's weighted forecast: the weight of the worlds on each day 0..close_day
    (days before 0 count on day 0) and, last, the weight after the close or never.

    Exact (no quantile points) and small (``close_day + 2`` numbers a chunk); chunks are added
    in chunk order, so the masses are the same for any number of processes.
    """

    def __init__(self, target: DateTarget):
        self.target = target
        self.reads = target.reads
        if target.definition is not None:
            self.key = fingerprint("days", target.definition, target.close_day, target.reads)
        self.masses: list = []

    def add(self, worlds, weights):
        t = self.target
        w = weights if t.given is None else weights * np.asarray(t.given(worlds), dtype=bool)
        if not float(w.sum()) > 0:
            return
        days = np.ceil(np.broadcast_to(np.asarray(t.evaluate(worlds), dtype=float), w.shape))
        day = np.where(days > t.close_day, t.close_day + 1, np.maximum(days, 0)).astype(np.int64)
        self.masses.append(np.bincount(day, weights=w, minlength=t.close_day + 2))

    def memory_bytes(self, model: Model, months: dict) -> SinkBytes:
        """``close_day + 2`` numbers a chunk (the weight by day)."""
        return SinkBytes(0.0, float(VALUE_BYTES * (self.target.close_day + 2)), 0.0)

    def part(self) -> list:
        return self.masses

    def merge(self, part: list) -> None:
        self.masses.extend(part)

    def histogram(self) -> np.ndarray | None:
        """Weight by day, shape (close_day + 2,) (the last: never); None when no world counts."""
        if not self.masses:
            return None
        total = self.masses[0].copy()
        for m in self.masses[1:]:
            total += m
        return total


DATE_QUANTILES = (0.05, 0.5, 0.95)


def date_scores(target: DateTarget, masses: np.ndarray) -> dict:
    """The scores of one forecast (``masses`` from :meth:`DaySink.histogram`) and its quantiles.

    Returns
    -------
    dict
        ``q05, q50, q95`` (ISO dates or never), ``p_never``, ``abs_error_days``, ``crps_days``,
        ``p_true_month`` (see :mod:`scenarios.scoring.scores`: ``date_absolute_error``,
        ``date_crps``, ``date_month_probability``).
    """
    from ..scoring.scores import date_absolute_error, date_crps, date_month_probability

    days = np.arange(len(masses), dtype=float)
    cdf = np.cumsum(masses) / masses.sum()
    quantiles = {f"q{round(100 * q):02d}": target.date_of(float(np.searchsorted(cdf, q - 1e-12, side="left")))
                 for q in DATE_QUANTILES}
    y, close = target.truth_day, target.close_day
    return {
        **quantiles,
        "p_never": float(masses[-1] / masses.sum()),
        "abs_error_days": date_absolute_error(days, y, close=close, weights=masses),
        "crps_days": date_crps(days, y, close=close, weights=masses),
        "p_true_month": date_month_probability(days, y, start=target.start, close=close, weights=masses),
    }


def date_rows(plans: list, targets: list) -> list:
    """One row per date question and as-of date it was forecast, scored; ``days``: how long the
    forecast stands (until the question's next as-of date, its close or its resolution)."""
    by_id = {t.id: t for t in targets}
    rows: list = []
    for plan in plans[1:]:
        for sink in plan.sinks:
            if not isinstance(sink, DaySink):
                continue
            t, masses = sink.target, sink.histogram()
            if masses is None:  # no world satisfies its given: clause at this date
                continue
            rows.append({
                "question": t.id, "as_of": plan.as_of, **date_scores(t, masses),
                "resolution": NEVER if t.truth is None else t.truth.isoformat(),
                "true_month": NEVER if t.truth is None else t.truth.strftime("%Y-%m"),
            })
    per_q: dict = {}
    for r in rows:
        per_q.setdefault(r["question"], []).append(r)
    for qid, qrows in per_q.items():
        end = by_id[qid].life[1]
        for r, nxt in zip(qrows, qrows[1:] + [None], strict=True):
            stop = end if nxt is None else min(nxt["as_of"], end)
            r["days"] = max(0, (stop - r["as_of"]).days)
    return rows
