"""Evidence: dated facts and reports, and forecasts conditioned on what was public as of a date.

An evidence file is a list of items.  Each item says when it became public (``public_on``),
where it comes from (``source``) and what it says about model variables:

``observe: {node: value}``
    A hard fact.  The node is *clamped* to the value (everything downstream is drawn again given
    it) and each world is *weighted* by the probability of the value given the node's parents as
    drawn in that world.  Event nodes take a date, categorical nodes a category, boolean nodes
    true/false, discrete number nodes a number.
``observe: {event: {never_by: DATE}}`` / ``{by: DATE}``
    A constraint: the event had not happened by DATE / had happened by DATE.  The event is drawn
    from its distribution *given* the constraint (inverse CDF on the allowed days) and the world
    is weighted by the probability of the constraint given the event's parents.  ``{at_least: x}``,
    ``{at_most: x}``, ``{between: [lo, hi]}`` on a number node weight by an indicator.
``report: {quantity, on, said, likelihood}``
    A noisy statement about a number: a flow's running total on a date, a flow's month, or a number
    node.  The world's weight is multiplied by the likelihood of what was said given the world's
    true value under the stated noise model (closed forms, :class:`Noise`).  The reported node is
    drawn ``REPORT_CANDIDATES`` times and one draw is kept with probability proportional to its
    likelihood; the world's weight is the mean likelihood of the candidates (a proper importance
    weight on the extended space of candidates; with one candidate it is plain weighting).
``watch: [event, ...]`` or ``{event: lag_days}``
    Events that would be public within ``lag_days`` of happening.  As of any date D on or after the
    item's ``public_on``, a watched event that no item public by D observes is constrained as
    ``never_by: D - lag``.

Observing an event also says that the event it comes ``after:`` had happened by then (a ``by:``
constraint on that event, and so on up the chain), and, when its ``when:`` names a boolean node,
that the node is true (clamped).  These add no information, only better draws.

Forecasting as of D uses exactly the items with ``public_on <= D``: a world's weight is the product
of the factors above, forecasts are weighted shares of worlds, and the effective sample size
(sum w)^2 / sum w^2 says how many equally weighted worlds they are worth.  Each factor is exact:
categorical probabilities (constants, per-world expressions, dirichlet weights, ``by`` cases),
bernoulli ``p``, event days through the delay's CDF (every numeric family with truncate, round,
shift and clip) or the constant hazard of ``chance_per_month``, and 0/1 for expressions.  A
parameter drawn inline (an anonymous distribution inside a node) is drawn from a stream of its
own, which gives an unbiased estimate of the factor (still a correct importance weight).
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import re
from dataclasses import dataclass, field

import numpy as np

from .errors import ParamsError, ScenarioError
from .params import describe, load_yaml_file
from .scenario import (
    BySpec,
    CategoricalSpec,
    ConstSpec,
    Context,
    EventSpec,
    ExprSpec,
    FamilySpec,
    FlowSpec,
    MixtureSpec,
    Model,
    RefSpec,
    did_you_mean,
    parse_date,
)
from .simulate import CHUNK_SIZE, months_needed, node_rng
from .worlds import Worlds, cumulative_at_day

__all__ = [
    "EvidenceError",
    "Observation",
    "Noise",
    "Report",
    "Item",
    "Evidence",
    "Conditioning",
    "Plan",
    "load_evidence",
    "parse_evidence",
    "forecast_as_of",
    "run_plans",
    "node_likelihood",
    "check_as_of",
    "is_open",
    "REPORT_CANDIDATES",
]

ITEM_KEYS = ("id", "public_on", "source", "note", "observe", "report", "watch")
REPORT_KEYS = ("quantity", "on", "said", "likelihood", "estimator")
SAID_KEYS = ("value", "low", "high", "at_least", "at_most")
CONSTRAINTS = {"event": ("never_by", "by"), "number": ("at_least", "at_most", "between")}
NOISE_FAMILIES = ("lognormal", "detected_share", "normal")
REPORT_CANDIDATES = 20
"""Draws of a reported node per world, one kept in proportion to the report likelihood."""
_URL = re.compile(r"^https?://\S+$")


class EvidenceError(ScenarioError):
    """Evidence that the model gives probability zero in every simulated world."""


# =========================================================================== distributions given parents
#
# _freeze(spec, ctx, rng, n) evaluates a node's spec in each world of ``ctx`` (its parameters drawn
# once) and returns an object with cdf(t, left) = P(X <= t) (or P(X < t)) and ppf(q), the
# left-continuous inverse, both per world.


class _NoQuantile(ScenarioError):
    """The spec has no closed-form inverse CDF (a mixture); callers fall back to an indicator."""


def _broadcast(x, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(x, dtype=float), (n,))


def _step(values, t, left: bool) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return np.asarray(v < t if left else v <= t, dtype=float)


def _base_cdf(family: str, params: tuple, t: np.ndarray, left: bool) -> np.ndarray:
    from scipy import special

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if family == "constant":
            return _step(params[0], t, left)
        if family == "bernoulli":
            q = 1.0 - params[0]
            if left:
                return np.where(t <= 0, 0.0, np.where(t <= 1, q, 1.0))
            return np.where(t < 0, 0.0, np.where(t < 1, q, 1.0))
        if family == "uniform":
            lo, hi = params
            return np.clip((t - lo) / (hi - lo), 0.0, 1.0)
        if family == "normal":
            m, s = params
            return np.where(s > 0, special.ndtr((t - m) / s), _step(m, t, left))
        if family == "lognormal":
            mu, s = params
            logt = np.log(np.where(t > 0, t, 1.0))
            cont = np.where(t > 0, special.ndtr((logt - mu) / s), 0.0)
            return np.where(s > 0, cont, _step(np.exp(mu), t, left))
        if family == "gamma":
            k, th = params
            return np.where(t > 0, special.gammainc(k, np.where(t > 0, t, 0.0) / th), 0.0)
        if family == "beta":
            a, b = params
            return special.betainc(a, b, np.clip(t, 0.0, 1.0))
        if family in ("poisson", "geometric"):
            k = np.ceil(t) - 1 if left else np.floor(t)
            finite = np.isfinite(k)
            if family == "poisson":
                out = special.gammaincc(np.where(finite & (k >= 0), k, 0.0) + 1.0, params[0])
                return np.where(k < 0, 0.0, np.where(finite, out, 1.0))
            out = 1.0 - (1.0 - params[0]) ** np.where(finite & (k >= 1), k, 1.0)
            return np.where(k < 1, 0.0, np.where(finite, out, 1.0))
    raise ScenarioError(f"no CDF for family {family!r}")  # pragma: no cover


def _base_ppf(family: str, params: tuple, q: np.ndarray) -> np.ndarray:
    from scipy import special

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if family == "constant":
            return np.broadcast_to(params[0], q.shape).astype(float)
        if family == "bernoulli":
            return (q > 1.0 - params[0]).astype(float)
        if family == "uniform":
            return params[0] + q * (params[1] - params[0])
        if family == "normal":
            return params[0] + params[1] * special.ndtri(q)
        if family == "lognormal":
            return np.exp(params[0] + params[1] * special.ndtri(q))
        if family == "gamma":
            return params[1] * special.gammaincinv(params[0], q)
        if family == "beta":
            return special.betaincinv(params[0], params[1], q)
        if family in ("poisson", "geometric"):
            from scipy import stats  # slow to import: only for these rare delays

            dist = stats.poisson(params[0]) if family == "poisson" else stats.geom(params[0])
            return dist.ppf(q)
    raise ScenarioError(f"no inverse CDF for family {family!r}")  # pragma: no cover


class _Frozen:
    """A node's distribution in each of n worlds (parameters fixed)."""

    def cdf(self, t, left: bool = False) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def ppf(self, q: np.ndarray) -> np.ndarray:
        raise _NoQuantile("no inverse CDF")


class _Det(_Frozen):
    def __init__(self, values, n):
        self.values = _broadcast(values, n)

    def cdf(self, t, left=False):
        return _step(self.values, t, left)

    def ppf(self, q):
        return self.values.copy()


