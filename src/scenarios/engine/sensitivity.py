"""What moves a forecast: one-at-a-time swings (a tornado chart) and first-order Sobol indices.

**Parameters.**  An uncertain parameter of a question is a node that (1) holds one number per
world (kind ``number``), (2) draws random numbers of its own: a distribution family, a mixture,
or ``by`` cases at least one of which does (not a constant, a reference or an expression of
other nodes), and (3) is read by the question, directly or through other nodes (an ancestor of
its ``resolve:`` or ``given:`` refs).  Events, booleans, categories, vectors, flows, stocks and
statements are outcomes, not parameters; so is a distribution written inline inside another
node (``p: {beta: ...}``): give it a node of its own to see its effect.  Nodes held by
``fixed`` are not parameters, nor is a node the question reads only through them.

**One at a time.**  Each parameter's 5% and 95% values are quantiles of its draws in the
baseline worlds (``inverted_cdf``: a value the node really took, so a rounded or whole-number
node is held at a value it can take).  The question is then forecast with the parameter held
at each value in every world (``fixed``), with the same seed: every other node draws the same
random numbers (see :mod:`scenarios.engine.simulate`), so the swing between the two forecasts
is the parameter's effect, not sampling noise; its standard error is that of the paired
difference.  Nodes the parameter feeds are redrawn from it; a parameter that itself reads other
random nodes (``depends_on``) is held at its overall 5%/95% values, which also cuts its link to
them.  The forecast is a binary question's probability and a numeric question's mean (linear in
the worlds, so its swing is smooth under common random numbers, unlike a median); date questions
are refused (ask a binary question on the event, ``by: DATE``).

**Importance.**  The first-order Sobol index S = Var(E[Y | X]) / Var(Y) of parameter X for the
question's per-world answer Y (0/1, or the value), estimated from the baseline worlds alone
(restricted to those where ``given:`` holds, and to finite values) by cutting X into
equal-probability bins (:func:`first_order_index`).  The variance of the bin means overstates
Var(E[Y | X]) at finite n by (1/n) sum_b (1 - n_b/n) s_b^2 (s_b^2: Y's variance within bin b;
about (bins - 1)/n Var(Y) when X does not matter), which is subtracted; the result is clipped
to [0, 1].  Binning also loses the variation of E[Y | X] within each bin, a small downward bias
for a smooth effect.  For a parameter with ``depends_on``, S also counts what it carries from
the nodes it reads, so indices of dependent parameters overlap.

Everything is the prior model (no evidence, no as-of conditioning).  Memory: worlds are drawn
in chunks; the whole run keeps 8 bytes a world per parameter, 1 per binary question and 8 per
numeric question (for the importance), checked against the memory budget before it starts.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..errors import ResourceLimitError, ScenarioError, UsageError
from ..model.questions import Question
from ..model.scenario import BySpec, Model
from .conditional import is_random
from .forecast import flow_months
from .memory import BASE_BYTES, BUDGET_VARIABLE, estimate_peak_bytes, memory_budget
from .simulate import CHUNK_SIZE, simulate_chunks

__all__ = [
    "LEVELS",
    "DEFAULT_BINS",
    "SE_GROUPS",
    "Row",
    "Sensitivity",
    "parameters",
    "select_questions",
    "run_sensitivity",
    "first_order_index",
    "equal_probability_bins",
    "format_table",
    "format_csv",
]

LEVELS = (0.05, 0.95)
"""Quantiles of a parameter it is held at, one at a time: the ends of its 90% range."""
DEFAULT_BINS = 20
"""Equal-probability bins of a parameter for its first-order index (5% of the worlds each)."""
SE_GROUPS = 10
"""Interleaved groups of worlds whose indices' spread gives the index's standard error."""


@dataclass(frozen=True)
class Row:
    """One parameter's effect on one question's forecast.

    Attributes
    ----------
    parameter : str
        The node.
    low, high : float
        Its 5% and 95% values (in the node's own units).
    at_low, at_high : float
        The forecast (probability, or mean) with the node held at ``low`` / ``high`` in every world.
    swing : float
        ``|at_high - at_low|``, in the forecast's units.
    swing_se : float
        Monte Carlo standard error of ``at_high - at_low`` (paired worlds).
    importance : float
        First-order Sobol index in [0, 1] (NaN when the answer never varies).
    importance_se : float
        Its Monte Carlo standard error.
    depends_on : tuple of str
        Random nodes the parameter reads (empty for a parameter drawn on its own).
    """

    parameter: str
    low: float
    high: float
    at_low: float
    at_high: float
    swing: float
    swing_se: float
    importance: float
    importance_se: float
    depends_on: tuple = ()


@dataclass(frozen=True)
class Sensitivity:
    """What moves one question's forecast.

    Attributes
    ----------
    question, text, type : str
        The question's id, text and type (binary or numeric).
    statistic : str
        What the forecast is: ``probability`` or ``mean``.
    baseline, baseline_se : float
        The forecast with every parameter uncertain, and its standard error.
    rows : tuple of Row
        One per parameter, largest swing first.
    samples, seed, bins : int
        Worlds per forecast, the seed of every forecast, bins of the importance.
    model : str
        The model's name.
    """

    question: str
    text: str
    type: str
    statistic: str
    baseline: float
    baseline_se: float
    rows: tuple
    samples: int
    seed: int
    bins: int
    model: str = ""


# ------------------------------------------------------------------------------ parameters


def _draws_own_numbers(spec) -> bool:
    """Whether a node's value has randomness of its own (not only its parents')."""
    if isinstance(spec, BySpec):
        cases = list(spec.cases.values()) + ([spec.default] if spec.default is not None else [])
        return any(_draws_own_numbers(c) for c in cases)
    return is_random(spec)


def _is_parameter(model: Model, name: str) -> bool:
    return model.kinds[name].type == "number" and _draws_own_numbers(model.nodes[name].spec)


def parameters(model: Model, question: Question, *, fixed: dict | None = None) -> list[str]:
    """The uncertain parameters of ``question`` (see the module's docstring), in model order.

    Parameters
    ----------
    model : Model
    question : Question
    fixed : dict, optional
        Nodes held at given values: not parameters, and nothing is read through them.
    """
    fixed = fixed or {}
    read = model.ancestors(question.refs, stop=fixed)
    return [n for n in model.nodes if n in read and n not in fixed and _is_parameter(model, n)]


def _depends_on(model: Model, name: str) -> tuple:
    """Random nodes that parameter ``name`` reads, transitively (not itself), in model order."""
    above = model.ancestors(model.nodes[name].spec.refs())
    return tuple(n for n in model.nodes if n in above and is_random(model.nodes[n].spec))


def select_questions(questions: list[Question], ids: Iterable[str] | None = None) -> list[Question]:
    """The questions to analyse: those named by ``ids`` (in that order), or every binary one.

    ``ids`` may be ``["all"]`` (every binary question).  Raises :class:`UsageError` for an
    unknown id (naming the closest ids) or a date question.
    """
    ids = None if ids is None else list(ids)
    if ids is not None and "all" in ids and len(ids) > 1:
        raise UsageError(f"'all' means every binary question; give it alone, not with {[i for i in ids if i != 'all']}")
    if ids is None or ids == ["all"]:
        chosen = [q for q in questions if q.type == "binary"]
        if not chosen:
            raise UsageError(f"the model has no binary question ({len(questions)} questions); name one: "
                             "sensitivity PARAMS QUESTION")
        return chosen
    by_id = {q.id: q for q in questions}
    chosen = []
    for qid in ids:
        if qid not in by_id:
            close = difflib.get_close_matches(qid, list(by_id), n=3, cutoff=0.6)
            hint = f"; close matches: {', '.join(close)}" if close else ""
            raise UsageError(f"unknown question {qid!r}{hint} (the model has {len(by_id)} questions; "
                             "'all' means every binary one)")
        q = by_id[qid]
        if q.type == "date":
            raise UsageError(f"question {qid!r} is a date question; sensitivity needs a binary or numeric one "
                             f"(e.g. a binary question on its event with by: DATE)")
        chosen.append(q)
    return chosen


# ------------------------------------------------------------------------------ importance


def equal_probability_bins(x: np.ndarray, bins: int) -> np.ndarray:
    """Bin number of each value of ``x`` for ``bins`` bins holding about as many values each.

    Parameters
    ----------
    x : ndarray, shape (n,)
    bins : int
        At least 1.  Tied values share a bin, so a variable with few distinct values gets
        fewer, unequal bins.

    Returns
    -------
    ndarray of int, shape (n,)
        Bin numbers from 0 (values up to the 1/bins quantile, then up to 2/bins, ...).

    >>> equal_probability_bins(np.array([4.0, 1.0, 3.0, 2.0]), 2).tolist()
    [1, 0, 1, 0]
    """
    edges = np.unique(np.quantile(x, np.arange(1, bins) / bins, method="inverted_cdf"))
    return np.searchsorted(edges, x, side="left")


def _binned_index(b: np.ndarray, y: np.ndarray) -> float:
    """Bias-corrected Var(bin means of y) / Var(y), unclipped; NaN if y does not vary."""
    n = len(y)
    if n < 2:
        return math.nan
    counts = np.bincount(b).astype(float)
    sums = np.bincount(b, weights=y, minlength=len(counts))
    full = counts > 0
    means = np.zeros_like(sums)
    means[full] = sums[full] / counts[full]
    mean = y.mean()
    residual = y - means[b]
    within = np.bincount(b, weights=residual * residual, minlength=len(counts))
    total = float(np.dot(y - mean, y - mean)) / (n - 1)
    if not total > 0:
        return math.nan
    between = float(np.dot(counts, (means - mean) ** 2)) / n
    several = counts > 1
    s2 = within[several] / (counts[several] - 1)  # unbiased within-bin variances
    bias = float(np.dot(1.0 - counts[several] / n, s2)) / n
    return (between - bias) / total


def first_order_index(x: np.ndarray, y: np.ndarray, *, bins: int = DEFAULT_BINS) -> tuple[float, float]:
    """First-order Sobol index of ``x`` for ``y`` and its standard error, from paired draws.

    S = Var(E[y | x]) / Var(y), with E[y | x] estimated by the means of y in ``bins``
    equal-probability bins of x.  The variance of the bin means is corrected for their sampling
    noise, (1/n) sum_b (1 - n_b/n) s_b^2, so S is about 0 for an x that does not matter, and
    clipped to [0, 1].  The standard error is the spread of the (unclipped) index over
    :data:`SE_GROUPS` interleaved groups of the pairs, divided by sqrt(groups) (conservative for
    an index near 0, whose error shrinks as 1/n rather than 1/sqrt(n)).

    Parameters
    ----------
    x : ndarray, shape (n,)
        The parameter in each world.
    y : ndarray, shape (n,)
        The answer in each world (0/1 or a value); pairs with a non-finite y are left out.
    bins : int

    Returns
    -------
    (float, float)
        The index and its standard error; NaN when y does not vary (or fewer than two pairs).

    References
    ----------
    Saltelli et al. (2008), *Global Sensitivity Analysis: The Primer*, ch. 1 and 4 (first-order
    effects from the scatter plot of y against x, binned).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"first_order_index: x and y must have the same shape (n,), got {x.shape} and {y.shape}")
    if bins < 1:
        raise ValueError(f"first_order_index: bins must be at least 1, got {bins}")
    keep = np.isfinite(y) & ~np.isnan(x)
    if not keep.all():
        x, y = x[keep], y[keep]
    if len(y) < 2:
        return math.nan, math.nan
    b = equal_probability_bins(x, bins)
    index = _binned_index(b, y)
    parts = [_binned_index(b[g::SE_GROUPS], y[g::SE_GROUPS]) for g in range(SE_GROUPS)]
    parts = [p for p in parts if math.isfinite(p)]
    se = float(np.std(parts, ddof=1) / math.sqrt(len(parts))) if len(parts) > 1 else math.nan
    return (min(1.0, max(0.0, index)) if math.isfinite(index) else math.nan), se


