"""What the report figures and tables show, computed from simulated worlds (no drawing here).

Each function is pure: worlds (or a forecast, a model, a list of estimates) in, plain numbers
out, so what a figure shows is tested apart from how it is drawn (:mod:`scenarios.notebook.plots`).

- :func:`fan` / :func:`flow_fans`: percentiles of a flow or a stock across worlds, by month end
  (:func:`month_values`: what is charted; :func:`split_label`: what a split panel is called);
- :func:`scenario_tree`: branch probabilities of a tree of nodes (summit? when? where? outcome?);
- :func:`event_curve` / :func:`event_curves`: probability that an event has happened by each date;
- :func:`estimates`: dated real-world estimates (``data/numeric_series.yaml``) as points;
- :func:`forecast_rows`, :func:`parameter_rows`, :func:`run_rows`: table rows.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import math
import re
from dataclasses import dataclass

import numpy as np

from ..errors import ScenarioError
from ..model.families.categorical import NOT_APPLICABLE as NA_CODE
from ..model.worlds import NOT_APPLICABLE_LABEL as NOT_APPLICABLE
from .formatting import MISSING, number, number_range, probability, signed

__all__ = [
    "FAN_LEVELS",
    "Fan",
    "fan",
    "flow_fans",
    "month_values",
    "split_label",
    "Branch",
    "Tree",
    "scenario_tree",
    "EventCurve",
    "event_curve",
    "event_curves",
    "Estimate",
    "estimates",
    "read_estimates",
    "series_names",
    "estimate_rows",
    "forecast_rows",
    "parameter_rows",
    "run_rows",
    "top_scenarios",
]

FAN_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Percentiles a fan chart shows: the 90% band, the 50% band and the median."""

VOID_LABELS = ("none", "never", NOT_APPLICABLE)
"""Tree values that mean "this level does not apply" (no summit ⇒ no place): not drawn."""


# --------------------------------------------------------------------------- fans


