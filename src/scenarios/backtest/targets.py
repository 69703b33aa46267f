"""Numeric targets scored with the CRPS, and the weighted ensembles that stand for their forecasts."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import numpy as np

from ..engine.checkpoint import fingerprint
from ..engine.evidence import Evidence
from ..engine.forecast import flow_months, weighted_quantiles
from ..model.scenario import Model
from .resolutions import Resolution

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


class Ensemble:
    """A weighted forecast distribution kept as ENSEMBLE_SIZE quantile points per chunk.

    The sort order of the quantity is kept while the arrays it is computed from are the same
    objects (not re-drawn for this as-of date), so only the weights are re-summed.
    """

    LEVELS = (np.arange(ENSEMBLE_SIZE) + 0.5) / ENSEMBLE_SIZE

    def __init__(self, target: Target, cache: dict | None = None):
        self.target = target
        self.reads = target.reads
        if target.definition is not None:  # a chain store keeps an ensemble by what it computes
            self.key = fingerprint("ensemble", target.definition, target.reads)
        self.cache = {} if cache is None else cache  # shared by the target's ensembles across dates
        self.points: list = []
        self.weights: list = []

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

    def part(self) -> tuple:
        """What was added (per chunk): carried back from a worker and merged by :meth:`merge` in chunk order."""
        return self.points, self.weights

    def merge(self, part: tuple) -> None:
        points, weights = part
        self.points.extend(points)
        self.weights.extend(weights)

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
