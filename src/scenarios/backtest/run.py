"""Backtest: forecast every open question at every as-of date and score it against what happened.

For each as-of date D, each question open at D (opened on or before D, not closed before D,
not resolved on or before D) is forecast from the model conditioned on the evidence public by D
(:mod:`scenarios.engine.evidence`).  Forecasts are joined with the outcomes in a resolutions file and
scored with :mod:`scenarios.scoring`:

* per question, the Brier score at its first forecast (its open date, with the default dates) and
  the time-averaged Brier score over its open life: the forecast made at D stands until the next
  as-of date, the question's close or its resolution, whichever comes first, and every day
  counts the same (as Metaculus averages scores over a question's life);
* overall means with bootstrap intervals, skill against three baselines (always 0.5; the base
  rate of the outcomes; the model with no evidence), the Brier decomposition and a reliability
  curve;
* numeric series: the CRPS of the forecast distribution of each reported quantity against the
  reported estimate, at every as-of date before the report was public.

All as-of dates share one simulation: worlds are drawn with the same seed and per-node random
streams, and going from one date to the next re-draws only the nodes downstream of a changed
observation (common random numbers, so a forecast path moves only when information arrives).
"""

from __future__ import annotations

import calendar
import csv
import datetime as _dt
import io
import json
import math
import os
import re
import sys
from dataclasses import asdict, dataclass, field

import numpy as np

from ..engine.asof import Plan, check_as_of, is_open, run_plans
from ..engine.evidence import Conditioning, Evidence, load_evidence
from ..engine.forecast import flow_months, weighted_quantiles, weighted_quantiles_by_column
from ..engine.simulate import CHUNK_SIZE
from ..errors import ParamsError, UsageError
from ..model.params import describe, load_yaml_file
from ..model.scenario import Model, did_you_mean, parse_date

__all__ = [
    "Resolution",
    "Target",
    "FanPath",
    "BacktestResult",
    "load_resolutions",
    "monthly_dates",
    "default_as_of_dates",
    "run_backtest",
    "run_backtest_command",
    "report_targets",
    "fan_paths",
    "estimate_points",
    "backtest_for",
    "report_fans",
    "ENSEMBLE_SIZE",
    "format_summary",
]

RESOLUTION_KEYS = (
    "id", "question", "text", "type", "open_date", "close_date", "outcome", "value", "low", "high",
    "resolved_on", "resolution_note", "note", "confidence", "sources", "source", "unit",
)
STATUSES = ("annulled", "ambiguous", "unresolved")
ENSEMBLE_SIZE = 1000
"""Quantile points that stand for a weighted forecast distribution when its CRPS is computed."""
ESS_WARNING = 1000


# =========================================================================== resolutions


@dataclass(frozen=True)
class Resolution:
    """What happened to one question.

    status is ``resolved``, ``annulled``, ``ambiguous`` or ``unresolved``; a resolved binary
    question has ``outcome``, a resolved numeric one ``value`` (and the stated ``low``/``high``).
    ``resolved_on`` is when the outcome became public.
    """

    id: str
    type: str
    status: str
    outcome: bool | None = None
    value: float | None = None
    low: float | None = None
    high: float | None = None
    resolved_on: _dt.date | None = None
    open_date: _dt.date | None = None
    close_date: _dt.date | None = None
    confidence: str | None = None


def load_resolutions(path: str) -> dict:
    """Read and validate a resolutions file: ``{questions: [...]}`` (or a bare list).

    Each entry has ``id`` and either ``outcome`` (true, false, annulled, ambiguous or null for
    unresolved) or, for numeric questions, ``value`` with optional ``low``/``high``; plus
    ``resolved_on`` (the date the outcome became public; default the close date).

    Returns
    -------
    dict
        Question id -> :class:`Resolution`.
    """
    doc, _ = load_yaml_file(path)
    base: tuple = ()
    if isinstance(doc, dict):
        for k in doc:
            if k != "questions":
                raise ParamsError(path, str(k), f"unknown key {k!r}; a resolutions file holds questions:" + did_you_mean(k, ("questions",)))
        if "questions" not in doc:
            raise ParamsError(path, "", "missing key 'questions' (the list of resolutions)")
        doc, base = doc["questions"], ("questions",)
    if not isinstance(doc, list):
        raise ParamsError(path, ".".join(base), f"expected a list of resolutions, got {describe(doc)}")
    out: dict = {}
    for i, raw in enumerate(doc):
        res = _resolution(raw, path, base + (str(i),))
        if res.id in out:
            raise ParamsError(path, ".".join(base + (str(i), "id")), f"duplicate id {res.id!r}")
        out[res.id] = res
    return out


