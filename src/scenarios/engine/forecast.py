"""Forecasts: every question's answer over the simulated (optionally weighted) worlds.

Binary: the weighted share of worlds where the clause holds (given the ``given`` clause), with
standard error sqrt(p (1 - p) / ESS).  Numeric and date: weighted 5/50/95% quantiles and the mean;
a quantile's standard error is half the distance between the quantiles at q ± sqrt(q (1-q) / ESS)
(the order-statistic interval, distribution-free).  ESS = (sum w)^2 / sum w^2 is the effective
sample size (the number of worlds when unweighted).

The JSON form (``Forecast.to_dict``) is a stable interface read by scheduled jobs; see
``docs/forecast-json.md``.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import io
import json
import math
from dataclasses import dataclass, field

import numpy as np

from ..model.questions import Question
from ..model.scenario import Model
from .memory import check_memory
from .simulate import CHUNK_SIZE, months_needed, simulate_chunks

__all__ = ["QUANTILES", "QuestionForecast", "Forecast", "run_forecast", "weighted_quantiles", "weighted_quantiles_by_column"]

QUANTILES = (0.05, 0.5, 0.95)
JSON_SCHEMA_VERSION = 1


def weighted_quantiles(values: np.ndarray, weights: np.ndarray | None, qs) -> np.ndarray:
    """Inverse of the (weighted) empirical CDF at each level in ``qs``.

    Parameters
    ----------
    values : ndarray, shape (n,)
    weights : ndarray, shape (n,) or None
        Non-negative; None means equal weights.
    qs : sequence of float in [0, 1]

    Returns
    -------
    ndarray, shape (len(qs),)
        The smallest value whose CDF reaches q (``inverted_cdf``); ``inf`` values sort last.
    """
    qs = np.clip(np.asarray(qs, dtype=float), 0.0, 1.0)
    if weights is None:
        return np.quantile(values, qs, method="inverted_cdf")
    order = np.argsort(values, kind="stable")
    return values[order][_inverse_cdf_index(weights[order], qs)]


def _inverse_cdf_index(sorted_weights: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """Positions, in sorted order, of the smallest values whose weighted CDF reaches each q."""
    cdf = np.cumsum(sorted_weights)
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, qs - 1e-12, side="left"), len(cdf) - 1)


def weighted_quantiles_by_column(values: np.ndarray, weights: np.ndarray, qs) -> np.ndarray:
    """:func:`weighted_quantiles` of every column of ``values``, all with the same weights.

    Parameters
    ----------
    values : ndarray, shape (n, m)
        E.g. worlds x months.
    weights : ndarray, shape (n,)
        Non-negative.
    qs : sequence of float in [0, 1]

    Returns
    -------
    ndarray, shape (len(qs), m)

    Each column is sorted starting from the previous column's order: when ranks change little
    from one column to the next (running totals month by month) the stable sort (timsort) then
    meets long sorted runs, and the m sorts cost about half of m independent ones.
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    qs = np.clip(np.asarray(qs, dtype=float), 0.0, 1.0)
    n, m = values.shape
    out = np.empty((len(qs), m))
    order = np.arange(n)
    for j in range(m):
        column = values[order, j]
        step = np.argsort(column, kind="stable")
        order = order[step]
        out[:, j] = column[step][_inverse_cdf_index(weights[order], qs)]
    return out