class _Family(_Frozen):
    """A numeric family after its options, applied when drawing as truncate, round, shift, clip."""

    def __init__(self, spec: FamilySpec, params: tuple, n: int):
        self.spec = spec
        self.params = tuple(_broadcast(p, n) for p in params)
        self.n = n

    def _truncated_cdf(self, u, left):
        spec, fam = self.spec, self.spec.family
        if spec.truncate is None:
            return _base_cdf(fam, self.params, u, left)
        lo, hi = spec.truncate
        f_lo = _base_cdf(fam, self.params, np.full(self.n, lo), True) if math.isfinite(lo) else 0.0
        f_hi = _base_cdf(fam, self.params, np.full(self.n, hi), False) if math.isfinite(hi) else 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = np.clip((_base_cdf(fam, self.params, np.minimum(u, hi), False) - f_lo) / (f_hi - f_lo), 0.0, 1.0)
        return np.where(u < lo, 0.0, np.where(u >= hi, 1.0, inner))

    def cdf(self, t, left=False):
        spec = self.spec
        t = _broadcast(t, self.n)
        u = t - spec.shift if spec.shift is not None else t
        # ceil(W) <= t <=> W <= floor(t); floor(W) <= t <=> W < floor(t) + 1;
        # round(W) <= t <=> W < floor(t) + 1/2 (ties have probability 0, or W is a whole number)
        if spec.round is None:
            inner = self._truncated_cdf(u, left)
        elif spec.round == "ceil":
            inner = self._truncated_cdf(np.ceil(u) - 1 if left else np.floor(u), False)
        elif spec.round == "floor":
            inner = self._truncated_cdf(np.ceil(u) if left else np.floor(u) + 1, True)
        else:
            inner = self._truncated_cdf(np.ceil(u) - 0.5 if left else np.floor(u) + 0.5, True)
        if spec.clip is None:
            return inner
        a, b = spec.clip
        if left:
            return np.where(t <= a, 0.0, np.where(t > b, 1.0, inner))
        return np.where(t < a, 0.0, np.where(t >= b, 1.0, inner))

    def ppf(self, q):
        # every option is a non-decreasing map, so it commutes with the quantile function
        spec, fam = self.spec, self.spec.family
        if spec.truncate is not None:
            lo, hi = spec.truncate
            f_lo = _base_cdf(fam, self.params, np.full(self.n, lo), True) if math.isfinite(lo) else 0.0
            f_hi = _base_cdf(fam, self.params, np.full(self.n, hi), False) if math.isfinite(hi) else 1.0
            x = np.clip(_base_ppf(fam, self.params, f_lo + q * (f_hi - f_lo)), lo, hi)
        else:
            x = _base_ppf(fam, self.params, q)
        if spec.round is not None:
            x = {"floor": np.floor, "ceil": np.ceil, "nearest": np.round}[spec.round](x)
        if spec.shift is not None:
            x = x + spec.shift
        if spec.clip is not None:
            x = np.clip(x, spec.clip[0], spec.clip[1])
        return x


class _Mixture(_Frozen):
    def __init__(self, weights, parts):
        self.weights, self.parts = weights, parts

    def cdf(self, t, left=False):
        return sum(w * p.cdf(t, left) for w, p in zip(self.weights, self.parts, strict=True))


class _Cases(_Frozen):
    """A ``by`` node: each world follows its own case."""

    def __init__(self, parts, n):
        self.parts, self.n = parts, n  # [(idx, frozen)]

    def _apply(self, fn, x):
        x = _broadcast(x, self.n)
        out = np.zeros(self.n)
        for idx, part in self.parts:
            out[idx] = fn(part, x[idx])
        return out

    def cdf(self, t, left=False):
        return self._apply(lambda p, tt: p.cdf(tt, left), t)

    def ppf(self, q):
        return self._apply(lambda p, qq: p.ppf(qq), q)


class _Hazard(_Frozen):
    """A delay with a constant daily hazard (``chance_per_month``): exponential."""

    def __init__(self, p, month_days, n):
        p = _broadcast(p, n)
        with np.errstate(divide="ignore"):
            self.rate = -np.log1p(-p) / month_days
        self.sure = np.isinf(self.rate)  # p = 1: the event happens at its start

    def cdf(self, t, left=False):
        t = np.asarray(t, dtype=float)
        with np.errstate(invalid="ignore", over="ignore"):
            out = -np.expm1(-self.rate * np.maximum(t, 0.0))
        out = np.where(t < 0, 0.0, out)
        if self.sure.any():
            out = np.where(self.sure, ((t > 0) if left else (t >= 0)).astype(float), out)
        return out

    def ppf(self, q):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = -np.log1p(-q) / self.rate
        return np.where(self.sure, 0.0, out) if self.sure.any() else out


class _Event(_Frozen):
    """An event's day: start + delay when ``when`` holds and it is within the horizon, else never."""

    def __init__(self, p_when, start, delay: _Frozen, horizon: float):
        self.started = np.isfinite(start)
        self.p_when = np.where(self.started, p_when, 0.0)  # after an event that never happens: never
        self.s0 = np.where(self.started, start, 0.0)
        self.delay, self.horizon = delay, horizon

    def cdf(self, t, left=False):
        t = _broadcast(t, len(self.s0))
        out = self.p_when * self.delay.cdf(np.minimum(t, self.horizon) - self.s0, left)
        return np.where(np.isposinf(t), 1.0, out)  # never (inf) counts as a value above every day

    def _split(self, lo: float, hi: float):
        """CDF of the delay at both ends, and the probability of a day in (lo, hi] and of never."""
        n = len(self.s0)
        top = min(hi, self.horizon)
        a = lo - self.s0
        b = top - self.s0
        f_a = self.delay.cdf(a) if lo > -math.inf else np.zeros(n)
        f_b = self.delay.cdf(b)
        finite = self.p_when * np.clip(f_b - f_a, 0.0, 1.0)
        if math.isinf(hi):
            f_h = f_b if top >= self.horizon else self.delay.cdf(self.horizon - self.s0)
            never = 1.0 - self.p_when * f_h
        else:
            never = np.zeros(n)
        return a, b, f_a, f_b, finite, never

    def prob_within(self, lo: float, hi: float) -> np.ndarray:
        """P(lo < X <= hi) per world (hi = inf includes never)."""
        *_, finite, never = self._split(lo, hi)
        return finite + never

    def sample_within(self, lo: float, hi: float, u: np.ndarray):
        """Draw X given lo < X <= hi (hi = inf allows never) from uniforms u; return (x, P)."""
        a, b, f_a, f_b, finite, never = self._split(lo, hi)
        total = finite + never
        pick = u * total
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.clip((pick - never) / np.where(finite > 0, finite, 1.0), 0.0, 1.0)
        delay = np.clip(self.delay.ppf(np.where(finite > 0, f_a + v * (f_b - f_a), 0.5)), a, b)
        x = np.where((pick < never) | (finite <= 0), np.inf, self.s0 + delay)
        return np.where(x > self.horizon, np.inf, x), total


def _freeze(spec, ctx: Context, rng, n: int) -> _Frozen:
    if isinstance(spec, ConstSpec):
        return _Det(float(spec.value), n)
    if isinstance(spec, RefSpec):
        return _Det(np.asarray(ctx.get(spec.name), dtype=float), n)
    if isinstance(spec, ExprSpec):
        return _Det(np.asarray(spec.sample(ctx, rng, n), dtype=float), n)
    if isinstance(spec, FamilySpec):
        return _Family(spec, tuple(p.sample(ctx, rng, n) for p in spec.params), n)
    if isinstance(spec, MixtureSpec):
        return _Mixture(spec.weights, [_freeze(c, ctx, rng, n) for c in spec.components])
    if isinstance(spec, BySpec):
        codes = np.asarray(ctx.get(spec.by)).astype(np.int64)
        parts = []
        for code, case, _ in spec._plan:
            idx = np.flatnonzero(codes == code)
            if len(idx):
                parts.append((idx, _freeze(case, ctx.sub(idx), rng, len(idx))))
        return _Cases(parts, n)
    if isinstance(spec, EventSpec):
        model = ctx.model
        p_when = np.ones(n) if spec.when is None else _prob_true(_freeze(spec.when, ctx, rng, n))
        if spec.after is None:
            start = np.zeros(n)
        elif isinstance(spec.after, str):
            start = np.array(_broadcast(ctx.get(spec.after), n))
        else:
            start = np.full(n, float(spec.after))
        if spec.delay is not None:
            delay = _freeze(spec.delay, ctx, rng, n)
        else:
            delay = _Hazard(spec.chance_per_month.sample(ctx, rng, n), model.month_days, n)
        return _Event(p_when, start, delay, float(model.horizon_days))
    raise ScenarioError(f"cannot compute the distribution of a {type(spec).__name__}")