@dataclass(frozen=True)
class Fan:
    """Percentiles of a per-month quantity across worlds.

    Attributes
    ----------
    dates : list of datetime.date, length months
        Last day of each model month.
    levels : tuple of float
        Percentile levels, e.g. (0.05, 0.25, 0.5, 0.75, 0.95).
    values : ndarray, shape (len(levels), months)
        ``values[i, m]`` is the ``levels[i]`` quantile of the quantity in month ``m``.
    label : str
        What subset of worlds this is: "all worlds", or the splitting node and its value
        ("outcome: covert_deal", "treaty: no", "treaty_defence: n/a"; :func:`split_label`).
    probability : float
        Weighted share of worlds in the subset.
    """

    dates: list
    levels: tuple
    values: np.ndarray
    label: str = "all worlds"
    probability: float = 1.0

    def band(self, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
        """The (low, high) percentile rows, e.g. ``band(0.05, 0.95)``."""
        return self.values[self.levels.index(low)], self.values[self.levels.index(high)]

    @property
    def median(self) -> np.ndarray:
        return self.values[self.levels.index(0.5)]


def fan(values, *, weights=None, levels=FAN_LEVELS) -> np.ndarray:
    """Percentiles of each column of ``values`` across worlds.

    Parameters
    ----------
    values : array_like, shape (n, months)
        A per-month quantity in each of n worlds.
    weights : array_like, shape (n,), optional
        Non-negative world weights; None for equal weights.
    levels : sequence of float in [0, 1]

    Returns
    -------
    ndarray, shape (len(levels), months)
        Linear-interpolated quantiles when unweighted; the weighted inverse CDF otherwise.

    Examples
    --------
    >>> fan([[0.0], [10.0]], levels=(0.5,)).tolist()
    [[5.0]]
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[0] == 0:
        raise ScenarioError(f"fan: expected values of shape (worlds, months) with worlds >= 1, got {values.shape}")
    levels = tuple(float(q) for q in levels)
    if weights is None or np.all(np.asarray(weights) == np.asarray(weights).flat[0]):
        return np.quantile(values, levels, axis=0)
    from ..engine.forecast import weighted_quantiles_by_column

    return weighted_quantiles_by_column(values, np.asarray(weights, dtype=float), levels)


def month_values(worlds, name: str, *, cumulative: bool = False) -> np.ndarray:
    """What a fan chart of flow or stock ``name`` shows at each month end: shape (n, months).

    A flow: its count in each month, or (``cumulative``) its running total at each month end,
    from its ``initial:`` level at as_of (:meth:`scenarios.model.worlds.Worlds.cumulative`).
    A stock (levels at as_of and each month end, (n, months + 1)): its net change in each month,
    or (``cumulative``) its level at each month end: a stock at 5 at as_of, 7 and 12 at the ends
    of months 1 and 2 changes by 2 and 5 and stands at 7 and 12.
    """
    kind = worlds.kind(name).type
    if kind == "flow":
        return worlds.cumulative(name) if cumulative else np.asarray(worlds[name], dtype=float)
    if kind == "stock":
        levels = np.asarray(worlds[name], dtype=float)
        return levels[:, 1:] if cumulative else np.diff(levels, axis=1)
    raise ScenarioError(f"fan chart: {name!r} is a {kind} node; expected a flow or stock node")


def split_label(worlds, by: str, code: int) -> str:
    """The name of the subset of worlds where node ``by`` takes value ``code``: ``"treaty: no"``
    for a boolean (yes/no), ``"outcome: covert_deal"`` for a category (its name), and
    ``"treaty_defence: n/a"`` for the code ``NOT_APPLICABLE`` (-1: the worlds where a node with
    ``when:`` does not apply, as the scenario tree names them)."""
    if code == NA_CODE:
        return f"{by}: {NOT_APPLICABLE}"
    cats = worlds.categories(by)
    value = cats[code] if cats is not None else ("yes" if code else "no")
    return f"{by}: {value}"


def flow_fans(worlds, name: str, *, cumulative: bool = False, by: str | None = None, levels=FAN_LEVELS) -> list[Fan]:
    """Fans of flow or stock ``name``, all worlds first, then one per value of ``by``.

    What is charted is :func:`month_values`: a flow's monthly counts or (``cumulative``) its
    running totals; a stock's net change per month or (``cumulative``) its level at each month
    end.  The worlds' weights are respected (evidence-weighted worlds give weighted percentiles
    and shares).  Each split fan is labelled by :func:`split_label` ("treaty: no"); values of
    ``by`` that no world takes (or only worlds of weight 0) are left out, and ``by`` absent from
    the worlds (a model without that node) gives the overall fan only.  Where ``by`` has a
    ``when:`` and does not apply (:meth:`scenarios.model.worlds.Worlds.applicable`), the worlds
    form a last fan of their own, "by: n/a", as the scenario tree shows them: a boolean holds
    false there, but those worlds are not its "no", so the split fans' shares still sum to 1.
    """
    values = month_values(worlds, name, cumulative=cumulative)
    weights = np.asarray(worlds.weights, dtype=float)
    dates = worlds.month_end_dates()
    total = float(np.sum(weights))
    out = [Fan(dates, tuple(levels), fan(values, weights=weights, levels=levels), "all worlds", 1.0)]
    if by is None or by not in worlds:
        return out
    codes = np.asarray(worlds[by]).astype(np.int64)  # booleans: False 0, True 1
    on = np.asarray(worlds.applicable(by), dtype=bool)
    cats = worlds.categories(by)
    groups = [(code, on & (codes == code)) for code in range(len(cats) if cats is not None else 2)]
    for code, mask in groups + [(NA_CODE, ~on)]:
        p = float(np.sum(weights[mask]) / total)
        if not mask.any() or p <= 0:
            continue
        out.append(Fan(dates, tuple(levels), fan(values[mask], weights=weights[mask], levels=levels),
                       split_label(worlds, by, code), p))
    return out


# --------------------------------------------------------------------------- scenario tree


@dataclass(frozen=True)
class Branch:
    """One node of the scenario tree.

    Attributes
    ----------
    level : int
        Index into ``Tree.levels`` (0 = first question of the tree).
    path : tuple of str
        Values on the way here, this branch's own value last.
    probability : float
        Joint probability of the whole path.
    conditional : float
        Probability given the parent branch (the branch probability).
    start : float
        Cumulative probability of the branches before this one at its level (for drawing).
    path_levels : tuple of int
        The level of each value in ``path`` (levels that do not apply on this path are absent).
    """

    level: int
    path: tuple
    probability: float
    conditional: float
    start: float
    path_levels: tuple = ()

    @property
    def label(self) -> str:
        return self.path[-1]


@dataclass(frozen=True)
class Tree:
    """Scenario tree: level titles, the node each level reads, and every branch."""

    levels: tuple
    nodes: tuple
    branches: tuple

    def leaves(self) -> list[Branch]:
        """Branches with no children, i.e. complete scenarios."""
        parents = {b.path[:-1] for b in self.branches}
        return [b for b in self.branches if b.path not in parents]


def _level_spec(level) -> dict:
    if isinstance(level, str):
        return {"node": level, "label": level}
    if not isinstance(level, dict) or "node" not in level:
        raise ScenarioError(f"scenario tree: expected a node name or {{node: ..., label: ...}}, got {level!r}")
    return {"label": level["node"], **level}


def _month_end(d: _dt.date) -> _dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _add_months(d: _dt.date, months: int) -> _dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    return _month_end(_dt.date(d.year + y, m + 1, 1))


def event_bins(as_of: _dt.date) -> list[_dt.date]:
    """Default date edges for an event level: the end of as_of's month (or the next, if under
    a week away) and the month end three months after it.

    >>> event_bins(_dt.date(2023, 9, 5))
    [datetime.date(2023, 9, 30), datetime.date(2023, 12, 31)]
    """
    first = _month_end(as_of)
    if (first - as_of).days < 7:
        first = _add_months(as_of, 1)
    return [first, _add_months(first, 3)]


def _fmt_day(d: _dt.date) -> str:
    return f"{d.day} {d:%b %Y}"


def _labels(worlds, spec) -> tuple[np.ndarray, list]:
    """Per-world value labels (object array) and the order to draw them in."""
    name = spec["node"]
    kind = worlds.kind(name).type
    values = np.asarray(worlds[name])
    if kind == "bool":
        names = spec.get("names", {True: "yes", False: "no"})
        labels = np.where(values.astype(bool), names[True], names[False]).astype(object)
        return _not_applicable(worlds, name, labels, [names[True], names[False]])
    if kind == "category":
        cats = worlds.categories(name)
        codes = values.astype(np.int64)
        return _not_applicable(worlds, name, np.asarray(cats, dtype=object)[np.maximum(codes, 0)], list(cats))
    if kind == "event":
        model = worlds.model
        edges = [e if isinstance(e, _dt.date) else _dt.date.fromisoformat(str(e)) for e in spec.get("bins") or event_bins(model.as_of)]
        days = [model.day_of(e) for e in edges]
        names = [f"by {_fmt_day(edges[0])}"]
        names += [f"{_fmt_day(a + _dt.timedelta(days=1))} – {_fmt_day(b)}" for a, b in zip(edges, edges[1:], strict=False)]
        names += [f"after {_fmt_day(edges[-1])}", "never"]
        idx = np.searchsorted(np.asarray(days, dtype=float), values, side="left")
        labels = np.asarray(names, dtype=object)[np.where(np.isfinite(values), idx, len(names) - 1)]
        return labels, names
    raise ScenarioError(f"scenario tree: node {name!r} is a {kind} node; expected a boolean, categorical or event node")


def _not_applicable(worlds, name: str, labels: np.ndarray, order: list) -> tuple[np.ndarray, list]:
    """``labels`` with "n/a" where node ``name`` does not apply (outside its ``when:``), last in ``order``."""
    off = ~np.asarray(worlds.applicable(name), dtype=bool)
    if not off.any():
        return labels, order
    labels = labels.copy()
    labels[off] = NOT_APPLICABLE
    return labels, order + [NOT_APPLICABLE]


def scenario_tree(worlds, levels) -> Tree:
    """Branch probabilities of a tree whose levels are nodes of the model.

    Parameters
    ----------
    worlds : Worlds
        Must hold every level's node (levels whose node the model lacks are skipped).
    levels : list of str or dict
        Each a node name or ``{"node": name, "label": title, "bins": [dates], "names": {True: .., False: ..}}``.
        Boolean nodes split into yes/no, categorical nodes into their categories, event nodes
        into date bins (default :func:`event_bins`) plus "never".

    Returns
    -------
    Tree
        Branches in drawing order. Within a branch a level whose only value is "none",
        "never" or "n/a" (a node outside its ``when:`` condition: no defence clause without a
        treaty) does not apply and is skipped; where some worlds of a branch have the node and
        some do not, "n/a" is a branch of its own.  The children of a
        branch have conditional probabilities summing to 1, joint probabilities summing to
        the parent's.
    """
    specs = [_level_spec(lv) for lv in levels]
    specs = [s for s in specs if s["node"] in worlds]
    if not specs:
        raise ScenarioError("scenario tree: none of the level nodes is in the model")
    labelled = [_labels(worlds, s) for s in specs]
    weights = np.asarray(worlds.weights, dtype=float)
    total = float(weights.sum())
    branches: list[Branch] = []
    starts = [0.0] * len(specs)

    def visit(mask: np.ndarray, depth: int, path: tuple, where: tuple, parent_p: float, parent_start: float) -> None:
        if depth == len(specs):
            return
        labels, order = labelled[depth]
        present = [v for v in order if np.any(labels[mask] == v)]
        if len(present) == 1 and present[0] in VOID_LABELS:
            visit(mask, depth + 1, path, where, parent_p, parent_start)
            return
        start = max(starts[depth], parent_start)
        for value in present:
            sub = mask & (labels == value)
            p = float(weights[sub].sum() / total)
            if p <= 0:
                continue
            cond = p / parent_p if parent_p > 0 else 0.0
            branches.append(Branch(depth, path + (value,), p, cond, start, where + (depth,)))
            visit(sub, depth + 1, path + (value,), where + (depth,), p, start)
            start += p
        starts[depth] = start

    visit(np.ones(len(weights), dtype=bool), 0, (), (), 1.0, 0.0)
    return Tree(tuple(s["label"] for s in specs), tuple(s["node"] for s in specs), tuple(branches))


def top_scenarios(tree: Tree, *, n: int = 12) -> list[dict]:
    """The ``n`` likeliest complete scenarios (tree leaves) as table rows."""
    leaves = sorted(tree.leaves(), key=lambda b: -b.probability)[:n]
    return [
        {
            "scenario": " → ".join(f"{tree.levels[lv]}: {v}" for lv, v in zip(b.path_levels, b.path, strict=True)),
            "probability": probability(b.probability, decimals=3),
        }
        for b in leaves
    ]


# --------------------------------------------------------------------------- events by date


@dataclass(frozen=True)
class EventCurve:
    """P(event on or before each date), for days 0..horizon after as_of.

    Attributes
    ----------
    name : str
    dates : ndarray of datetime64[D], shape (days + 1,)
    probability : ndarray, shape (days + 1,)
        Non-decreasing; the last value is P(event within the horizon) = 1 - P(never).
    median : datetime.date or None
        First date the probability reaches 0.5 (None if it never does).
    """

    name: str
    dates: np.ndarray
    probability: np.ndarray
    median: _dt.date | None = None

    @property
    def p_never(self) -> float:
        return float(1.0 - self.probability[-1])


def event_curve(worlds, name: str) -> EventCurve:
    """Probability that event ``name`` has happened by each day of the horizon.

    Day d counts worlds whose event day is <= d (event days are days after as_of; a real
    day x falls on calendar date as_of + ceil(x)).  With an event on day 1 in one of two
    worlds and never in the other, the curve is 0 on day 0 and 0.5 from day 1 on.
    """
    model = worlds.model
    if model.kinds[name].type != "event":
        raise ScenarioError(f"event_curve: {name!r} is a {model.kinds[name].type} node, not an event")
    days = np.asarray(worlds[name], dtype=float)
    weights = np.asarray(worlds.weights, dtype=float)
    horizon = model.horizon_days
    grid = np.arange(horizon + 1, dtype=float)
    finite = np.isfinite(days)
    order = np.argsort(np.ceil(days[finite] - 1e-9), kind="stable")
    sorted_days = np.ceil(days[finite] - 1e-9)[order]
    cum = np.concatenate([[0.0], np.cumsum(weights[finite][order])])
    prob = cum[np.searchsorted(sorted_days, grid, side="right")] / weights.sum()
    dates = np.datetime64(model.as_of, "D") + grid.astype("timedelta64[D]")
    hit = np.flatnonzero(prob >= 0.5)
    median = model.as_of + _dt.timedelta(days=int(grid[hit[0]])) if len(hit) else None
    return EventCurve(name, dates, prob, median)


def event_curves(worlds, names=None, *, by_median: bool = False) -> list[EventCurve]:
    """Curves for ``names`` (default: every event node in the worlds); names the model lacks
    are skipped.  ``by_median`` orders them by median date (events that are likelier never
    than not come last, likeliest first)."""
    kinds = worlds.model.kinds
    if names is None:
        names = [n for n in worlds.names if kinds[n].type == "event"]
    curves = [event_curve(worlds, n) for n in names if n in worlds and kinds[n].type == "event"]
    if by_median:
        far = _dt.date.max
        curves.sort(key=lambda c: (c.median or far, c.p_never))
    return curves


# --------------------------------------------------------------------------- real estimates

EXCLUDE_WORDS = ("percent", "during", "calendar-year", "one month", "per month")
"""Estimates whose quantity mentions these are not cumulative totals, so not drawn on a
running-total chart (a share of ammunition, one calendar year's flow, one month's oil)."""


@dataclass(frozen=True)
class Estimate:
    """A dated real-world estimate of a cumulative quantity, as ``numeric_series.yaml`` gives it."""

    date: _dt.date
    value: float | None
    low: float | None
    high: float | None
    estimator: str = ""
    quantity: str = ""
    baseline: str = ""
    confidence: str = ""
    note: str = ""
    sources: tuple = ()

    @property
    def point(self) -> float:
        """Where to draw the marker: the headline value, else the geometric middle of the range,
        else the one bound given."""
        if self.value is not None:
            return self.value
        if self.low is not None and self.high is not None:
            return math.sqrt(self.low * self.high) if self.low > 0 else (self.low + self.high) / 2
        return self.low if self.low is not None else self.high

    @property
    def baseline_date(self) -> _dt.date | None:
        """Start of the period the estimate covers, when the baseline text starts with a date."""
        m = re.match(r"\s*(\d{4})-(\d{2})(?:-(\d{2}))?", self.baseline or "")
        if not m:
            return None
        return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))


def _num(x) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def estimates(entries, *, exclude=EXCLUDE_WORDS) -> list[Estimate]:
    """Turn raw series items into :class:`Estimate` points, dropping non-cumulative ones.

    Parameters
    ----------
    entries : list of dict
        Items of one series of ``numeric_series.yaml`` (``date_of_estimate``, ``value``,
        ``low``, ``high``, ``estimator``, ``quantity``, ``baseline``, ``sources`` ...).
    exclude : tuple of str
        Case-insensitive words in ``quantity`` that mark an item as not a running total.

    Returns
    -------
    list of Estimate, sorted by date; items with no number at all are dropped.
    """
    out = []
    for item in entries or []:
        if not isinstance(item, dict):
            continue
        quantity = str(item.get("quantity", ""))
        if any(w in quantity.lower() for w in exclude):
            continue
        value, low, high = _num(item.get("value")), _num(item.get("low")), _num(item.get("high"))
        if value is None and low is None and high is None:
            continue
        date = item.get("date_of_estimate")
        if not isinstance(date, _dt.date):
            try:
                date = _dt.date.fromisoformat(str(date))
            except ValueError:
                continue
        sources = item.get("sources") or ()
        out.append(Estimate(
            date, value, low, high, str(item.get("estimator", "")), quantity,
            str(item.get("baseline", "")), str(item.get("confidence", "")), str(item.get("note", "")),
            tuple(str(s) for s in (sources if isinstance(sources, (list, tuple)) else [sources])),
        ))
    return sorted(out, key=lambda e: e.date)


def read_estimates(path: str | None, series: dict) -> dict:
    """Read a series file (validated, :func:`scenarios.model.series.load_series`) and pick the
    series drawn on each flow.

    Parameters
    ----------
    path : str or None
        The model's series file (``DataFiles.series``); None or "": the model has none, so the
        charts are drawn without real estimates.
    series : dict
        Flow node name -> series key in the file, e.g. ``{"containers": "containers_nk_to_russia"}``.

    Returns
    -------
    dict of flow name -> list of Estimate

    Raises
    ------
    ParamsError
        A missing or invalid file, or a series key the file does not hold.
    """
    if not path:
        return {name: [] for name in series}
    from ..errors import ParamsError
    from ..model.scenario import did_you_mean
    from ..model.series import load_series

    found = load_series(path)
    for key in series.values():
        if key not in found:
            raise ParamsError(path, str(key), f"no series {key!r} in the file; it holds {', '.join(sorted(found))}"
                              + did_you_mean(key, found))
    return {name: estimates(found[key]) for name, key in series.items()}


def series_names(path: str | None) -> list[str]:
    """The names of the series in a series file, in file order ([] for no file)."""
    if not path:
        return []
    from ..model.series import load_series

    return list(load_series(path))


# --------------------------------------------------------------------------- tables


def estimate_rows(observed: dict) -> list[dict]:
    """One row per drawn estimate: flow, date, value and range, who said it, baseline, sources."""
    rows = []
    for flow, points in observed.items():
        for e in points:
            rows.append({
                "flow": flow, "date": e.date.isoformat(), "value": _fmt(e.value),
                "low–high": number_range(e.low, e.high), "estimator": e.estimator,
                "baseline": e.baseline, "confidence": e.confidence, "sources": " ; ".join(e.sources),
            })
    return rows


def _fmt(x) -> str:
    return number(x)


def forecast_rows(forecast) -> list[dict]:
    """One row per question: id, question text, type, forecast and its standard error."""
    rows = []
    for q in forecast.questions:
        d = q.to_dict()
        if q.type == "binary":
            value = "undefined" if d["probability"] is None else probability(d["probability"], decimals=3)
            se = probability(d["stderr"], decimals=3)
        elif q.type == "numeric":
            qs = q.quantiles
            value = f"median {_fmt(qs[0.5])} (90%: {_fmt(qs[0.05])} – {_fmt(qs[0.95])}); mean {_fmt(q.mean)}"
            se = f"{_fmt(q.stderr)} (mean)"
        else:
            qd = {k: v or MISSING for k, v in d["quantiles"].items()}  # a date, "never", or undefined
            value = (f"median {qd['0.5']} (90%: {qd['0.05']} – {qd['0.95']}); "
                     f"P(never) {probability(q.probability_never, decimals=3)}")
            se = f"{_fmt(q.quantile_stderr[0.5])} days (median)"
        rows.append({"id": q.id, "question": q.text, "type": q.type, "forecast": value, "std. error": se})
    return rows


def _defined(x) -> bool:
    return x is not None and x == x  # not None, not NaN


def _short_forecast(q) -> str:
    """One question's forecast in a few characters: a probability, or a median with its 90% interval."""
    if q.type == "binary":
        return "undefined" if q.probability is None or q.probability != q.probability else probability(q.probability, decimals=3)
    qs = q.quantiles or {}
    if q.type == "numeric":
        return f"{_fmt(qs.get(0.5))} ({_fmt(qs.get(0.05))} – {_fmt(qs.get(0.95))})"
    d = q.to_dict()["quantiles"] or {}
    return f"{d.get('0.5') or MISSING} ({d.get('0.05') or MISSING} – {d.get('0.95') or MISSING})"