@dataclass
class QuestionForecast:
    """One question's forecast. Fields not used by its type are None."""

    id: str
    text: str
    type: str
    open: _dt.date | None
    close: _dt.date | None
    n_eff: float
    probability: float | None = None
    stderr: float | None = None
    mean: float | None = None
    quantiles: dict | None = None
    quantile_stderr: dict | None = None
    probability_never: float | None = None
    as_of: _dt.date | None = None

    def to_dict(self) -> dict:
        d = {"id": self.id, "type": self.type, "text": self.text}
        if self.type == "binary":
            d.update(probability=_num(self.probability), stderr=_num(self.stderr))
        elif self.type == "numeric":
            d.update(
                mean=_num(self.mean),
                stderr=_num(self.stderr),
                quantiles={f"{q:g}": _num(v) for q, v in self.quantiles.items()},
                quantile_stderr={f"{q:g}": _num(v) for q, v in self.quantile_stderr.items()},
            )
        else:
            d.update(
                mean=self._date(self.mean),
                stderr_days=_num(self.stderr),
                quantiles={f"{q:g}": self._date(v) for q, v in self.quantiles.items()},
                quantile_stderr_days={f"{q:g}": _num(v) for q, v in self.quantile_stderr.items()},
                probability_never=_num(self.probability_never),
            )
        d["n_eff"] = _num(self.n_eff)
        d["open"] = self.open.isoformat() if self.open else None
        d["close"] = self.close.isoformat() if self.close else None
        return d

    def _date(self, day):
        if day is None or not math.isfinite(day):
            return "never" if day is not None and day == math.inf else None
        return (self.as_of + _dt.timedelta(days=math.ceil(day - 1e-9))).isoformat()

    def summary(self) -> str:
        """One short human-readable answer, e.g. '0.62 ± 0.003'."""
        if self.type == "binary":
            if self.probability is None or not math.isfinite(self.probability):
                return "undefined (condition never holds)"
            return f"{self.probability:.3f} ± {self.stderr:.3f}"
        q = self.quantiles
        if self.type == "numeric":
            return f"mean {_fmt(self.mean)}; 5/50/95%: {_fmt(q[0.05])} / {_fmt(q[0.5])} / {_fmt(q[0.95])}"
        return (
            f"5/50/95%: {self._date(q[0.05])} / {self._date(q[0.5])} / {self._date(q[0.95])}; "
            f"P(never) {self.probability_never:.3f}"
        )


def _fmt(x) -> str:
    if x is None or not math.isfinite(x):
        return str(x)
    if abs(x) >= 1e5:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def _num(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass
class Forecast:
    """Every question's forecast from one run, with what made it."""

    model: str
    params_files: list
    samples: int
    seed: int
    as_of: _dt.date
    questions: list
    overrides: list = field(default_factory=list)
    ess: float | None = None

    def to_dict(self) -> dict:
        return {
            "schema": JSON_SCHEMA_VERSION,
            "model": self.model,
            "params": self.params_files,
            "overrides": {k: v for k, v in self.overrides},
            "as_of": self.as_of.isoformat(),
            "samples": self.samples,
            "seed": self.seed,
            "effective_sample_size": _num(self.ess),
            "questions": [q.to_dict() for q in self.questions],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str) + "\n"

    CSV_COLUMNS = (
        "id", "type", "probability", "stderr", "mean", "q05", "q50", "q95", "probability_never",
        "n_eff", "samples", "seed", "open", "close", "text",
    )

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self.CSV_COLUMNS)
        for q in self.questions:
            d = q.to_dict()
            quant = d.get("quantiles") or {}
            writer.writerow([
                q.id, q.type, d.get("probability"), d.get("stderr", d.get("stderr_days")), d.get("mean"),
                quant.get("0.05"), quant.get("0.5"), quant.get("0.95"), d.get("probability_never"),
                d["n_eff"], self.samples, self.seed, d["open"], d["close"], q.text,
            ])
        return buf.getvalue()

    def to_table(self) -> str:
        width = max([len(q.id) for q in self.questions] + [8])
        lines = [
            f"model {self.model}  as of {self.as_of}  worlds {self.samples:,}  seed {self.seed}"
            + (f"  ESS {self.ess:,.0f}" if self.ess is not None else ""),
            f"{'question':<{width}}  {'type':<7}  forecast",
            f"{'-' * width}  {'-' * 7}  {'-' * 40}",
        ]
        for q in self.questions:
            lines.append(f"{q.id:<{width}}  {q.type:<7}  {q.summary()}")
        return "\n".join(lines) + "\n"

    def by_id(self) -> dict:
        return {q.id: q for q in self.questions}