def _resolution(raw, file: str, p: tuple) -> Resolution:
    def err(key, msg):
        return ParamsError(file, ".".join(p + ((key,) if key else ())), msg)

    if not isinstance(raw, dict):
        raise err(None, f"expected a mapping with id and outcome, got {describe(raw)}")
    for k in raw:
        if k not in RESOLUTION_KEYS:
            raise err(str(k), f"unknown key {k!r}; expected one of {list(RESOLUTION_KEYS)}" + did_you_mean(k, RESOLUTION_KEYS))
    qid = raw.get("id")
    if not isinstance(qid, str) or not qid:
        raise err("id", f"expected a question id, got {describe(qid)}")

    def date(key):
        if raw.get(key) is None:
            return None
        return parse_date(raw[key], None, p + (key,), file=file)

    def number(key):
        v = raw.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
            raise err(key, f"expected a number or null, got {describe(v)}")
        return float(v)

    qtype = raw.get("type", "numeric" if "value" in raw and "outcome" not in raw else "binary")
    if qtype not in ("binary", "numeric", "date"):
        raise err("type", f"expected binary or numeric, got {describe(qtype)}" + did_you_mean(qtype, ("binary", "numeric")))
    opened, closed, resolved_on = date("open_date"), date("close_date"), date("resolved_on")
    common = dict(resolved_on=resolved_on or closed, open_date=opened, close_date=closed, confidence=raw.get("confidence"))
    outcome = raw.get("outcome")
    if isinstance(outcome, str) and outcome in STATUSES:
        return Resolution(qid, qtype, outcome, **common)
    if qtype == "binary":
        if "value" in raw or "low" in raw or "high" in raw:
            raise err("value", "a binary question resolves with outcome: true or false, not a value")
        if outcome is None:
            return Resolution(qid, qtype, "unresolved", **common)
        if not isinstance(outcome, bool):
            raise err("outcome", f"expected true, false, annulled, ambiguous or null, got {describe(outcome)}" + (did_you_mean(outcome, STATUSES) if isinstance(outcome, str) else ""))
        return Resolution(qid, qtype, "resolved", outcome=outcome, **common)
    if outcome is not None:
        raise err("outcome", f"a {qtype} question resolves with value (and low / high), or outcome: annulled / ambiguous; got outcome {describe(outcome)}")
    value, low, high = number("value"), number("low"), number("high")
    if low is not None and high is not None and low > high:
        raise err("low", f"expected low <= high, got {low:g} > {high:g}")
    if value is None:
        return Resolution(qid, qtype, "unresolved", low=low, high=high, **common)
    return Resolution(qid, qtype, "resolved", value=value, low=low, high=high, **common)


# =========================================================================== as-of dates


def _add_months(d: _dt.date, k: int) -> _dt.date:
    y, m = divmod(d.month - 1 + k, 12)
    year, month = d.year + y, m + 1
    return _dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def monthly_dates(start: _dt.date, end: _dt.date) -> list:
    """``start``, one month later, ... up to ``end`` (same day of the month, or its last day)."""
    if end < start:
        raise UsageError(f"--monthly: expected FROM <= TO, got {start} > {end}")
    out, k = [], 0
    while (d := _add_months(start, k)) <= end:
        out.append(d)
        k += 1
    return out


def _parse_dates(text: str, what: str) -> list:
    out = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(_dt.date.fromisoformat(part))
        except ValueError:
            raise UsageError(f"{what}: expected dates as YYYY-MM-DD, got {part!r}") from None
    if not out:
        raise UsageError(f"{what}: expected at least one date")
    return sorted(set(out))


def _life(model: Model, q, res: Resolution | None) -> tuple:
    """(first day, end day exclusive) of a question's open life."""
    start = max(q.open or model.as_of, model.as_of)
    ends = []
    if q.close is not None:
        ends.append(q.close + _dt.timedelta(days=1))
    if res is not None and res.resolved_on is not None:
        ends.append(res.resolved_on)
    end = min(ends) if ends else model.as_of + _dt.timedelta(days=model.horizon_days + 1)
    return start, end


def default_as_of_dates(model: Model, questions: list, resolutions: dict, evidence: Evidence) -> list:
    """Every scored question's open date and every evidence date, within the questions' lives."""
    lives = [_life(model, q, resolutions.get(q.id)) for q in questions if q.id in resolutions]
    if not lives:
        return [model.as_of]
    last = max(end for _, end in lives)
    dates = {start for start, _ in lives} | {d for d in evidence.dates() if d < last}
    return sorted(d for d in dates if d >= model.as_of)