def forecast_comparison_rows(prior, now, as_of: _dt.date) -> list[dict]:
    """One row per question: its prior forecast and its forecast as of ``as_of`` side by side.

    Binary: the probability (with its standard error as of ``as_of``); numeric and date: the
    median and 90% interval.  A question not forecast as of ``as_of`` (closed, or resolved by
    then) says so.  ``now`` may be None (the prior only)."""
    later = {q.id: q for q in now.questions} if now is not None else {}
    rows = []
    for q in prior.questions:
        row = {"id": q.id, "question": q.text, "type": q.type, "prior": _short_forecast(q)}
        if now is not None:
            cur = later.get(q.id)
            head = f"as of {as_of}"
            if cur is None:
                row[head], row["change"] = "closed or resolved", "–"
            else:
                row[head] = _short_forecast(cur)
                if q.type == "binary" and _defined(cur.probability) and _defined(q.probability):
                    row[head] += f" ± {probability(cur.stderr, decimals=3)}" if _defined(cur.stderr) else ""
                    row["change"] = signed(cur.probability - q.probability)
                else:
                    row["change"] = "–"
        rows.append(row)
    return rows


def _plain_float(x: float) -> str:
    """A float of a spec in plain digits, as YAML reads it (``0.0000001``, not ``1.0e-07``)."""
    if not math.isfinite(x):
        return {True: ".inf", False: "-.inf"}[x > 0] if x == x else ".nan"
    return np.format_float_positional(x, trim="-")