class Accumulator:
    """Collects what one question needs from each chunk, without keeping flows.

    A numeric or date question keeps one float64 per world it counts, in one buffer allocated
    for ``capacity`` worlds (8 bytes a world); weights are kept (8 more) only once some world
    weighs other than 1, i.e. with evidence.  Results equal those of keeping every value and
    weight (tested): with all weights 1, sums of weights are exact counts.

    Parameters
    ----------
    question : Question
    capacity : int, optional
        Worlds of the whole run (the buffer grows when not given).
    """

    def __init__(self, question: Question, capacity: int | None = None):
        self.q = question
        self.sum_w = 0.0
        self.sum_w2 = 0.0
        self.sum_wa = 0.0
        self.sum_w2a = 0.0  # binary: sum of w^2 over worlds where it resolves yes
        self.copies_w2 = 0.0  # sum of w^2 with copies of a world counted as one world, minus sum_w2
        # binary, for the MCSE: over groups g (islands of resampled worlds, else single worlds),
        # sums of A_g^2, A_g B_g and B_g^2 (A_g: weight of the group's yes-worlds, B_g: its weight)
        self.group_a2 = self.group_ab = self.group_b2 = 0.0
        self.groups = 0
        self.islands = False
        self.n = 0
        self.capacity = capacity
        self.values = None  # allocated at the first chunk (after the run's memory check)
        self.weights = None
        self.done: QuestionForecast | None = None

    def add(self, worlds, weights, copies=None, islands=None):
        """Add a chunk's worlds with their weights, shape (n,).

        ``copies`` (int array of shape (n,), or None: all distinct) numbers the copies of a world
        made by resampling: the ESS counts a world's copies as one world with their summed weight.
        ``islands`` (int array of shape (n,), or None) numbers the independent populations the
        worlds were resampled in: the MCSE is then the spread of the islands' answers.
        """
        if self.done is not None:
            raise RuntimeError("worlds added to an accumulator after its result")
        q = self.q
        mask = None
        if q.given is not None:
            mask = np.asarray(q.given.evaluate(worlds), dtype=bool)
        w = weights if mask is None else weights * mask
        a = q.resolve.evaluate(worlds)
        w2 = w * w
        sum_w2 = float(w2.sum())
        self.sum_w += float(w.sum())
        self.sum_w2 += sum_w2
        if copies is not None:
            b_g = np.bincount(copies, weights=w)
            self.copies_w2 += float(np.dot(b_g, b_g)) - sum_w2
        if q.type == "binary":
            yes = np.asarray(np.broadcast_to(a, w.shape), dtype=bool)
            yes_w2 = float(w2[yes].sum())
            self.sum_wa += float(w[yes].sum())
            self.sum_w2a += yes_w2
            if islands is None:
                self.group_a2 += yes_w2
                self.group_ab += yes_w2
                self.group_b2 += sum_w2
                self.groups += len(w)
            else:
                b_g = np.bincount(islands, weights=w)
                a_g = np.bincount(islands, weights=np.where(yes, w, 0.0))
                self.group_a2 += float(np.dot(a_g, a_g))
                self.group_ab += float(np.dot(a_g, b_g))
                self.group_b2 += float(np.dot(b_g, b_g))
                self.groups += len(b_g)
                self.islands = True
            return
        keep = w > 0
        a = np.broadcast_to(np.asarray(a, dtype=float), keep.shape)
        if keep.all():
            kept_values, kept_weights = a, w
        else:
            kept_values, kept_weights = a[keep], w[keep]
        start, stop = self.n, self.n + len(kept_values)
        self._reserve(stop)
        self.values[start:stop] = kept_values
        if self.weights is None and not np.all(kept_weights == 1.0):
            self.weights = np.ones(len(self.values))
        if self.weights is not None:
            self.weights[start:stop] = kept_weights
        self.n = stop

    def merge(self, part: Accumulator) -> None:
        """Add the worlds another accumulator (of the same question, e.g. a chunk run in another
        process) was given, as if they had been added here: the same numbers, bit for bit."""
        if self.done is not None:
            raise RuntimeError("worlds added to an accumulator after its result")
        self.sum_w += part.sum_w
        self.sum_w2 += part.sum_w2
        self.sum_wa += part.sum_wa
        self.sum_w2a += part.sum_w2a
        self.copies_w2 += part.copies_w2
        self.group_a2 += part.group_a2
        self.group_ab += part.group_ab
        self.group_b2 += part.group_b2
        self.groups += part.groups
        self.islands = self.islands or part.islands
        if not part.n:
            return
        start, stop = self.n, self.n + part.n
        self._reserve(stop)
        self.values[start:stop] = part.values[: part.n]
        if self.weights is None and part.weights is not None:
            self.weights = np.ones(len(self.values))
        if self.weights is not None:
            self.weights[start:stop] = 1.0 if part.weights is None else part.weights[: part.n]
        self.n = stop

    def _reserve(self, size: int) -> None:
        if self.values is None:
            self.values = np.empty(max(size, self.capacity or 1024))
        if size <= len(self.values):
            return
        grown = max(size, 2 * len(self.values))
        self.values = np.concatenate([self.values[: self.n], np.empty(grown - self.n)])
        if self.weights is not None:
            self.weights = np.concatenate([self.weights[: self.n], np.ones(grown - self.n)])

    def result(self, as_of) -> QuestionForecast:
        """The forecast of the worlds added so far.

        The first call of a numeric or date question computes it in the value buffer (sorting it
        in place) and frees the buffer; later calls return the same numbers, and adding more
        worlds after it is an error.
        """
        if self.done is not None:
            return dataclasses.replace(self.done, as_of=as_of)
        self.done = self._result(as_of)
        return dataclasses.replace(self.done)

    def effective_size(self) -> float:
        """ESS (sum w)^2 / sum w^2 of the worlds added, copies of a world counted once; for a
        binary question of resampled worlds at most p (1 - p) / mcse^2, the size the spread of
        the islands' answers implies."""
        w2 = self.sum_w2 + self.copies_w2
        if not w2 > 0:
            return 0.0
        try:
            ess = self.sum_w**2 / w2
        except OverflowError:  # weights are densities: their scale is arbitrary
            ess = (self.sum_w / math.sqrt(w2)) ** 2
        if self.q.type == "binary" and self.islands:
            p = min(1.0, max(0.0, self.sum_wa / self.sum_w))
            se = self.mcse()
            if se > 0:
                ess = min(ess, p * (1.0 - p) / se**2)
        return ess

    def mcse(self) -> float:
        """Monte Carlo standard error of a binary forecast, a weighted share of worlds.

        The delta-method variance of a self-normalised importance-sampling estimate (Owen 2013,
        *Monte Carlo theory, methods and examples*, sec. 9.2), ``sum w_i^2 (a_i - p)^2 / (sum w_i)^2``
        with ``a_i`` the world's 0/1 answer; with every weight 1 it is exactly ``p (1 - p) / n``.
        Resampled worlds are not independent: they are summed by island first, ``sum_g (A_g - p
        B_g)^2`` with ``A_g`` the weight of island g's yes-worlds and ``B_g`` its weight (the
        islands are independent populations, so this is their spread), times G / (G - 1) for G
        groups.
        """
        if not self.sum_w > 0:
            return math.nan
        p = min(1.0, max(0.0, self.sum_wa / self.sum_w))
        ss = self.group_a2 - 2.0 * p * self.group_ab + p * p * self.group_b2
        if self.islands and self.groups > 1:
            ss *= self.groups / (self.groups - 1)
        return math.sqrt(max(ss, 0.0)) / self.sum_w

    def _result(self, as_of) -> QuestionForecast:
        q = self.q
        ess = self.effective_size()
        out = QuestionForecast(q.id, q.text, q.type, q.open, q.close, ess, as_of=as_of)
        if q.type == "binary":
            if self.sum_w <= 0:
                out.probability, out.stderr = math.nan, math.nan
            else:
                p = min(1.0, max(0.0, self.sum_wa / self.sum_w))
                out.probability, out.stderr = p, math.sqrt(p * (1 - p) / ess)
            return out
        if self.n == 0:
            nan = math.nan
            out.mean, out.stderr = nan, nan
            out.quantiles = {qq: nan for qq in QUANTILES}
            out.quantile_stderr = {qq: nan for qq in QUANTILES}
            out.probability_never = nan
            return out
        values, weights = self.values[: self.n], None if self.weights is None else self.weights[: self.n]
        self.values = self.weights = None
        if weights is None:
            _unit_weight_moments(out, values)
            qv = np.quantile(values, _quantile_levels(ess), method="inverted_cdf", overwrite_input=True)
        else:
            _weighted_moments(out, values, weights)
            uniform = bool(np.all(weights == weights[0]))
            qv = weighted_quantiles(values, None if uniform else weights, _quantile_levels(ess))
        out.quantiles, out.quantile_stderr = {}, {}
        for i, qq in enumerate(QUANTILES):
            mid, lo, hi = qv[3 * i : 3 * i + 3]
            out.quantiles[qq] = float(mid)
            finite_pair = np.isfinite(hi) and np.isfinite(lo)
            out.quantile_stderr[qq] = float((hi - lo) / 2) if finite_pair else math.nan
        return out