# ------------------------------------------------------------------------------ forecasts


def _answer(question: Question, worlds) -> tuple[np.ndarray, np.ndarray]:
    """Per world: the answer counted (0 where not counted) and whether it is counted (0/1).

    A world counts when ``given:`` holds there and (numeric) its value is finite.
    """
    n = worlds.n
    counted = np.ones(n, dtype=bool)
    if question.given is not None:
        counted = np.asarray(np.broadcast_to(question.given.evaluate(worlds), (n,)), dtype=bool).copy()
    a = np.asarray(np.broadcast_to(question.resolve.evaluate(worlds), (n,)), dtype=float)
    if question.type != "binary":
        counted &= np.isfinite(a)
    return np.where(counted, a, 0.0), counted.astype(float)


class _Sums:
    """Sums of z and of z z^T over worlds, for ratio estimates and their delta-method errors.

    z holds (answer counted, counted) of one or more runs over the same worlds, so
    forecast_k = sum(z[2k]) / sum(z[2k+1]) and differences between runs are paired.  With
    ``shift``, answers are kept less the first chunk's mean answer, so the sums of squares do not
    lose the spread of large values (a numeric mean of millions) to rounding; without it (0/1
    answers) the sums are exact counts and a probability is the forecast's, bit for bit.
    """

    def __init__(self, k: int, *, shift: bool = False):
        self.s = np.zeros(k)
        self.m = np.zeros((k, k))
        self.shift = None if shift else np.zeros(k // 2)
        self.n = 0

    def add(self, z: np.ndarray) -> None:
        z = np.array(z, dtype=float)
        answers, counted = z[0::2], z[1::2]
        if self.shift is None:
            total = counted.sum(axis=1)
            self.shift = np.where(total > 0, answers.sum(axis=1) / np.maximum(total, 1.0), 0.0)
        if self.shift.any():
            answers -= self.shift[:, None] * counted
        self.s += z.sum(axis=1)
        self.m += z @ z.T
        self.n += z.shape[1]

    def forecast(self, k: int) -> float:
        if not self.s[2 * k + 1] > 0:
            return math.nan
        ratio = self.s[2 * k] / self.s[2 * k + 1]
        return float(ratio + self.shift[k]) if self.shift[k] else float(ratio)

    def _coef(self, k: int) -> np.ndarray:
        c = np.zeros(len(self.s))
        counted = self.s[2 * k + 1] / self.n
        c[2 * k], c[2 * k + 1] = 1.0 / counted, -(self.s[2 * k] / self.s[2 * k + 1]) / counted
        return c

    def stderr(self, k: int, minus: int | None = None) -> float:
        """Standard error of forecast k (minus forecast ``minus``): sqrt(c^T M c) / n, c the
        coefficients of the linearised ratio(s)."""
        if self.s[2 * k + 1] <= 0 or (minus is not None and self.s[2 * minus + 1] <= 0):
            return math.nan
        c = self._coef(k) - (self._coef(minus) if minus is not None else 0.0)
        return math.sqrt(max(float(c @ self.m @ c), 0.0)) / self.n


def _check_memory(model: Model, questions: list, samples: int, params: list, *, nodes, months, chunk_size: int) -> None:
    """Refuse a run whose chunks (two at once: a parameter at each end) and kept per-world values
    (8 bytes a parameter, 1 a binary and 8 a numeric question, 24 of temporaries) pass the
    memory budget (:func:`scenarios.engine.memory.memory_budget`)."""
    budget = memory_budget()
    if budget is None:
        return
    one_chunk = estimate_peak_bytes(model, [], min(samples, chunk_size), nodes=nodes, months=months,
                                    chunk_size=chunk_size)  # the interpreter and one chunk
    fixed_part = one_chunk + (one_chunk - BASE_BYTES)
    kept = 8 * len(params) + sum(1 if q.type == "binary" else 8 for q in questions) + 24  # + binning temporaries
    peak = fixed_part + samples * kept
    if peak > budget:
        fits = max(0, (budget - fixed_part) // kept)
        raise ResourceLimitError(
            f"sensitivity of {len(questions)} question(s) over {samples:,} worlds would need about "
            f"{peak / 2**20:,.0f} MiB of memory, more than the budget of {budget / 2**20:,.0f} MiB; at most "
            f"{fits:,} worlds fit (use --samples, or set the budget with ${BUDGET_VARIABLE}, in bytes)"
        )


def _quantiles(x: np.ndarray) -> tuple[float, float]:
    lo, hi = np.quantile(x, LEVELS, method="inverted_cdf")
    return float(lo), float(hi)


def _held_runs(model: Model, questions: list, name: str, values: tuple, *, samples: int, seed: int,
               fixed: dict, chunk_size: int) -> list[_Sums]:
    """Each question's sums over worlds drawn with node ``name`` held at each of ``values``, in lockstep."""
    needed = set().union(*(q.refs for q in questions))
    months = flow_months(model, questions)
    runs = [simulate_chunks(model, samples, seed, nodes=needed, fixed={**fixed, name: v}, months=months,
                            chunk_size=chunk_size) for v in values]
    sums = [_Sums(2 * len(values), shift=q.type != "binary") for q in questions]
    try:
        for chunks in zip(*runs):
            for q, acc in zip(questions, sums):
                acc.add(np.vstack([part for w in chunks for part in _answer(q, w)]))
            del chunks
    except ScenarioError as exc:
        shown = ", ".join(_number(v) for v in values)
        raise ScenarioError(f"sensitivity: with {name} held at {shown} (its {LEVELS[0]:.0%}/{LEVELS[1]:.0%} "
                            f"values): {exc}") from None
    return sums


def run_sensitivity(model: Model, questions: list[Question], *, samples: int | None = None, seed: int | None = None,
                    bins: int = DEFAULT_BINS, fixed: dict | None = None,
                    chunk_size: int = CHUNK_SIZE) -> list[Sensitivity]:
    """What moves each question's forecast: one-at-a-time swings and first-order indices.

    One baseline run gives every question's forecast, every parameter's 5%/95% values and the
    importances; then, for each parameter, the questions that read it are forecast with it held
    at each end (the two runs drawn in lockstep, chunk by chunk), all with the same seed.  So
    1 + 2 x (parameters) runs, each drawing only the nodes its questions read.

    Parameters
    ----------
    model : Model
    questions : list of Question
        Binary or numeric (see :func:`select_questions`).
    samples, seed : int, optional
        Worlds per run and the seed of every run; default the model's.
    bins : int
        Equal-probability bins of the importance (:func:`first_order_index`).
    fixed : dict, optional
        Node name -> value held in every run, as in :func:`scenarios.engine.forecast.run_forecast`
        (such nodes are not parameters).
    chunk_size : int
        Worlds drawn at once.

    Returns
    -------
    list of Sensitivity
        In the order of ``questions``.
    """
    samples = model.samples if samples is None else int(samples)
    seed = model.seed if seed is None else int(seed)
    fixed = dict(fixed or {})
    if samples < 1:
        raise UsageError(f"sensitivity: expected at least 1 world, got {samples}")
    if bins < 1:
        raise UsageError(f"sensitivity: expected at least 1 bin, got {bins}")
    for q in questions:
        if q.type not in ("binary", "numeric"):
            raise UsageError(f"question {q.id!r} is a {q.type} question; sensitivity needs a binary or numeric one")
    if not questions:
        return []
    params_of = {q.id: parameters(model, q, fixed=fixed) for q in questions}
    params = [n for n in model.nodes if any(n in p for p in params_of.values())]
    needed = set().union(*(q.refs for q in questions))
    months = flow_months(model, questions)
    _check_memory(model, questions, samples, params, nodes=needed, months=months, chunk_size=chunk_size)

    # baseline: forecasts, and per world the parameters and answers the importances need
    xs = {n: np.empty(samples) for n in params}
    ys = {q.id: np.empty(samples, dtype=np.int8 if q.type == "binary" else float) for q in questions}
    base = {q.id: _Sums(2, shift=q.type != "binary") for q in questions}
    start = 0
    for worlds in simulate_chunks(model, samples, seed, nodes=needed, fixed=fixed, months=months, chunk_size=chunk_size):
        stop = start + worlds.n
        for n in params:
            xs[n][start:stop] = worlds[n]
        for q in questions:
            answer, counted = _answer(q, worlds)
            base[q.id].add(np.vstack([answer, counted]))
            not_counted = -1 if q.type == "binary" else math.nan
            ys[q.id][start:stop] = np.where(counted > 0, answer, not_counted)
        start = stop
        del worlds
    ends = {n: _quantiles(xs[n]) for n in params}

    # one at a time: each parameter held at each end, for the questions that read it
    held: dict = {}
    for n in params:
        readers = [q for q in questions if n in params_of[q.id]]
        lo, hi = ends[n]
        values = (lo,) if lo == hi else (lo, hi)
        sums = _held_runs(model, readers, n, values, samples=samples, seed=seed, fixed=fixed, chunk_size=chunk_size)
        for q, acc in zip(readers, sums):
            held[(q.id, n)] = acc

    out = []
    for q in questions:
        y = ys[q.id].astype(float)
        if q.type == "binary":
            y[y < 0] = math.nan
        rows = []
        for n in params_of[q.id]:
            acc = held[(q.id, n)]
            lo, hi = ends[n]
            at_low = acc.forecast(0)
            at_high = acc.forecast(1) if lo != hi else at_low
            swing_se = acc.stderr(1, minus=0) if lo != hi else 0.0
            importance, importance_se = first_order_index(xs[n], y, bins=bins)
            rows.append(Row(n, lo, hi, at_low, at_high, abs(at_high - at_low), swing_se, importance,
                            importance_se, _depends_on(model, n)))
        rows.sort(key=lambda r: -r.swing if math.isfinite(r.swing) else math.inf)  # stable: model order on ties
        out.append(Sensitivity(
            question=q.id, text=q.text, type=q.type, statistic="probability" if q.type == "binary" else "mean",
            baseline=base[q.id].forecast(0), baseline_se=base[q.id].stderr(0), rows=tuple(rows),
            samples=samples, seed=seed, bins=bins, model=model.name,
        ))
    return out


# ------------------------------------------------------------------------------ text


def _number(x, *, digits: int = 3) -> str:
    """A number for a table: thousands separators, ``digits`` significant digits below 1,000,
    fixed point however small or large, ``–`` for None or NaN.

    >>> _number(12940.4), _number(0.0123456), _number(None), _number(2.50), _number(-0.0000123)
    ('12,940', '0.0123', '–', '2.5', '-0.0000123')
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if x == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    text = f"{x:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "0") else text


def _decimals(se: float) -> int:
    """Decimals of the probabilities of one table: 3, or enough to show their standard error's
    first digit when it is smaller (a rare event's 0.0040 ± 0.0004, not 0.004 ± 0.000); at most 6.

    >>> _decimals(0.003), _decimals(0.0004), _decimals(float("nan"))
    (3, 4, 3)
    """
    if not (math.isfinite(se) and se > 0):
        return 3
    return min(6, max(3, -math.floor(math.log10(se))))


def _value(x, statistic: str, decimals: int = 3) -> str:
    """A forecast: a probability with fixed decimals (a column lines up), a mean as a number."""
    if statistic == "probability":
        return "–" if x is None or not math.isfinite(x) else f"{x:.{decimals}f}"
    return _number(x)


def _plus_minus(x, se, statistic: str, decimals: int = 3) -> str:
    text = _value(x, statistic, decimals)
    if se is None or not math.isfinite(se) or text == "–":
        return text
    return f"{text} ± {_value(se, statistic, decimals)}"


def _table(result: Sensitivity) -> list[str]:
    s, d = result.statistic, _decimals(result.baseline_se)
    lines = [
        f"{result.question}: {result.text}" if result.text != result.question else result.question,
        f"{s} {_plus_minus(result.baseline, result.baseline_se, s, d)} with every parameter uncertain; "
        f"with one held at its {LEVELS[0]:.0%} or {LEVELS[1]:.0%} value:",
    ]
    if not result.rows:
        return lines + ["(no uncertain parameter: the question reads no number node drawn from a distribution; "
                        "a distribution written inside another node counts once it is a node of its own)"]
    head = ("parameter", f"{LEVELS[0]:.0%} value", f"{LEVELS[1]:.0%} value", f"at {LEVELS[0]:.0%}",
            f"at {LEVELS[1]:.0%}", "swing", "importance")
    body = [
        (r.parameter + ("*" if r.depends_on else ""), _number(r.low), _number(r.high), _value(r.at_low, s, d),
         _value(r.at_high, s, d), _plus_minus(r.swing, r.swing_se, s, d),
         _plus_minus(r.importance, r.importance_se, "probability"))
        for r in result.rows
    ]
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]

    def line(cells) -> str:
        first = f"{cells[0]:<{widths[0]}}"
        return "  ".join([first] + [f"{c:>{w}}" for c, w in zip(cells[1:], widths[1:])]).rstrip()

    lines += [line(head), "  ".join("-" * w for w in widths)] + [line(row) for row in body]
    marked = [r for r in result.rows if r.depends_on]
    for r in marked:
        lines.append(f"* {r.parameter} reads {', '.join(r.depends_on)}: held at its overall values, which cuts that link")
    return lines


def format_table(results: list[Sensitivity]) -> str:
    """The results as aligned text tables, one per question, with a header and a key.

    Numbers are written in full (``12,940``, ``0.0123``), never in scientific notation; a
    missing value (a ``given:`` that never holds, an answer that never varies) is ``–``.
    """
    if not results:
        return "no questions\n"
    first = results[0]
    lines = [f"model {first.model}  worlds {first.samples:,}  seed {first.seed}  (prior: no evidence)", ""]
    for result in results:
        lines += _table(result) + [""]
    lines += [
        f"swing: |forecast with the parameter at its {LEVELS[1]:.0%} value - at its {LEVELS[0]:.0%} value|, every "
        "other node drawing the same random numbers (± standard error of the paired difference)",
        f"importance: first-order Sobol index Var(E[answer | parameter]) / Var(answer), from {first.bins} "
        "equal-probability bins of one baseline run, bias-corrected (± standard error)",
    ]
    return "\n".join(lines) + "\n"


CSV_COLUMNS = (
    "model", "question", "type", "statistic", "baseline", "baseline_se", "parameter", "low", "high", "at_low",
    "at_high", "swing", "swing_se", "importance", "importance_se", "depends_on", "samples", "seed", "bins",
)


def _csv_number(x) -> str:
    """Full precision in fixed point (no exponent); empty for NaN."""
    if x is None or not math.isfinite(x):
        return "" if x is None or math.isnan(x) else ("inf" if x > 0 else "-inf")
    return np.format_float_positional(float(x), trim="-")


def format_csv(results: list[Sensitivity]) -> str:
    """The results as CSV, one line per question and parameter (columns :data:`CSV_COLUMNS`);
    a question without parameters has one line with the parameter columns empty."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in results:
        head = [r.model, r.question, r.type, r.statistic, _csv_number(r.baseline), _csv_number(r.baseline_se)]
        tail = [r.samples, r.seed, r.bins]
        if not r.rows:
            writer.writerow(head + [""] * 10 + tail)
        for row in r.rows:
            writer.writerow(head + [row.parameter] + [_csv_number(v) for v in (
                row.low, row.high, row.at_low, row.at_high, row.swing, row.swing_se, row.importance, row.importance_se,
            )] + [" ".join(row.depends_on)] + tail)
    return buf.getvalue()