def _prob_true(frozen: _Frozen) -> np.ndarray:
    """P(X != 0) per world (a boolean, or a number used as one)."""
    return 1.0 - (frozen.cdf(0.0) - frozen.cdf(0.0, left=True))


def _category_prob(spec, ctx: Context, rng, n: int, code: int) -> np.ndarray:
    """P(X = category ``code``) per world for a categorical node's spec."""
    if isinstance(spec, RefSpec):
        return (np.asarray(ctx.get(spec.name)) == code).astype(float)
    if isinstance(spec, CategoricalSpec):
        if spec.weights is not None:
            return np.asarray(ctx.get(spec.weights), dtype=float)[:, code].copy()
        probs = np.column_stack([_broadcast(p.sample(ctx, rng, n), n) for p in spec.probs])
        with np.errstate(divide="ignore", invalid="ignore"):
            return probs[:, code] / probs.sum(axis=1)
    if isinstance(spec, BySpec):
        codes = np.asarray(ctx.get(spec.by)).astype(np.int64)
        out = np.zeros(n)
        for case_code, case, remap in spec._plan:
            idx = np.flatnonzero(codes == case_code)
            local = np.flatnonzero(np.asarray(remap) == code)
            if len(idx) and len(local):
                out[idx] = _category_prob(case, ctx.sub(idx), rng, len(idx), int(local[0]))
        return out
    raise ScenarioError(f"cannot compute category probabilities of a {type(spec).__name__}")


def node_likelihood(model: Model, name: str, value, ctx: Context, rng) -> np.ndarray:
    """P(node ``name`` = ``value`` | its parents) in each world of ``ctx``, shape (n,).

    Parameters
    ----------
    model : Model
    name : str
        An observable node (event, categorical, boolean or discrete number).
    value : float, int or bool
        As the engine stores it: an event's day number (the observation is ``day - 1 < X <=
        day``, i.e. that calendar day), a category code, a boolean or a number.
    ctx : scenarios.scenario.Context
        The worlds, with the node's parents drawn.
    rng : numpy.random.Generator
        Draws only parameters given inline (an unbiased estimate of the likelihood).

    Examples
    --------
    For ``b ~ categorical {x: 0.8, y: 0.2}`` when ``a`` else ``{x: 0.1, y: 0.9}``, observing
    ``b = x`` weights a world with ``a`` true by 0.8 and one with ``a`` false by 0.1, so
    P(a | b = x) = 0.3 * 0.8 / (0.3 * 0.8 + 0.7 * 0.1) when P(a) = 0.3 (tested).
    """
    spec = model.nodes[name].spec
    kind = model.kinds[name]
    n = ctx.n
    if kind.type == "category":
        return _category_prob(spec, ctx, rng, n, int(value))
    frozen = _freeze(spec, ctx, rng, n)
    if kind.type == "event":
        return frozen.cdf(float(value)) - frozen.cdf(float(value) - 1.0)
    if kind.type == "bool":
        p = _prob_true(frozen)
        return p if value else 1.0 - p
    return frozen.cdf(float(value)) - frozen.cdf(float(value), left=True)


def _is_discrete(spec) -> bool:
    """Whether a number node puts its probability on separate values (so P(X = x) > 0 can be)."""
    if isinstance(spec, (ConstSpec, RefSpec, ExprSpec)):
        return True
    if isinstance(spec, FamilySpec):
        return spec.family in ("constant", "bernoulli", "poisson", "geometric") or spec.round is not None
    if isinstance(spec, MixtureSpec):
        return all(_is_discrete(c) for c in spec.components)
    if isinstance(spec, BySpec):
        return all(_is_discrete(s) for _, s, _ in spec._plan)
    return False


def _has_quantile(spec) -> bool:
    """Whether an event node can be drawn given a constraint (closed-form inverse CDF)."""
    if isinstance(spec, EventSpec):
        return spec.delay is None or _has_quantile(spec.delay)
    if isinstance(spec, MixtureSpec):
        return False
    if isinstance(spec, BySpec):
        return all(_has_quantile(s) for _, s, _ in spec._plan)
    return isinstance(spec, (ConstSpec, RefSpec, ExprSpec, FamilySpec))


def _is_random(spec) -> bool:
    return not isinstance(spec, (ConstSpec, RefSpec, ExprSpec))


# =========================================================================== reports