# =========================================================================== the shared simulation


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


class _Ensemble:
    """A weighted forecast distribution kept as ENSEMBLE_SIZE quantile points per chunk.

    The sort order of the quantity is kept while the arrays it is computed from are the same
    objects (not re-drawn for this as-of date), so only the weights are re-summed.
    """

    LEVELS = (np.arange(ENSEMBLE_SIZE) + 0.5) / ENSEMBLE_SIZE

    def __init__(self, target: Target, cache: dict | None = None):
        self.target = target
        self.reads = target.reads
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

    def ensemble(self) -> np.ndarray | None:
        if not self.points:
            return None
        if len(self.points) == 1:
            return self.points[0]
        return weighted_quantiles(np.concatenate(self.points), np.concatenate(self.weights), self.LEVELS)


class _Store:
    """Keeps a flow's running totals at month ends (for fan charts), with the weights."""

    def __init__(self, node: str, series: str, model: Model):
        self.node, self.series, self.model = node, series, model
        self.reads = {node: None}
        self.values: list = []
        self.weights: list = []

    def add(self, worlds, weights):
        x = np.asarray(worlds[self.node], dtype=float)
        self.values.append(np.cumsum(x, axis=1) if self.series == "cumulative" else x)
        self.weights.append(np.asarray(weights, dtype=float))


# =========================================================================== targets and fans


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
        ))
    return out


def _question_target(model: Model, q, res: Resolution) -> Target:
    fm = flow_months(model, [q])
    return Target(
        id=q.id, label=q.text, quantity=q.resolve.text, on=None, estimate=res.value, low=res.low, high=res.high,
        public_on=res.resolved_on or (q.close + _dt.timedelta(days=1) if q.close else _dt.date.max), source="resolutions",
        evaluate=q.resolve.evaluate, given=q.given.evaluate if q.given else None,
        reads={name: fm.get(name) for name in q.refs}, first_as_of=q.open,
    )


@dataclass
class FanPath:
    """Percentiles of a flow (or its running total) at each month end, as of one date."""

    as_of: _dt.date
    dates: list
    levels: tuple
    values: np.ndarray  # (len(levels), months)
    ess: float


def _fan_quantities(model: Model, quantity) -> list:
    """``quantity`` (a name or a list) as (quantity, flow, series) triples, checked."""
    out = []
    for q in [quantity] if isinstance(quantity, str) else list(quantity):
        name, _, series = q.partition(".")
        if name not in model.nodes or not model.kinds[name].is_flow or series not in ("", "cumulative"):
            raise ParamsError(None, "quantity", f"expected a flow or flow.cumulative, got {q!r}" + did_you_mean(name, model.nodes))
        out.append((q, name, series))
    return out


def _fan_sinks(model: Model, parsed: list) -> list:
    return [_Store(name, series, model) for _, name, series in parsed]


def _fan_results(model: Model, parsed: list, plans: list, levels) -> dict:
    """quantity -> list of :class:`FanPath`, one per plan, from the plans' fan sinks
    (:func:`_fan_sinks`)."""
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
    """Fans of ``quantity`` (``flow`` or ``flow.cumulative``) as of each date: a list of
    :class:`FanPath`.  ``quantity`` may be a list: then a dict quantity -> list, from one simulation.
    """
    parsed = _fan_quantities(model, quantity)
    samples = model.samples if samples is None else samples
    seed = model.seed if seed is None else seed
    dates = [check_as_of(model, d) for d in as_of_dates]
    plans = [Plan(d, evidence.conditioning(model, d), sinks=_fan_sinks(model, parsed)) for d in dates]
    run_plans(model, plans, samples=samples, seed=seed)
    out = _fan_results(model, parsed, plans, levels)
    return out[quantity] if isinstance(quantity, str) else out


def report_fan_dates(model: Model, evidence: Evidence, *, n_dates: int = 5, until: str = "") -> tuple:
    """What :func:`report_fans` shows: (quantities, as-of dates).

    The quantities are every flow running total that evidence reports on; the dates are the
    model's as_of and up to ``n_dates - 1`` of the dates those reports became public, spread
    evenly (no later than ``until`` when given).
    """
    quantities = sorted({it.report.quantity for it in evidence.reports() if it.report.series == "cumulative"})
    if not quantities:
        return [], []
    public = sorted({it.public_on for it in evidence.reports() if it.report.quantity in quantities})
    if until:
        last = _parse_dates(until, "until")[0]
        public = [d for d in public if d <= last]
    pick = [public[round(i)] for i in np.linspace(0, len(public) - 1, min(n_dates - 1, len(public)))] if public else []
    return quantities, sorted({model.as_of, *pick})