def _quantile_levels(ess: float) -> list:
    """Each quantile level with the levels of its order-statistic interval: q, q - h, q + h."""
    levels = []
    for qq in QUANTILES:
        half = math.sqrt(qq * (1 - qq) / max(ess, 1.0))
        levels += [qq, qq - half, qq + half]
    return levels


def _weighted_moments(out: QuestionForecast, values: np.ndarray, weights: np.ndarray) -> None:
    """Mean, its standard error and P(never) of weighted values (inf: never)."""
    finite = np.isfinite(values)
    if out.type == "date":
        out.probability_never = float(weights[~finite].sum() / weights.sum())
    fw = weights[finite]
    fv = values[finite]
    if len(fv):
        mean = float(np.average(fv, weights=fw))
        var = float(np.average((fv - mean) ** 2, weights=fw))
        f_ess = fw.sum() ** 2 / (fw * fw).sum()
        out.mean, out.stderr = mean, math.sqrt(var / f_ess)
    else:
        out.mean, out.stderr = (math.inf if out.type == "date" else math.nan), math.nan


def _unit_weight_moments(out: QuestionForecast, values: np.ndarray) -> None:
    """:func:`_weighted_moments` with every weight 1, the same numbers without a weights array.

    With weights of 1, ``np.average`` sums ``values * 1`` (the same array, summed the same way)
    and divides by a sum of ones (an exact count); so does this, holding one temporary at most.
    """
    finite = np.isfinite(values)
    n_finite = int(np.count_nonzero(finite))
    if out.type == "date":
        out.probability_never = float(np.float64(len(values) - n_finite) / np.float64(len(values)))
    if n_finite == 0:
        out.mean, out.stderr = (math.inf if out.type == "date" else math.nan), math.nan
        return
    count = np.float64(n_finite)
    fv = values if n_finite == len(values) else values[finite]
    del finite
    mean = float(fv.sum() / count)
    deviations = fv - mean if fv is values else np.subtract(fv, mean, out=fv)
    np.square(deviations, out=deviations)
    var = float(deviations.sum() / count)
    del deviations, fv
    out.mean, out.stderr = mean, math.sqrt(var / (count**2 / count))