@dataclass(frozen=True)
class Noise:
    """How a reported number relates to the true one, with a closed-form likelihood.

    ``lognormal`` (a, b = mu, sigma): said = true * exp(mu + sigma Z), a multiplicative error.
    ``detected_share`` (a, b = beta shape parameters): said = true * S with S ~ Beta(a, b), an
    undercount (what was detected).  ``normal`` (a, b = mean, sd): said = true + mean + sd Z.
    """

    family: str
    a: float
    b: float

    def __repr__(self) -> str:
        names = {"lognormal": ("mu", "sigma"), "detected_share": ("a", "b"), "normal": ("mean", "sd")}[self.family]
        return f"{self.family}({names[0]}={self.a:g}, {names[1]}={self.b:g})"

    def interval(self, true, low: float, high: float) -> np.ndarray:
        """P(low <= said <= high | true) per world (low may be -inf or 0, high inf).

        Examples
        --------
        >>> float(Noise("lognormal", 0.0, 0.5).interval(np.array([1000.0]), 1000.0, math.inf)[0])
        0.5
        """
        from scipy import special

        t = np.asarray(true, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.family == "normal":
                up = 1.0 if math.isinf(high) else special.ndtr((high - t - self.a) / self.b)
                lo = 0.0 if math.isinf(low) else special.ndtr((low - t - self.a) / self.b)
                return np.clip(up - lo, 0.0, 1.0)
            if self.family == "lognormal":
                # with true = 0, log true = -inf and said = 0: the terms give [low <= 0 <= high]
                centre = np.log(t) + self.a
                up = 1.0 if math.isinf(high) else special.ndtr((math.log(high) - centre) / self.b)
                lo = 0.0 if low <= 0 else special.ndtr((math.log(low) - centre) / self.b)
                return np.clip(up - lo, 0.0, 1.0)
            zero = t <= 0  # detected share: said = 0 exactly when nothing happened
            tt = np.where(zero, 1.0, t)
            up = special.betainc(self.a, self.b, np.clip(high / tt, 0.0, 1.0))
            lo = special.betainc(self.a, self.b, np.clip(max(low, 0.0) / tt, 0.0, 1.0))
            return np.where(zero, float(low <= 0 <= high), np.clip(up - lo, 0.0, 1.0))

    def density(self, true, value: float) -> np.ndarray:
        """Density of said = ``value`` given true, up to a factor that is the same in every world.

        lognormal: the density of log(said), phi(z) with z = (log value - log true - mu) / sigma;
        detected_share: r f_S(r) with r = value / true; normal: phi((value - true - mean) / sd).
        """
        t = np.asarray(true, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.family == "normal":
                z = (value - t - self.a) / self.b
                return np.exp(-0.5 * z * z)
            if self.family == "lognormal":
                z = (math.log(value) - self.a - np.log(t)) / self.b  # true = 0: z = inf, density 0
                return np.exp(-0.5 * z * z)
            from scipy import special

            tt = np.where(t > 0, t, 1.0)
            r = value / tt
            inside = (t > 0) & (r < 1)
            rr = np.where(inside, r, 0.5)
            log_pdf = (self.a - 1) * np.log(rr) + (self.b - 1) * np.log1p(-rr) - special.betaln(self.a, self.b)
            return np.where(inside, r * np.exp(log_pdf), 0.0)


@dataclass(frozen=True)
class Report:
    """A reported number about a quantity (a flow on a date, or a number node) and its noise.

    ``value`` is the headline figure (what a forecast is scored against); ``low`` / ``high`` the
    range stated ("more than 1,000" is low=1000).  The likelihood is P(low <= said <= high |
    true) when a bound is given, else the density of said = value.
    """

    quantity: str
    node: str
    series: str  # "" (the node, or a flow's month count) or "cumulative"
    on: _dt.date | None
    day: int | None
    value: float | None
    low: float | None
    high: float | None
    noise: Noise
    estimator: str = ""

    def months(self, model: Model) -> int | None:
        if self.day is None:
            return None
        return min(model.horizon_months, max(1, int(math.ceil(self.day / model.month_days))))

    def true_from(self, model: Model, x) -> np.ndarray:
        """The reported quantity from the node's array ``x`` (shape (n,) or (n, months))."""
        if self.day is None:
            return np.asarray(x, dtype=float)
        if self.series == "cumulative":
            return cumulative_at_day(np.asarray(x), self.day, model.month_days)
        return np.asarray(x[:, self.months(model) - 1], dtype=float)

    def true_values(self, model: Model, arrays: dict) -> np.ndarray:
        """The reported quantity in each world, shape (n,)."""
        return self.true_from(model, arrays[self.node])

    def true_from_month_major(self, model: Model, means: np.ndarray, totals: dict) -> np.ndarray:
        """The reported quantity from a flow's months, month-major (months, n); ``totals`` maps a
        number of whole months to their running total (see :func:`_month_totals`)."""
        md = model.month_days
        if self.series != "cumulative":
            return means[self.months(model) - 1]
        full = min(self.day // md, means.shape[0])
        frac = (self.day - full * md) / md
        return totals[full] + frac * means[full] if full < means.shape[0] and frac > 0 else totals[full]

    def likelihood_from(self, model: Model, x) -> np.ndarray:
        return self.likelihood_of(self.true_from(model, x))

    def likelihood_of(self, t) -> np.ndarray:
        """Likelihood of what was said given the true values ``t`` (n,)."""
        if self.low is None and self.high is None:
            return self.noise.density(t, self.value)
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        return self.noise.interval(t, low, high)


# =========================================================================== items


@dataclass(frozen=True)
class Observation:
    """One thing an item says about one node.

    ``equals`` clamps the node to ``value`` (day number, category code, bool or number);
    ``never_by`` (X > value) and ``by`` (X <= value) constrain an event; ``at_least``,
    ``at_most`` and ``between`` a number.
    """

    node: str
    kind: str
    value: object
    text: str
    implied_by: str | None = None

    def holds(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if self.kind == "never_by":
            return x > self.value
        if self.kind in ("by", "at_most"):
            return x <= self.value
        if self.kind == "at_least":
            return x >= self.value
        if self.kind == "equals":
            return x == float(self.value)
        lo, hi = self.value
        return (x >= lo) & (x <= hi)


@dataclass(frozen=True)
class Item:
    """One dated piece of evidence."""

    id: str
    public_on: _dt.date
    source: str
    note: str
    observations: tuple = ()
    report: Report | None = None
    watch: tuple = ()  # (node, lag_days)
    where: str = ""  # key path, for messages


def _can_constrain(spec) -> bool:
    return isinstance(spec, EventSpec) and (spec.delay is None or _has_quantile(spec.delay))


@dataclass(frozen=True)
class Conditioning:
    """What is known as of a date, as instructions for drawing and weighting worlds.

    Attributes
    ----------
    fixed : dict
        Clamped nodes: name -> value (weighted by P(value | parents)).
    within : dict
        Constrained events: name -> (lo, hi); drawn given lo < X <= hi, weighted by its probability.
    checks : tuple of Observation
        Constraints weighted by an indicator (numbers; events that cannot be drawn given one).
    reports : tuple of Report
    items : tuple of str
        Ids of the items public by ``as_of``.
    """

    as_of: _dt.date
    fixed: dict
    within: dict
    checks: tuple
    reports: tuple
    items: tuple

    def modes(self, model: Model) -> dict:
        """How each conditioned node is drawn: ("fixed", v), ("within", lo, hi) or ("reports", ...)."""
        out: dict = {name: ("fixed", value) for name, value in self.fixed.items()}
        for name, (lo, hi) in self.within.items():
            out[name] = ("within", lo, hi)
        by_node: dict = {}
        for rep in self.reports:  # in order of publication, so a later date only appends
            if rep.node not in self.fixed and _is_random(model.nodes[rep.node].spec):
                by_node.setdefault(rep.node, []).append(rep)
        for name, reps in by_node.items():
            out[name] = ("reports", tuple(reps))
        return out

    def plain_reports(self, model: Model) -> list:
        """Reports weighted directly (on a clamped or deterministic node, e.g. an expression flow)."""
        return [r for r in self.reports if r.node in self.fixed or not _is_random(model.nodes[r.node].spec)]

    def reads(self, model: Model) -> dict:
        """Nodes to draw for the weights: name -> last month read for flows (None otherwise)."""
        out: dict = {name: None for name in (*self.fixed, *self.within)}
        for ob in self.checks:
            out.setdefault(ob.node, None)
        for rep in self.reports:
            m = rep.months(model)
            prev = out.get(rep.node)
            out[rep.node] = m if prev is None else (prev if m is None else max(prev, m))
        return out


@dataclass(frozen=True)
class Evidence:
    """Validated evidence items, in file order."""

    items: tuple = ()
    file: str | None = None

    def __len__(self) -> int:
        return len(self.items)

    def dates(self) -> list:
        """Distinct ``public_on`` dates, sorted."""
        return sorted({it.public_on for it in self.items})

    def public_by(self, as_of: _dt.date) -> list:
        return [it for it in self.items if it.public_on <= as_of]

    def reports(self) -> list:
        return [it for it in self.items if it.report is not None]

    def conditioning(self, model: Model, as_of: _dt.date) -> Conditioning:
        """What is known as of ``as_of``: only items with ``public_on <= as_of`` are read."""
        items = sorted(self.public_by(as_of), key=lambda it: it.public_on)  # stable: file order on ties
        fixed: dict = {}
        bounds: dict = {}  # event -> [lo, hi]
        checks: list = []
        reports: list = []

        def bound(name, lo=-math.inf, hi=math.inf):
            b = bounds.setdefault(name, [-math.inf, math.inf])
            b[0], b[1] = max(b[0], lo), min(b[1], hi)

        for it in items:
            for ob in it.observations:
                if ob.kind == "equals":
                    fixed.setdefault(ob.node, ob.value)
            if it.report is not None:
                reports.append(it.report)
        for it in items:
            for ob in it.observations:
                if ob.kind == "equals":
                    continue
                if ob.node in fixed or ob.kind not in ("never_by", "by"):
                    checks.append(ob)
                elif ob.kind == "never_by":
                    bound(ob.node, lo=ob.value)
                else:
                    bound(ob.node, hi=ob.value)
        day = model.day_of(as_of)
        for it in items:
            for node, lag in it.watch:
                if node not in fixed:
                    bound(node, lo=float(day - lag))
        # an event observed (or known to have happened by a day) means what it comes after had too
        for name, hi in [(n, v) for n, v in fixed.items() if model.kinds[n].type == "event"] + [
            (n, b[1]) for n, b in bounds.items() if math.isfinite(b[1])
        ]:
            spec = model.nodes[name].spec
            while isinstance(spec, EventSpec) and isinstance(spec.after, str) and spec.after not in fixed:
                bound(spec.after, hi=float(hi))
                spec = model.nodes[spec.after].spec
        within = {}
        for name, (lo, hi) in bounds.items():
            if _can_constrain(model.nodes[name].spec):
                within[name] = (lo, hi)
            else:
                if lo > -math.inf:
                    checks.append(Observation(name, "never_by", lo, f"{name} not by day {lo:g}"))
                if hi < math.inf:
                    checks.append(Observation(name, "by", hi, f"{name} by day {hi:g}"))
        ordered = {name: fixed[name] for name in model.nodes if name in fixed}
        return Conditioning(as_of, ordered, within, tuple(checks), tuple(reports), tuple(it.id for it in items))


# =========================================================================== loading and validation


class _Parser:
    def __init__(self, model: Model, file: str | None, base: tuple):
        self.model = model
        self.file = file
        self.base = base

    def err(self, path, msg) -> ParamsError:
        return ParamsError(self.file, ".".join(map(str, self.base + tuple(path))), msg)

    def keys(self, raw, path, allowed):
        for k in raw:
            if k not in allowed:
                raise self.err(path + (str(k),), f"unknown key {k!r}; expected one of {list(allowed)}" + did_you_mean(k, allowed))

    def date(self, raw, path) -> _dt.date:
        return parse_date(raw, None, self.base + tuple(path), file=self.file)

    def number(self, raw, path, what="a number") -> float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or (isinstance(raw, float) and math.isnan(raw)):
            raise self.err(path, f"expected {what}, got {describe(raw)}")
        return float(raw)

    def node(self, name, path):
        if not isinstance(name, str) or name not in self.model.nodes:
            raise self.err(path, f"unknown variable {name!r}" + (did_you_mean(name, self.model.nodes) if isinstance(name, str) else ""))
        return self.model.kinds[name]

    def model_day(self, date: _dt.date, path, *, public_on: _dt.date, what: str) -> int:
        if date > public_on:
            raise self.err(path, f"{what} {date} is after the item became public ({public_on}); an item can only report the past")
        day = self.model.day_of(date)
        if day > self.model.horizon_days:
            last = self.model.as_of + _dt.timedelta(days=self.model.horizon_days)
            raise self.err(path, f"{what} {date} is beyond the model's horizon (last day {last})")
        return day

    # -- items ------------------------------------------------------------------
    def item(self, raw, i: int) -> Item:
        path = (str(i),)
        if not isinstance(raw, dict):
            raise self.err(path, f"expected an evidence item (a mapping with public_on, source and observe/report/watch), got {describe(raw)}")
        self.keys(raw, path, ITEM_KEYS)
        for k in ("public_on", "source"):
            if k not in raw:
                raise self.err(path, f"missing key {k!r}" + (" (a URL: where this was reported)" if k == "source" else " (the date it became public)"))
        item_id = raw.get("id", f"item{i}")
        if not isinstance(item_id, str) or not re.fullmatch(r"[A-Za-z0-9_.:-]+", item_id):
            raise self.err(path + ("id",), f"expected an identifier (letters, digits, _ . : -), got {describe(item_id)}")
        public_on = self.date(raw["public_on"], path + ("public_on",))
        if public_on < self.model.as_of:
            raise self.err(
                path + ("public_on",),
                f"{public_on} is before the model's as_of ({self.model.as_of}); the model's numbers already use what was public then",
            )
        source = self.source(raw["source"], path + ("source",))
        note = raw.get("note", "")
        if not isinstance(note, str):
            raise self.err(path + ("note",), f"expected text, got {describe(note)}")
        if not any(k in raw for k in ("observe", "report", "watch")):
            raise self.err(path, "expected at least one of observe, report, watch")
        observations = self.observe(raw["observe"], path + ("observe",), public_on, item_id) if "observe" in raw else ()
        report = self.report(raw["report"], path + ("report",), public_on) if "report" in raw else None
        watch = self.watch(raw["watch"], path + ("watch",)) if "watch" in raw else ()
        return Item(item_id, public_on, source, note, observations, report, watch, ".".join(self.base + path))

    def source(self, raw, path) -> str:
        urls = raw if isinstance(raw, list) else (raw.split(" ; ") if isinstance(raw, str) else None)
        if not urls:
            raise self.err(path, f"expected a URL (or a list of URLs) where this was reported, got {describe(raw)}")
        for u in urls:
            if not isinstance(u, str) or not _URL.match(u.strip()):
                raise self.err(path, f"expected a URL starting with http:// or https://, got {describe(u)}")
        return " ; ".join(u.strip() for u in urls)

    def observe(self, raw, path, public_on, item_id) -> tuple:
        if not isinstance(raw, dict) or not raw:
            raise self.err(path, f"expected a mapping of variable: observed value, got {describe(raw)}")
        out = []
        for name, value in raw.items():
            kind = self.node(name, path + (str(name),))
            out.append(self.observation(name, kind, value, path + (name,), public_on))
        names = {o.node for o in out}
        for ob in list(out):
            implied = self.implied(ob, item_id)
            if implied is not None and implied.node not in names:
                out.append(implied)
                names.add(implied.node)
        return tuple(out)

    def observation(self, name, kind, value, path, public_on) -> Observation:
        spec = self.model.nodes[name].spec
        if kind.type == "event":
            if isinstance(value, dict):
                self.keys(value, path, CONSTRAINTS["event"])
                if len(value) != 1:
                    raise self.err(path, f"expected one of never_by: DATE or by: DATE, got {sorted(value)}")
                (how, d), = value.items()
                date = self.date(d, path + (how,))
                day = self.model_day(date, path + (how,), public_on=public_on, what="date")
                return Observation(name, how, float(day), f"{name} {how.replace('_', ' ')} {date}")
            date = self.date(value, path)
            day = self.model_day(date, path, public_on=public_on, what="event date")
            if day < 1:
                raise self.err(path, f"event date {date} is not after the model's as_of ({self.model.as_of}); the model's events start on day 1")
            return Observation(name, "equals", float(day), f"{name} on {date}")
        if kind.type == "category":
            if not isinstance(value, str) or value not in kind.categories:
                raise self.err(
                    path,
                    f"unknown category {value!r} of {name!r}; expected one of {list(kind.categories)}"
                    + (did_you_mean(value, kind.categories) if isinstance(value, str) else ""),
                )
            if not _supports_category(spec):
                raise self.err(path, f"{name!r} cannot be observed: its categories are not a distribution the likelihood can be computed for")
            return Observation(name, "equals", kind.categories.index(value), f"{name} is {value}")
        if kind.type == "bool":
            if not isinstance(value, bool):
                raise self.err(path, f"{name!r} is boolean; expected true or false, got {describe(value)}")
            return Observation(name, "equals", value, f"{name} is {str(value).lower()}")
        if kind.type == "number":
            if isinstance(value, dict):
                self.keys(value, path, CONSTRAINTS["number"])
                if len(value) != 1:
                    raise self.err(path, f"expected one of at_least, at_most or between, got {sorted(value)}")
                (how, x), = value.items()
                if how == "between":
                    if not isinstance(x, list) or len(x) != 2:
                        raise self.err(path + (how,), f"expected [low, high], got {describe(x)}")
                    lo, hi = (self.number(v, path + (how,)) for v in x)
                    if lo > hi:
                        raise self.err(path + (how,), f"expected low <= high, got {x}")
                    return Observation(name, how, (lo, hi), f"{name} in [{lo:g}, {hi:g}]")
                x = self.number(x, path + (how,))
                return Observation(name, how, x, f"{name} {how.replace('_', ' ')} {x:g}")
            x = self.number(value, path)
            if not _is_discrete(spec):
                raise self.err(
                    path,
                    f"{name!r} is a continuous quantity, so an exact value has probability 0; "
                    "use {at_least: x}, {at_most: x}, {between: [lo, hi]}, or a report: with a noise model",
                )
            return Observation(name, "equals", x, f"{name} = {x:g}")
        raise self.err(path, f"{name!r} is a {kind.type} node and cannot be observed directly; use a report: on it (e.g. quantity: {name}.cumulative)")

    def implied(self, ob: Observation, item_id: str) -> Observation | None:
        """Observing an event's day also observes its ``when:`` boolean node as true."""
        if ob.kind != "equals" or self.model.kinds[ob.node].type != "event":
            return None
        spec = self.model.nodes[ob.node].spec
        if isinstance(spec, EventSpec) and isinstance(spec.when, RefSpec) and self.model.kinds[spec.when.name].type == "bool":
            return Observation(spec.when.name, "equals", True, f"{spec.when.name} is true (as {ob.node} happened)", implied_by=ob.node)
        return None

    def watch(self, raw, path) -> tuple:
        if isinstance(raw, list):
            pairs = [(name, 0) for name in raw]
        elif isinstance(raw, dict):
            pairs = list(raw.items())
        else:
            raise self.err(path, f"expected a list of event names or a mapping event: lag_days, got {describe(raw)}")
        if not pairs:
            raise self.err(path, "expected at least one event")
        out = []
        for name, lag in pairs:
            kind = self.node(name, path + (str(name),))
            if kind.type != "event":
                raise self.err(path + (str(name),), f"{name!r} is a {kind.type} node; only events can be watched")
            if isinstance(lag, bool) or not isinstance(lag, int) or lag < 0:
                raise self.err(path + (str(name),), f"expected a lag in whole days >= 0, got {describe(lag)}")
            out.append((name, lag))
        return tuple(out)

    # -- reports -----------------------------------------------------------------
    def report(self, raw, path, public_on) -> Report:
        if not isinstance(raw, dict):
            raise self.err(path, f"expected a mapping with quantity, said and likelihood, got {describe(raw)}")
        self.keys(raw, path, REPORT_KEYS)
        for k in ("quantity", "said", "likelihood"):
            if k not in raw:
                raise self.err(path, f"missing key {k!r}")
        ref = raw["quantity"]
        if not isinstance(ref, str):
            raise self.err(path + ("quantity",), f"expected a variable such as containers.cumulative, got {describe(ref)}")
        name, _, series = ref.partition(".")
        kind = self.node(name, path + ("quantity",))
        if series not in ("", "cumulative"):
            raise self.err(path + ("quantity",), f"unknown series {series!r}; expected {name} or {name}.cumulative")
        on = day = None
        if kind.type == "flow":
            if "on" not in raw:
                raise self.err(path, f"{name!r} is a flow: say which date the figure is for (on: YYYY-MM-DD)")
            on = self.date(raw["on"], path + ("on",))
            day = self.model_day(on, path + ("on",), public_on=public_on, what="date")
            if day < 1:
                raise self.err(path + ("on",), f"date {on} is not after the model's as_of ({self.model.as_of})")
        else:
            if series:
                raise self.err(path + ("quantity",), f"{name!r} is a {kind.type} node, not a flow; it has no .{series}")
            if kind.type != "number":
                raise self.err(path + ("quantity",), f"{name!r} is a {kind.type} node; a report needs a number or a flow (use observe: for events and categories)")
            if "on" in raw:
                raise self.err(path + ("on",), f"{name!r} is a per-world number, not a flow; drop on:")
        noise = self.noise(raw["likelihood"], path + ("likelihood",))
        value, low, high = self.said(raw["said"], path + ("said",), positive=noise.family != "normal")
        estimator = raw.get("estimator", "")
        if not isinstance(estimator, str):
            raise self.err(path + ("estimator",), f"expected text, got {describe(estimator)}")
        return Report(ref, name, series, on, day, value, low, high, noise, estimator)

    def said(self, raw, path, *, positive: bool):
        if not isinstance(raw, dict) or not raw:
            raise self.err(path, f"expected {{value: x}}, {{at_least: x}}, {{low: x, high: y}} ..., got {describe(raw)}")
        self.keys(raw, path, SAID_KEYS)
        if "at_least" in raw and "low" in raw or "at_most" in raw and "high" in raw:
            raise self.err(path, "at_least is the same as low (and at_most as high); give one of them")
        vals = {}
        for k in SAID_KEYS:
            if k in raw and raw[k] is not None:
                vals[k] = self.number(raw[k], path + (k,))
        value = vals.get("value")
        low = vals.get("low", vals.get("at_least"))
        high = vals.get("high", vals.get("at_most"))
        if value is None and low is None and high is None:
            raise self.err(path, "expected a value or a bound (low / high / at_least / at_most)")
        if low is not None and high is not None and low > high:
            raise self.err(path, f"expected low <= high, got low={low:g}, high={high:g}")
        if value is not None and ((low is not None and value < low) or (high is not None and value > high)):
            raise self.err(path + ("value",), f"the headline value {value:g} lies outside [low, high]")
        if positive:
            for k, v in (("value", value), ("high", high)):
                if v is not None and v <= 0:
                    raise self.err(path + (k,), f"a multiplicative noise model needs a positive figure, got {v:g}")
            if low is not None and low < 0:
                raise self.err(path + ("low",), f"expected low >= 0, got {low:g}")
        return value, low, high

    def noise(self, raw, path) -> Noise:
        if not isinstance(raw, dict) or len(raw) != 1:
            raise self.err(path, f"expected one noise model: {{lognormal: {{sigma}}}}, {{detected_share: {{beta: ...}}}} or {{normal: {{sd}}}}, got {describe(raw)}")
        (family, body), = raw.items()
        if family not in NOISE_FAMILIES:
            raise self.err(path + (str(family),), f"unknown noise model {family!r}; expected one of {list(NOISE_FAMILIES)}" + did_you_mean(family, NOISE_FAMILIES))
        p = path + (family,)
        if not isinstance(body, dict):
            raise self.err(p, f"expected a mapping, got {describe(body)}")
        if family == "lognormal":
            self.keys(body, p, ("mu", "sigma", "ci90"))
            if "ci90" in body:
                if set(body) != {"ci90"}:
                    raise self.err(p, "give either ci90 (of said / true) or mu and sigma")
                ci = body["ci90"]
                if not isinstance(ci, list) or len(ci) != 2:
                    raise self.err(p + ("ci90",), f"expected [low, high] of said / true, got {describe(ci)}")
                lo, hi = (self.number(v, p + ("ci90",)) for v in ci)
                if not 0 < lo < hi:
                    raise self.err(p + ("ci90",), f"expected 0 < low < high, got {ci}")
                from .distributions import lognormal_ci90

                return Noise("lognormal", *lognormal_ci90(lo, hi))
            if "sigma" not in body:
                raise self.err(p, "missing key 'sigma' (the sd of log(said / true))")
            sigma = self.number(body["sigma"], p + ("sigma",))
            if sigma <= 0:
                raise self.err(p + ("sigma",), f"expected sigma > 0, got {sigma:g}")
            return Noise("lognormal", self.number(body.get("mu", 0.0), p + ("mu",)), sigma)
        if family == "normal":
            self.keys(body, p, ("mean", "sd"))
            if "sd" not in body:
                raise self.err(p, "missing key 'sd'")
            sd = self.number(body["sd"], p + ("sd",))
            if sd <= 0:
                raise self.err(p + ("sd",), f"expected sd > 0, got {sd:g}")
            return Noise("normal", self.number(body.get("mean", 0.0), p + ("mean",)), sd)
        self.keys(body, p, ("beta",))
        beta = body.get("beta")
        if not isinstance(beta, dict):
            raise self.err(p, "expected beta: {mean, concentration} or beta: {a, b} (the share of the truth that is reported)")
        self.keys(beta, p + ("beta",), ("mean", "concentration", "a", "b"))
        if set(beta) == {"a", "b"}:
            a, b = self.number(beta["a"], p + ("beta", "a")), self.number(beta["b"], p + ("beta", "b"))
        elif set(beta) == {"mean", "concentration"}:
            m = self.number(beta["mean"], p + ("beta", "mean"))
            c = self.number(beta["concentration"], p + ("beta", "concentration"))
            if not 0 < m < 1 or c <= 0:
                raise self.err(p + ("beta",), f"expected 0 < mean < 1 and concentration > 0, got mean={m:g}, concentration={c:g}")
            a, b = m * c, (1 - m) * c
        else:
            raise self.err(p + ("beta",), f"expected {{mean, concentration}} or {{a, b}}, got keys {sorted(beta)}")
        if a <= 0 or b <= 0:
            raise self.err(p + ("beta",), f"expected positive shape parameters, got a={a:g}, b={b:g}")
        return Noise("detected_share", a, b)

    # -- consistency across items ---------------------------------------------------
    def check_consistency(self, items: list) -> None:
        clamped: dict = {}  # node -> (value, item)
        for it in items:
            for ob in it.observations:
                if ob.kind != "equals":
                    continue
                prev = clamped.get(ob.node)
                if prev is None:
                    clamped[ob.node] = (ob.value, it)
                elif prev[0] != ob.value:
                    raise ParamsError(
                        self.file, f"{it.where}.observe.{ob.implied_by or ob.node}",
                        f"{ob.text} contradicts item {prev[1].id!r} ({prev[1].public_on}), which has "
                        f"{self._show(ob.node, prev[0])}; hard facts cannot change (use a report: for uncertain statements)",
                    )
        for it in items:
            for ob in it.observations:
                if ob.kind in ("never_by", "by") and ob.node in clamped:
                    value, other = clamped[ob.node]
                    if not ob.holds(np.asarray([value]))[0]:
                        raise ParamsError(
                            self.file, f"{it.where}.observe.{ob.node}",
                            f"{ob.text} contradicts item {other.id!r}, which observes {self._show(ob.node, value)}",
                        )
        for it in items:
            for node, lag in it.watch:
                if node not in clamped:
                    continue
                value, other = clamped[node]
                happened = self.model.as_of + _dt.timedelta(days=int(value))
                delay = (other.public_on - happened).days
                if delay > lag and other.public_on > it.public_on:
                    raise ParamsError(
                        self.file, f"{it.where}.watch.{node}",
                        f"{node!r} happened on {happened} but item {other.id!r} made it public only on "
                        f"{other.public_on}, {delay} days later; watch it with a lag of at least {delay} "
                        f"days ({node}: {delay}) or correct the dates",
                    )

    def _show(self, node, value) -> str:
        kind = self.model.kinds[node]
        if kind.type == "event":
            return f"{node} on {self.model.as_of + _dt.timedelta(days=int(value))}"
        if kind.type == "category":
            return f"{node} is {kind.categories[int(value)]}"
        return f"{node} = {value}"


def _supports_category(spec) -> bool:
    if isinstance(spec, (CategoricalSpec, RefSpec)):
        return True
    if isinstance(spec, BySpec):
        return all(_supports_category(s) for _, s, _ in spec._plan)
    return False


def parse_evidence(model: Model, raw, *, file: str | None = None, base: tuple = ()) -> Evidence:
    """Validate evidence items (a list of mappings) against ``model``.

    Raises
    ------
    ParamsError
        Unknown keys (with a did-you-mean), unknown variables or categories, dates after the
        item became public or beyond the horizon, missing sources, contradictory hard facts.
    """
    parser = _Parser(model, file, base)
    if not isinstance(raw, list):
        raise parser.err((), f"expected a list of evidence items, got {describe(raw)}")
    items, seen = [], {}
    for i, item_raw in enumerate(raw):
        it = parser.item(item_raw, i)
        if it.id in seen:
            raise parser.err((str(i), "id"), f"duplicate item id {it.id!r} (also item {seen[it.id]})")
        seen[it.id] = i
        items.append(it)
    parser.check_consistency(items)
    return Evidence(tuple(items), file)


def load_evidence(model: Model, source=None) -> Evidence:
    """Load and validate the evidence for ``model``.

    Parameters
    ----------
    model : Model
    source : str, list or None
        An evidence file (a mapping with ``evidence:``, or a bare list of items), a list of item
        mappings, or None for the params file's own ``evidence:`` (a path relative to the file
        that set it, or an inline list).  No evidence anywhere gives an empty :class:`Evidence`.
    """
    base: tuple = ()
    if source is None:
        raw = model.evidence_raw
        if raw is None:
            return Evidence((), None)
        file = model.doc.origin(("evidence",))
        if isinstance(raw, str):
            source = os.path.join(os.path.dirname(file or "."), raw)
        else:
            return parse_evidence(model, raw, file=file, base=("evidence",))
    if isinstance(source, list):
        return parse_evidence(model, source)
    doc, _ = load_yaml_file(source)
    if isinstance(doc, dict):
        for k in doc:
            if k not in ("evidence", "note", "source"):
                raise ParamsError(source, str(k), f"unknown key {k!r}; an evidence file holds evidence (and note, source)" + did_you_mean(k, ("evidence",)))
        if "evidence" not in doc:
            raise ParamsError(source, "", "missing key 'evidence' (the list of items)")
        raw, base = doc["evidence"], ("evidence",)
    else:
        raw = doc
    return parse_evidence(model, raw, file=source, base=base)


# =========================================================================== the conditioned simulation


@dataclass
class Plan:
    """One as-of date to simulate: its conditioning, the questions to answer and other sinks.

    A sink has ``add(worlds, weights)`` and ``reads`` (node -> last month for flows, or None).
    """

    as_of: _dt.date | None
    cond: Conditioning
    questions: list = field(default_factory=list)
    sinks: list = field(default_factory=list)
    accs: list = field(default_factory=list)
    sum_w: float = 0.0
    sum_w2: float = 0.0

    @property
    def ess(self) -> float:
        """Effective sample size (sum w)^2 / sum w^2 over all worlds."""
        return self.sum_w**2 / self.sum_w2 if self.sum_w2 > 0 else 0.0


_FREE = ("free",)


def _chunk_sizes(n: int, chunk_size: int) -> list:
    full, rest = divmod(n, chunk_size)
    return [chunk_size] * full + ([rest] if rest else [])


def _draw_reported(model, name, ctx, seed, chunk, n, reports, candidates, cache):
    """Draw a reported node given its reports: ``candidates`` draws, one kept per world.

    Candidate k is kept with probability proportional to a score g_k (weighted reservoir
    sampling) and the world's weight is mean(g) * L(kept) / g(kept), a proper importance weight on
    the extended space of candidates, whatever the score.  For a Poisson flow the candidates are
    its monthly means (rates, ramp and start drawn, counts not): g is the report likelihood of
    the means, and the counts are drawn once for the kept means.  Other nodes are drawn whole and
    g is their likelihood (the weight is then the mean likelihood).

    ``cache`` keeps each candidate's likelihood product while the node's parents are unchanged
    (the engine empties it when they change), so a new report costs one more factor.
    """
    spec = model.nodes[name].spec
    by_means = isinstance(spec, FlowSpec) and spec.count in ("poisson", "expected") and hasattr(spec, "expected_by_month")
    known = cache.get("reports", ())
    if reports[: len(known)] != known:
        known = ()
    new = reports[len(known):]
    products = cache.get("g") if known else None
    products = list(products) if products is not None else [None] * candidates
    md = model.month_days
    total = np.zeros(n)
    g_kept = np.zeros(n)
    kept = None
    for k in range(candidates):
        rng = node_rng(seed, chunk, name if k == 0 else f"{name}#{k}")
        g = products[k] if products[k] is not None else np.ones(n)
        if by_means:
            value = spec.expected_by_month(ctx, rng, n)  # (months, n), C-contiguous
            if new:
                totals = _month_totals(value, [min(r.day // md, value.shape[0]) for r in new if r.series == "cumulative"])
                for rep in new:
                    g = g * rep.likelihood_of(rep.true_from_month_major(model, value, totals))
        else:
            value = spec.sample(ctx, rng, n)
            value = np.full(n, value) if np.ndim(value) == 0 else value
            for rep in new:
                g = g * rep.likelihood_from(model, value)
        products[k] = g
        g = np.where(np.isfinite(g) & (g > 0), g, 0.0)
        total += g
        if kept is None:
            kept, g_kept = np.array(value), g.copy()
            continue
        with np.errstate(invalid="ignore"):
            take = np.flatnonzero(node_rng(seed, chunk, f"{name}#u{k}").random(n) * total < g)
        if by_means:  # month-major: worlds are columns
            kept[:, take] = value[:, take]
        else:
            kept[take] = value[take]
        g_kept[take] = g[take]
    cache["reports"], cache["g"] = reports, products
    if by_means:
        kept = kept.T  # (n, months) view of the month-major means
    if by_means and spec.count == "poisson":
        kept = node_rng(seed, chunk, f"{name}#counts").poisson(kept.T).T.astype(np.float64)
        lik = _likelihood(model, reports, kept)
        with np.errstate(invalid="ignore", divide="ignore"):
            return kept, np.where(g_kept > 0, total / candidates * lik / g_kept, 0.0)
    return kept, total / candidates


def _month_totals(means: np.ndarray, fulls) -> dict:
    """Running totals of a month-major flow after each number of whole months in ``fulls``."""
    out, acc, done = {0: np.zeros(means.shape[1])}, np.zeros(means.shape[1]), 0
    for full in sorted(set(fulls)):
        for m in range(done, full):
            acc += means[m]
        done = full
        out[full] = acc.copy()
    return out


def _likelihood(model, reports, value) -> np.ndarray:
    lik = np.ones(len(value))
    for rep in reports:
        lik *= rep.likelihood_from(model, value)
    return np.where(np.isfinite(lik) & (lik > 0), lik, 0.0)


def _draw(model, name, mode, ctx, seed, chunk, n, candidates, cache):
    """One node's values and weight factor (None: no factor) under its conditioning mode."""
    spec = model.nodes[name].spec
    if mode is _FREE:
        value = spec.sample(ctx, node_rng(seed, chunk, name), n)
        return (np.full(n, value) if np.ndim(value) == 0 else value), None
    if mode[0] == "fixed":
        value = np.broadcast_to(mode[1], (n,)).copy()
        ctx.arrays[name] = value
        return value, node_likelihood(model, name, mode[1], ctx, node_rng(seed, chunk, "evidence:" + name))
    if mode[0] == "within":
        frozen = _freeze(spec, ctx, node_rng(seed, chunk, "evidence:" + name), n)
        u = node_rng(seed, chunk, "within:" + name).random(n)
        return frozen.sample_within(mode[1], mode[2], u)
    return _draw_reported(model, name, ctx, seed, chunk, n, mode[1], candidates, cache)


def run_plans(model: Model, plans: list, *, samples: int, seed: int, chunk_size: int = CHUNK_SIZE,
              candidates: int = REPORT_CANDIDATES) -> None:
    """Simulate once for all plans and feed each plan's questions and sinks.

    Per chunk of worlds the plans are taken in order.  A plan draws only what its questions, sinks
    and weights read, and a node is drawn again only when its conditioning or one of its parents
    changed since it was last drawn (a constrained event that nothing reads needs only its weight
    factor).  Every node draws from the per-node stream of
    :func:`scenarios.simulate.simulate_chunks` (keyed by seed, chunk and node), so a plan sees
    exactly the worlds a separate run with the same seed would, and unconditioned nodes are the
    same worlds at every date (common random numbers).
    """
    from .forecast import _Accumulator, flow_months

    parents = {name: tuple(node.spec.refs()) for name, node in model.nodes.items()}
    all_reads: dict = {}
    setups = []
    for plan in plans:
        reads: dict = {}

        def read(name, month, reads=reads):
            if model.kinds[name].is_flow:
                month = model.horizon_months if month is None else month
                reads[name] = max(reads.get(name) or 0, month)
            else:
                reads.setdefault(name, None)

        mode = plan.cond.modes(model)
        for name, m in plan.cond.reads(model).items():
            if mode.get(name, _FREE)[0] == "within":
                for ref in parents[name]:  # its weight needs only its parents
                    read(ref, None)
            else:
                read(name, m)
        fm = flow_months(model, plan.questions)
        for q in plan.questions:
            for name in q.refs:
                read(name, fm.get(name))
        for sink in plan.sinks:
            for name, m in sink.reads.items():
                read(name, m)
        need = model.ancestors(reads)
        factor_only = [name for name, md in mode.items() if md[0] == "within" and name not in need]
        setups.append((mode, need, factor_only, plan.cond.plain_reports(model)))
        for name, m in reads.items():
            if m is None:
                all_reads.setdefault(name, None)
            else:
                all_reads[name] = max(all_reads.get(name) or 0, m)
        plan.accs = [_Accumulator(q) for q in plan.questions]
        plan.sum_w = plan.sum_w2 = 0.0
    order = [name for name in model.nodes if name in model.ancestors(all_reads)]
    months = months_needed(model, {k: v for k, v in all_reads.items() if v is not None})
    for chunk, size in enumerate(_chunk_sizes(samples, chunk_size)):
        arrays: dict = {}
        factors: dict = {}
        caches: dict = {}
        drawn: dict = {}  # node -> (mode, parents' versions) of its current values or factor
        version: dict = {}
        ctx = Context(arrays, model.kinds, size, model)
        for plan, (mode, need, factor_only, plain_reports) in zip(plans, setups, strict=True):
            for name in order:
                if name not in need:
                    continue
                mode_n = mode.get(name, _FREE)
                key = (mode_n, tuple(version.get(p, 0) for p in parents[name]))
                if drawn.get(name) == key:
                    continue
                if drawn.get(name) is None or drawn[name][1] != key[1]:
                    caches[name] = {}  # report candidates depend on the parents
                ctx.months = months.get(name, model.horizon_months)
                arrays[name], factors[name] = _draw(
                    model, name, mode_n, ctx, seed, chunk, size, candidates, caches.setdefault(name, {}),
                )
                drawn[name] = key
                version[name] = version.get(name, 0) + 1
            for name in factor_only:
                key = (("factor",) + mode[name], tuple(version.get(p, 0) for p in parents[name]))
                if drawn.get(name) != key:
                    frozen = _freeze(model.nodes[name].spec, ctx, node_rng(seed, chunk, "evidence:" + name), size)
                    factors[name] = frozen.prob_within(mode[name][1], mode[name][2])
                    drawn[name] = key
                    version[name] = version.get(name, 0) + 1  # its old values are stale now
            w = np.ones(size)
            for name in mode:
                if factors.get(name) is not None:
                    w *= factors[name]
            for rep in plain_reports:
                w *= rep.likelihood_from(model, arrays[rep.node])
            for ob in plan.cond.checks:
                w *= ob.holds(arrays[ob.node])
            w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
            worlds = Worlds(model, {k: arrays[k] for k in order if k in need}, w)
            plan.sum_w += float(w.sum())
            plan.sum_w2 += float((w * w).sum())
            for sink in (*plan.accs, *plan.sinks):
                sink.add(worlds, w)


# =========================================================================== forecasting as of a date


def check_as_of(model: Model, as_of) -> _dt.date:
    """An as-of date on or after the model's own ``as_of`` (the model cannot unknow its prior)."""
    if not isinstance(as_of, _dt.date):
        as_of = parse_date(as_of, None, ("--as-of",))
    if as_of < model.as_of:
        raise ParamsError(
            None, "--as-of",
            f"{as_of} is before the model's as_of ({model.as_of}): its numbers were chosen with what "
            "was public then, so it cannot forecast as of an earlier date",
        )
    return as_of


def is_open(question, as_of: _dt.date, resolved_on: _dt.date | None = None) -> bool:
    """Not closed (close >= as_of) and not resolved (resolved_on > as_of) at ``as_of``."""
    if question.close is not None and question.close < as_of:
        return False
    return resolved_on is None or resolved_on > as_of


def forecast_as_of(model: Model, questions: list, evidence: Evidence, as_of, *, samples=None, seed=None,
                   resolved_on: dict | None = None, chunk_size: int = CHUNK_SIZE):
    """Forecast the questions still open at ``as_of``, conditioned on the evidence public by then.

    Parameters
    ----------
    model : Model
    questions : list of Question
    evidence : Evidence
    as_of : datetime.date or str
        Items with ``public_on <= as_of`` are used, nothing later.
    samples, seed : int, optional
        Default to the model's.  The same seed at every date gives common random numbers.
    resolved_on : dict, optional
        Question id -> date its outcome became public; a question resolved on or before
        ``as_of`` is not forecast (nor is one that closed before ``as_of``).

    Returns
    -------
    scenarios.forecast.Forecast
        ``as_of`` is the conditioning date, ``ess`` the effective sample size.  With no evidence
        it equals :func:`scenarios.forecast.run_forecast` with the same seed.

    Raises
    ------
    EvidenceError
        When every world has weight 0 (the model rules the evidence out).
    """
    from .forecast import Forecast

    as_of = check_as_of(model, as_of)
    resolved_on = resolved_on or {}
    open_qs = [q for q in questions if is_open(q, as_of, resolved_on.get(q.id))]
    samples = model.samples if samples is None else samples
    seed = model.seed if seed is None else seed
    plan = Plan(as_of, evidence.conditioning(model, as_of), open_qs)
    run_plans(model, [plan], samples=samples, seed=seed, chunk_size=chunk_size)
    if not plan.ess > 0:
        raise EvidenceError(
            f"the evidence public by {as_of} ({', '.join(plan.cond.items)}) has probability 0 in all "
            f"{samples:,} worlds: the model rules it out. Check the observations against the model "
            "(a watched event that happened needs an observe: item), or widen the model"
        )
    return Forecast(
        model=model.name,
        params_files=[{"path": f, "sha256": model.doc.sha256.get(f)} for f in model.doc.files],
        samples=samples,
        seed=seed,
        as_of=as_of,
        questions=[acc.result(model.as_of) for acc in plan.accs],
        overrides=list(model.doc.overrides),
        ess=plan.ess,
    )