def report_fans(model: Model, evidence: Evidence, *, samples=None, seed=None, n_dates: int = 5, until: str = "") -> dict:
    """Fans of every flow running total that evidence reports on, as of a few dates (see
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


# =========================================================================== the backtest


@dataclass
class BacktestResult:
    """Rows and summary of a backtest (see :func:`run_backtest`)."""

    rows: list  # binary forecasts: dicts
    numeric_rows: list
    summary: dict
    fans: dict = field(default_factory=dict)  # quantity -> (fans, points), as report_fans gives

    ROW_COLUMNS = ("question", "as_of", "forecast", "outcome", "brier", "log_score", "days", "no_evidence_forecast", "ess")
    NUMERIC_COLUMNS = ("target", "as_of", "q05", "q50", "q95", "estimate", "low", "high", "crps", "crps_relative", "quantity")

    def to_csv(self) -> str:
        return _csv(self.ROW_COLUMNS, self.rows)

    def numeric_csv(self) -> str:
        return _csv(self.NUMERIC_COLUMNS, self.numeric_rows)

    def to_json(self) -> str:
        return json.dumps(_jsonable(self.summary), indent=2) + "\n"

    def write(self, out_dir: str) -> list:
        """Write backtest.csv, numeric.csv and summary.json (atomically); return the paths."""
        from ..atomic import write_text

        paths = [os.path.join(out_dir, n) for n in ("backtest.csv", "numeric.csv", "summary.json")]
        for path, text in zip(paths, (self.to_csv(), self.numeric_csv(), self.to_json()), strict=True):
            write_text(path, text)
        return paths

    def path(self, question: str) -> list:
        """The forecast path of one question: its rows in date order."""
        return [r for r in self.rows if r["question"] == question]

    def question_table(self) -> list:
        """Per-question rows sorted by time-averaged Brier score, worst first."""
        rows = [q for q in self.summary["questions"] if q.get("brier_time_averaged") is not None]
        return sorted(rows, key=lambda q: -q["brier_time_averaged"])


def _csv(columns, rows) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow(["" if r.get(c) is None else (f"{r[c]:.6g}" if isinstance(r[c], float) else r[c]) for c in columns])
    return buf.getvalue()


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_jsonable(v) for v in x.tolist()]
    if isinstance(x, (_dt.date,)):
        return x.isoformat()
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if math.isfinite(x) else None
    return x


def run_backtest(model: Model, questions: list, resolutions: dict, evidence: Evidence, *, as_of_dates=None,
                 samples=None, seed=None, chunk_size: int = CHUNK_SIZE, fans: bool = False,
                 until: str = "") -> BacktestResult:
    """Forecast every open question at every as-of date, join outcomes and score.

    Parameters
    ----------
    model : Model
    questions : list of Question
        Any question set; those with a resolution are scored.
    resolutions : dict
        Question id -> :class:`Resolution` (see :func:`load_resolutions`).
    evidence : Evidence
    as_of_dates : list of datetime.date, optional
        Default: :func:`default_as_of_dates`.
    samples, seed : int, optional
        Default to the model's; the same seed serves every date (common random numbers).
    fans : bool
        Also compute :func:`report_fans` (up to ``until``, YYYY-MM-DD) in the same simulation,
        into ``result.fans``: equal to a separate call with the same seed, at a fraction of its
        cost, since most of what they read is drawn for the backtest's dates anyway.
    """
    from ..scoring import scores as scoring

    samples = model.samples if samples is None else samples
    seed = model.seed if seed is None else seed
    by_id = {q.id: q for q in questions}
    for qid, res in resolutions.items():
        q = by_id.get(qid)
        if q is not None and res.type != q.type and res.status == "resolved":
            raise ParamsError(None, qid, f"question {qid!r} is {q.type} but its resolution is {res.type}")
    dates = sorted({check_as_of(model, d) for d in as_of_dates}) if as_of_dates else default_as_of_dates(model, questions, resolutions, evidence)

    binary = [q for q in questions if q.type == "binary" and _resolved(resolutions.get(q.id))]
    numeric_qs = [q for q in questions if q.type == "numeric" and _resolved(resolutions.get(q.id))]
    targets = report_targets(model, evidence) + [_question_target(model, q, resolutions[q.id]) for q in numeric_qs]

    def open_at(q, d):
        res = resolutions.get(q.id)
        return (q.open or model.as_of) <= d and is_open(q, d, res.resolved_on if res else None)

    def target_at(t, d):
        return d < t.public_on and (t.first_as_of is None or t.first_as_of <= d)

    nothing = Conditioning(model.as_of, {}, {}, (), (), ())
    caches = {t.id: {} for t in targets}  # per chunk, the sort order survives dates that keep the arrays
    prior = Plan(None, nothing, binary, [_Ensemble(t, caches[t.id]) for t in targets])
    plans = [prior] + [
        Plan(d, evidence.conditioning(model, d), [q for q in binary if open_at(q, d)],
             [_Ensemble(t, caches[t.id]) for t in targets if target_at(t, d)])
        for d in dates
    ]
    fan_plans, parsed, run = [], [], plans
    if fans:
        quantities, fan_dates = report_fan_dates(model, evidence, until=until)
        parsed = _fan_quantities(model, quantities)
        fan_plans = [Plan(d, evidence.conditioning(model, d), sinks=_fan_sinks(model, parsed)) for d in fan_dates]
        # each right after the backtest's plan of its date, whose draws it reuses (same conditioning)
        run = [plans[0]] + sorted([*plans[1:], *fan_plans], key=lambda p: p.as_of)
    run_plans(model, run, samples=samples, seed=seed, chunk_size=chunk_size)
    fans_out = {}
    if fan_plans:
        paths = _fan_results(model, parsed, fan_plans, FAN_LEVELS)
        fans_out = {q: (paths[q], estimate_points(evidence, q)) for q, _, _ in parsed}

    prior_p = {acc.q.id: acc.result(model.as_of).probability for acc in prior.accs}
    prior_ens = {ens.target.id: ens.ensemble() for ens in prior.sinks}

    # ---- binary rows
    rows = []
    for plan in plans[1:]:
        for acc in plan.accs:
            f = acc.result(model.as_of)
            res = resolutions[f.id]
            rows.append({
                "question": f.id, "as_of": plan.as_of, "forecast": f.probability, "outcome": int(res.outcome),
                "ess": f.n_eff, "no_evidence_forecast": prior_p[f.id],
            })
    defined = [r for r in rows if r["forecast"] is not None and math.isfinite(r["forecast"])]
    if defined:
        p = np.array([r["forecast"] for r in defined])
        o = np.array([r["outcome"] for r in defined])
        for r, b, ls in zip(defined, scoring.brier_score(p, o), scoring.log_score(p, o), strict=True):
            r["brier"], r["log_score"] = float(b), float(ls)
    # days each forecast stands: until the next as-of date, the close or the resolution
    per_q: dict = {}
    for r in defined:
        per_q.setdefault(r["question"], []).append(r)
    for qid, qrows in per_q.items():
        _, end = _life(model, by_id[qid], resolutions[qid])
        for r, nxt in zip(qrows, qrows[1:] + [None], strict=True):
            stop = end if nxt is None else min(nxt["as_of"], end)
            r["days"] = max(0, (stop - r["as_of"]).days)

    numeric_rows = _numeric_rows(plans, targets, prior_ens)
    summary = _summary(model, questions, resolutions, evidence, dates, plans, rows, per_q, prior_p, numeric_rows, targets, prior_ens, samples, seed)
    return BacktestResult(rows, numeric_rows, summary, fans_out)


def _resolved(res: Resolution | None) -> bool:
    return res is not None and res.status == "resolved"


def _numeric_rows(plans, targets, prior_ens) -> list:
    from ..scoring.scores import crps_ensemble

    out = []
    for plan in plans[1:]:
        for ens in plan.sinks:
            t = ens.target
            e = ens.ensemble()
            if e is None:
                continue
            crps = float(crps_ensemble(e, t.estimate))
            q05, q50, q95 = (float(e[int(q * ENSEMBLE_SIZE)]) for q in (0.05, 0.5, 0.95))
            out.append({
                "target": t.id, "as_of": plan.as_of, "q05": q05, "q50": q50, "q95": q95, "estimate": t.estimate,
                "low": t.low, "high": t.high, "crps": crps,
                "crps_relative": crps / abs(t.estimate) if t.estimate else None, "quantity": t.label,
            })
    return out


def _ci(scores, rng):
    from ..scoring.scores import bootstrap_mean_ci

    ci = bootstrap_mean_ci(np.asarray(scores, dtype=float), rng=rng)
    return {"mean": ci.mean, "low": ci.low, "high": ci.high}


def _summary(model, questions, resolutions, evidence, dates, plans, rows, per_q, prior_p, numeric_rows, targets, prior_ens, samples, seed) -> dict:
    from ..scoring import scores as scoring

    rng = np.random.default_rng(seed)
    by_id = {q.id: q for q in questions}
    statuses = {}
    for q in questions:
        res = resolutions.get(q.id)
        statuses[q.id] = "unresolved" if res is None else res.status
    counts = {
        "questions": len(questions),
        "binary_scored": len(per_q),
        "annulled": sum(s == "annulled" for s in statuses.values()),
        "ambiguous": sum(s == "ambiguous" for s in statuses.values()),
        "unresolved": sum(s == "unresolved" for s in statuses.values()),
        "resolved_never_open": sorted(
            q.id for q in questions if q.type == "binary" and statuses[q.id] == "resolved" and q.id not in per_q
        ),
        "undefined_forecasts": sum(1 for r in rows if r["forecast"] is None or not math.isfinite(r["forecast"])),
        "resolved_not_scored_type": sorted(q.id for q in questions if q.type == "date" and statuses[q.id] == "resolved"),
        "resolutions_without_question": sorted(set(resolutions) - set(by_id)),
        "numeric_targets": len(targets),
        "as_of_dates": len(dates),
    }
    # ---- per question
    per_question = []
    for qid, qrows in per_q.items():
        q, res = by_id[qid], resolutions[qid]
        start, end = _life(model, q, res)
        days = np.array([r["days"] for r in qrows], dtype=float)
        briers = np.array([r["brier"] for r in qrows])
        logs = np.array([r["log_score"] for r in qrows])
        covered = days.sum()
        prior = prior_p[qid]
        per_question.append({
            "id": qid, "outcome": res.outcome, "open": start, "close": q.close, "resolved_on": res.resolved_on,
            "first_as_of": qrows[0]["as_of"], "forecast_open": qrows[0]["forecast"],
            "brier_open": float(briers[0]), "log_score_open": float(logs[0]),
            "brier_time_averaged": float(days @ briers / covered) if covered else float(briers[0]),
            "log_score_time_averaged": float(days @ logs / covered) if covered else float(logs[0]),
            "forecast_last": qrows[-1]["forecast"], "n_forecasts": len(qrows), "days": int(covered),
            "uncovered_days": max(0, (end - start).days - int(covered)),
            "no_evidence_forecast": prior,
            "no_evidence_brier": float(scoring.brier_score([prior], [res.outcome])[0]) if math.isfinite(prior) else None,
            "text": q.text,
        })
    summary = {
        "model": model.name,
        "params": list(model.doc.files),
        "overrides": {k: v for k, v in model.doc.overrides},
        "evidence": evidence.file,
        "evidence_items": len(evidence),
        "samples": samples,
        "seed": seed,
        "as_of_dates": dates,
        "counts": counts,
        "ess": {str(p.as_of): p.ess for p in plans[1:]},
        "questions": per_question,
    }
    summary["overall"] = _overall(per_question, rows, rng) if per_question else None
    summary["by_date"] = _by_date(plans, rows, per_question)
    summary["numeric"] = _numeric_summary(targets, numeric_rows, prior_ens)
    return summary


def _overall(per_question, rows, rng) -> dict:
    from ..scoring import scores as scoring

    o = np.array([q["outcome"] for q in per_question], dtype=float)
    p_open = np.array([q["forecast_open"] for q in per_question])
    b_open = np.array([q["brier_open"] for q in per_question])
    b_ta = np.array([q["brier_time_averaged"] for q in per_question])
    base = float(o.mean())
    prior = np.array([q["no_evidence_forecast"] for q in per_question])
    baselines = {"always_0.5": np.full(len(o), 0.5), "base_rate": np.full(len(o), base), "no_evidence": prior}
    out = {
        "n_questions": len(per_question),
        "brier_open": _ci(b_open, rng),
        "brier_time_averaged": _ci(b_ta, rng),
        "log_score_open": _ci([q["log_score_open"] for q in per_question], rng),
        "log_score_time_averaged": _ci([q["log_score_time_averaged"] for q in per_question], rng),
        "base_rate": base,
        "baselines": {},
    }
    for name, ref in baselines.items():
        ref_b = scoring.brier_score(ref, o)  # constant over a question's life, so also its time average
        entry = {"brier": float(ref_b.mean())}
        for which, model_b, probs in (("open", b_open, p_open), ("time_averaged", b_ta, None)):
            if ref_b.mean() == 0:
                entry[f"skill_{which}"] = None
            elif probs is not None:
                entry[f"skill_{which}"] = scoring.brier_skill_score(probs, o, ref)
            else:
                entry[f"skill_{which}"] = 1.0 - float(model_b.mean()) / float(ref_b.mean())
            d = scoring.bootstrap_difference_ci(model_b, ref_b, rng=rng)
            entry[f"difference_{which}"] = {"mean": d.mean, "low": d.low, "high": d.high}
        out["baselines"][name] = entry
    out["decomposition_open"] = _decomp(scoring.murphy_decomposition(p_open, o))
    scored = [r for r in rows if r.get("brier") is not None]
    pa = np.array([r["forecast"] for r in scored])
    oa = np.array([r["outcome"] for r in scored], dtype=float)
    out["brier_all_forecasts"] = float(np.mean([r["brier"] for r in scored]))
    out["n_forecasts"] = len(scored)
    out["decomposition_all_forecasts"] = _decomp(scoring.murphy_decomposition(pa, oa))
    rc = scoring.reliability_curve(pa, oa)
    out["reliability"] = {k: getattr(rc, k) for k in ("edges", "mean_forecast", "observed_frequency", "count", "lower", "upper")}
    return out


def _decomp(d) -> dict:
    out = asdict(d)
    out["total"] = d.total
    return out


def _by_date(plans, rows, per_question) -> list:
    outcomes = {q["id"]: q["outcome"] for q in per_question}
    base = float(np.mean(list(outcomes.values()))) if outcomes else math.nan
    by: dict = {}
    for r in rows:
        if r.get("brier") is not None:
            by.setdefault(r["as_of"], []).append(r)
    out = []
    for plan in plans[1:]:
        rs = by.get(plan.as_of, [])
        o = np.array([r["outcome"] for r in rs], dtype=float)
        prior = np.array([r["no_evidence_forecast"] for r in rs])
        out.append({
            "as_of": plan.as_of, "n_open": len(rs), "ess": plan.ess,
            "brier": float(np.mean([r["brier"] for r in rs])) if rs else None,
            "brier_always_0.5": 0.25 if rs else None,
            "brier_base_rate": float(np.mean((base - o) ** 2)) if rs else None,
            "brier_no_evidence": float(np.mean((prior - o) ** 2)) if rs else None,
        })
    return out


def _numeric_summary(targets, numeric_rows, prior_ens) -> dict:
    from ..scoring.scores import crps_ensemble

    by: dict = {}
    for r in numeric_rows:
        by.setdefault(r["target"], []).append(r)
    items = []
    for t in targets:
        rs = by.get(t.id, [])
        pe = prior_ens.get(t.id)
        prior_crps = float(crps_ensemble(pe, t.estimate)) if pe is not None else None
        items.append({
            "id": t.id, "quantity": t.label, "on": t.on, "estimate": t.estimate, "low": t.low, "high": t.high,
            "public_on": t.public_on, "source": t.source, "n_forecasts": len(rs),
            "crps_first": rs[0]["crps"] if rs else None, "crps_last": rs[-1]["crps"] if rs else None,
            "crps_relative_first": rs[0]["crps_relative"] if rs else None,
            "crps_relative_last": rs[-1]["crps_relative"] if rs else None,
            "crps_relative_mean": float(np.mean([r["crps_relative"] for r in rs])) if rs and t.estimate else None,
            "no_evidence_crps": prior_crps,
            "no_evidence_crps_relative": prior_crps / abs(t.estimate) if prior_crps is not None and t.estimate else None,
        })
    scored = [i for i in items if i["crps_relative_last"] is not None]
    return {
        "targets": items,
        "mean_relative_crps_first": float(np.mean([i["crps_relative_first"] for i in scored])) if scored else None,
        "mean_relative_crps_last": float(np.mean([i["crps_relative_last"] for i in scored])) if scored else None,
        "mean_relative_crps_no_evidence": float(np.mean([i["no_evidence_crps_relative"] for i in scored])) if scored else None,
    }


def backtest_for(model: Model, questions: list, params_file: str, *, samples=None, seed=None, until: str = "",
                 resolutions: str | None = None, evidence=None, as_of_dates=None, fans: bool = False) -> BacktestResult:
    """Run :func:`run_backtest` as the command line does: the evidence named by the params file
    (or ``evidence``, a file), the resolutions next to it (``data/resolutions.yaml`` beside
    ``params/``) or ``resolutions``; ``until`` (YYYY-MM-DD, or "" for all) drops later as-of dates.
    ``fans``: also the fans of :func:`report_fans` (up to ``until``), in ``result.fans``.
    """
    res = load_resolutions(resolutions or default_resolutions_path(params_file))
    ev = load_evidence(model, evidence)
    dates = as_of_dates or default_as_of_dates(model, questions, res, ev)
    if until:
        last = _parse_dates(until, "until")[0]
        dates = [d for d in dates if d <= last] or [model.as_of]
    return run_backtest(model, questions, res, ev, as_of_dates=dates, samples=samples, seed=seed, fans=fans, until=until)


# =========================================================================== command line


def default_resolutions_path(params: str) -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(params))), "data", "resolutions.yaml")


def run_backtest_command(args) -> int:
    """``scenarios backtest``: run, write backtest.csv / numeric.csv / summary.json, print a summary."""
    from ..model.load import load_model

    if args.as_of_dates and args.monthly:
        raise UsageError("give either --as-of-dates or --monthly, not both")
    model, questions = load_model(args.params, overrides=args.overrides, questions=args.questions)
    if not questions:
        raise ParamsError(args.params, "questions", "the model has no questions to backtest; add questions: or pass --questions FILE")
    res_path = args.resolutions or default_resolutions_path(args.params)
    if args.resolutions is None and not os.path.exists(res_path):
        raise UsageError(f"no resolutions file at {res_path}; pass --resolutions FILE")
    resolutions = load_resolutions(res_path)
    evidence = load_evidence(model, args.evidence)
    if args.as_of_dates:
        dates = _parse_dates(args.as_of_dates, "--as-of-dates")
    elif args.monthly:
        start, end = _parse_dates(args.monthly[0], "--monthly FROM")[0], _parse_dates(args.monthly[1], "--monthly TO")[0]
        dates = monthly_dates(start, end)
    else:
        dates = None
    result = run_backtest(model, questions, resolutions, evidence, as_of_dates=dates, samples=args.samples, seed=args.seed)
    out = args.out or os.path.join("reports", "backtest-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", model.name))
    paths = result.write(out)
    sys.stdout.write(format_summary(result.summary) + "".join(f"wrote {p}\n" for p in paths))
    low = [(d, e) for d, e in result.summary["ess"].items() if e < ESS_WARNING]
    if low:
        d, e = min(low, key=lambda x: x[1])
        print(f"warning: effective sample size below {ESS_WARNING:,} at {len(low)} as-of date(s) (lowest {e:,.0f} on {d}); use more --samples", file=sys.stderr)
    return 0


def format_summary(s: dict) -> str:
    """A few lines for the terminal: counts, overall scores, skills, ESS."""
    c = s["counts"]
    lines = [
        f"backtest {s['model']}: {c['binary_scored']} binary questions scored at {c['as_of_dates']} as-of dates, "
        f"{s['samples']:,} worlds, seed {s['seed']}, {s['evidence_items']} evidence items",
        f"  not scored: {c['annulled']} annulled, {c['ambiguous']} ambiguous, {c['unresolved']} unresolved, "
        f"{len(c['resolved_never_open'])} never open at an as-of date",
    ]
    o = s["overall"]
    if o:
        def ci(x):
            return f"{x['mean']:.3f} [{x['low']:.3f}, {x['high']:.3f}]"

        lines.append(f"  mean Brier at open {ci(o['brier_open'])}; time-averaged {ci(o['brier_time_averaged'])}")
        for name, b in o["baselines"].items():
            sk = b["skill_time_averaged"]
            lines.append(f"  vs {name:<12} Brier {b['brier']:.3f}  skill (time-averaged) {'n/a' if sk is None else f'{sk:+.3f}'}")
    n = s["numeric"]
    if n["mean_relative_crps_last"] is not None:
        lines.append(
            f"  numeric: mean relative CRPS {n['mean_relative_crps_first']:.3f} at the first as-of date, "
            f"{n['mean_relative_crps_last']:.3f} at the last before each report (no evidence: {n['mean_relative_crps_no_evidence']:.3f})"
        )
    if s["ess"]:
        d, e = min(s["ess"].items(), key=lambda x: x[1])
        lines.append(f"  lowest effective sample size {e:,.0f} (as of {d})")
    return "\n".join(lines) + "\n"