def _spec_text(raw) -> str:
    """A node's spec as one line of YAML, without its note and source; numbers in plain digits."""
    if isinstance(raw, float):
        return _plain_float(raw)
    if not isinstance(raw, dict):
        return str(raw)
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def plain(dumper, x):
        text = _plain_float(x)  # a whole number reads back as an int: tag it so, or YAML adds !!float
        return dumper.represent_scalar("tag:yaml.org,2002:" + ("int" if text.lstrip("-").isdigit() else "float"), text)

    Dumper.add_representer(float, plain)
    body = {k: v for k, v in raw.items() if k not in ("note", "source")}
    return yaml.dump(body, Dumper=Dumper, default_flow_style=True, width=10**6, sort_keys=False).strip()


def parameter_rows(model) -> list[dict]:
    """One row per node in dependency order: name, kind, spec (as written), note, source."""
    rows = []
    for name, node in model.nodes.items():
        if name.startswith("_"):
            continue
        kind = node.kind.type
        if node.kind.categories:
            kind += " (" + ", ".join(map(str, node.kind.categories)) + ")"
        rows.append({
            "node": name, "kind": kind, "spec": _spec_text(node.raw),
            "note": node.note or "", "source": node.source or "",
        })
    return rows


def run_rows(model, *, samples: int, seed: int, view=None) -> list[dict]:
    """What produced a run: model, files with SHA-256, dates, worlds, seed, overrides; with an
    :class:`~scenarios.notebook.inputs.AsOfView`, the date it is as of and the evidence used."""
    rows = [
        {"item": "model", "value": model.name},
        {"item": "model's as of (prior)", "value": model.as_of.isoformat()},
        {"item": "horizon", "value": f"{model.horizon_months} months of {model.month_days} days (to {model.as_of + _dt.timedelta(days=model.horizon_days)})"},
        {"item": "worlds", "value": f"{samples:,}"},
        {"item": "seed", "value": str(seed)},
    ]
    if view is not None:
        rows.insert(2, {"item": "as of", "value": str(view.as_of) + (
            f" ({view.items:,} evidence item{'s' if view.items != 1 else ''} public by then)" if view.now is not None
            else " (the prior only)")})
    for f in model.doc.files:
        rows.append({"item": "params file", "value": f"{f} (sha256 {model.doc.sha256.get(f, '')[:16]}…)"})
    for key, value in model.doc.overrides:
        rows.append({"item": "override", "value": f"{key} = {value!r}"})
    return rows