def flow_months(model: Model, questions: list[Question]) -> dict:
    """Months to draw for each flow: the last month any question reads (directly or not).

    A flow a question reads without a month (e.g. in an expression) is drawn to the horizon.
    """
    reads: dict = {}
    for q in questions:
        bounded = q.months
        for name in q.refs:
            if model.kinds[name].is_flow:
                m = bounded.get(name, model.horizon_months)
                reads[name] = max(reads.get(name, 0), m)
    return months_needed(model, reads)


def run_forecast(
    model: Model,
    questions: list[Question],
    *,
    samples: int | None = None,
    seed: int | None = None,
    fixed: dict | None = None,
    weight_fn=None,
    chunk_size: int = CHUNK_SIZE,
) -> Forecast:
    """Simulate the worlds the questions need and answer every question.

    Parameters
    ----------
    model : Model
    questions : list of Question
    samples, seed : int, optional
        Default to the model's ``samples`` and ``seed``.
    fixed : dict, optional
        Observed node values (see :func:`scenarios.engine.simulate.simulate_chunks`).
    weight_fn : callable, optional
        ``weight_fn(worlds) -> ndarray (n,)`` likelihood weights of evidence per world.
    """
    samples = model.samples if samples is None else samples
    seed = model.seed if seed is None else seed
    needed = set().union(*(q.refs for q in questions)) if questions else set()
    months = flow_months(model, questions)
    check_memory(model, questions, samples, nodes=needed, months=months, chunk_size=chunk_size,
                 weighted=weight_fn is not None)
    accs = [Accumulator(q, samples) for q in questions]
    sum_w = sum_w2 = 0.0
    chunks = simulate_chunks(model, samples, seed, nodes=needed, fixed=fixed, months=months, chunk_size=chunk_size)
    for worlds in chunks:
        weights = worlds.weights if weight_fn is None else np.asarray(weight_fn(worlds), dtype=float)
        sum_w += float(weights.sum())
        sum_w2 += float((weights * weights).sum())
        for acc in accs:
            acc.add(worlds, weights)
        del worlds, weights  # before the next chunk is drawn: one chunk in memory at a time
    ess = sum_w**2 / sum_w2 if sum_w2 > 0 else 0.0
    return Forecast(
        model=model.name,
        params_files=[{"path": f, "sha256": model.doc.sha256.get(f)} for f in model.doc.files],
        samples=samples,
        seed=seed,
        as_of=model.as_of,
        questions=[acc.result(model.as_of) for acc in accs],
        overrides=list(model.doc.overrides),
        ess=ess,
    )
