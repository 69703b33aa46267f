"""Fan charts: percentiles of a flow, its running total or a stock's level at each month end, as of
several dates."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np

from ..engine.asof import Plan, check_as_of, run_plans
from ..engine.evidence import Evidence
from ..engine.forecast import weighted_quantiles_by_column
from ..engine.sinks import ChunkedSink
from ..errors import ParamsError
from ..model.scenario import Model, did_you_mean
from .dates import parse_dates


class FanStore(ChunkedSink):
    """Keeps a flow's monthly counts or running totals, or a stock's level, at month ends (for fan
    charts), with the weights.

    ``series``: "" (a flow's count in each month), "cumulative" (its running total, from its
    ``initial:`` level at as_of) or "level" (a stock's level), each of shape (n, months).
    """

    def __init__(self, node: str, series: str, model: Model):
        super().__init__()
        self.node, self.series, self.model = node, series, model
        self.reads = {node: None}
        self.key = f"fan {node} {series}"  # what it keeps of the worlds, for a chain store
        self.values: list = []

    def chunks(self) -> list:
        return self.values

    def add(self, worlds, weights):
        x = np.asarray(worlds[self.node], dtype=float)
        if self.series == "cumulative":
            x = np.cumsum(x, axis=1)
            initial = self.model.flow_initial(self.node)
            x = x + initial if initial else x
        elif self.series == "level":
            x = x[:, 1:]  # the level at each month end (column 0 is as_of)
        self.values.append(x)
        self.weights.append(np.asarray(weights, dtype=float))


@dataclass
class FanPath:
    """Percentiles of a flow (or its running total) or of a stock's level at each month end, as of
    one date."""

    as_of: _dt.date
    dates: list
    levels: tuple
    values: np.ndarray  # (len(levels), months)
    ess: float


def fan_quantities(model: Model, quantity) -> list:
    """``quantity`` (a name or a list) as (quantity, node, series) triples, checked: ``flow``
    (series ""), ``flow.cumulative`` ("cumulative") or ``stock`` (its level, "level"), as
    evidence reports name them."""
    out = []
    for q in [quantity] if isinstance(quantity, str) else list(quantity):
        name, _, series = q.partition(".")
        kind = model.kinds[name].type if name in model.nodes else None
        if kind == "stock" and not series:
            series = "level"
        elif kind != "flow" or series not in ("", "cumulative"):
            raise ParamsError(None, "quantity", f"expected a flow, flow.cumulative or a stock, got {q!r}"
                              + did_you_mean(name, model.nodes))
        out.append((q, name, series))
    return out


def fan_sinks(model: Model, parsed: list) -> list:
    return [FanStore(name, series, model) for _, name, series in parsed]


def fan_results(model: Model, parsed: list, plans: list, levels) -> dict:
    """quantity -> list of :class:`FanPath`, one per plan, from the plans' fan sinks
    (:func:`fan_sinks`)."""
    md = model.month_days
    ends = [model.as_of + _dt.timedelta(days=md * m) for m in range(1, model.horizon_months + 1)]
    out: dict = {q: [] for q, _, _ in parsed}
    for plan in plans:
        for (q, _, _), store in zip(parsed, plan.sinks, strict=True):
            values = np.concatenate(store.values)
            w = np.concatenate(store.weights)
            qv = weighted_quantiles_by_column(values, w, levels)
            out[q].append(FanPath(plan.as_of, ends[: values.shape[1]], tuple(levels), qv, plan.ess))
    return out


FAN_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)


def fan_paths(model: Model, evidence: Evidence, quantity, as_of_dates, *, samples=None, seed=None,
              levels=FAN_LEVELS):
    """Fans of ``quantity`` (``flow``, ``flow.cumulative`` or a stock) as of each date: a list of
    :class:`FanPath`.  ``quantity`` may be a list: then a dict quantity -> list, from one simulation.
    """
    parsed = fan_quantities(model, quantity)
    samples = model.samples if samples is None else samples
    seed = model.seed if seed is None else seed
    dates = [check_as_of(model, d) for d in as_of_dates]
    plans = [Plan(d, evidence.conditioning(model, d), sinks=fan_sinks(model, parsed)) for d in dates]
    run_plans(model, plans, samples=samples, seed=seed, evidence=evidence)
    out = fan_results(model, parsed, plans, levels)
    return out[quantity] if isinstance(quantity, str) else out


def report_fan_dates(model: Model, evidence: Evidence, *, n_dates: int = 5, until: str = "") -> tuple:
    """What :func:`report_fans` shows: (quantities, as-of dates).

    The quantities are every flow running total and every stock level that evidence reports on
    (as the reports name them: ``flow.cumulative``, ``stock``); the dates are the
    model's as_of and up to ``n_dates - 1`` of the dates those reports became public, spread
    evenly (no later than ``until`` when given).
    """
    quantities = sorted({it.report.quantity for it in evidence.reports() if it.report.series in ("cumulative", "level")})
    if not quantities:
        return [], []
    public = sorted({it.public_on for it in evidence.reports() if it.report.quantity in quantities})
    if until:
        last = parse_dates(until, "until")[0]
        public = [d for d in public if d <= last]
    pick = [public[round(i)] for i in np.linspace(0, len(public) - 1, min(n_dates - 1, len(public)))] if public else []
    return quantities, sorted({model.as_of, *pick})


def report_fans(model: Model, evidence: Evidence, *, samples=None, seed=None, n_dates: int = 5, until: str = "") -> dict:
    """Fans of every flow running total and stock level that evidence reports on, as of a few dates (see
    :func:`report_fan_dates`).  Returns quantity -> (fans, points).

    ``run_backtest(..., fans=True)`` gives the same fans from the backtest's own simulation.
    """
    quantities, dates = report_fan_dates(model, evidence, n_dates=n_dates, until=until)
    if not quantities:
        return {}
    fans = fan_paths(model, evidence, quantities, dates, samples=samples, seed=seed)
    return {q: (fans[q], estimate_points(evidence, q)) for q in quantities}


def estimate_points(evidence: Evidence, quantity: str) -> list:
    """The reports on ``quantity``: dicts with on, value, low, high, public_on, estimator, id."""
    return [
        {"id": it.id, "on": it.report.on, "value": it.report.value, "low": it.report.low, "high": it.report.high,
         "public_on": it.public_on, "estimator": it.report.estimator}
        for it in evidence.reports() if it.report.quantity == quantity
    ]
