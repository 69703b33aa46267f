"""Distributions of a node given its parents: the probability of an observed value in each world.

:func:`freeze` evaluates a node's spec in each world of a :class:`~scenarios.model.scenario.Context`
(its parents drawn, its parameters drawn once) and returns an object with ``cdf(t, left)`` =
P(X <= t) (or P(X < t)) and ``ppf(q)``, the left-continuous inverse, both per world.  From these
come :func:`node_likelihood`, P(node = value | parents), and for an event the probability of a
constraint ``lo < X <= hi`` and a draw given it (``prob_within`` / ``sample_within``).

Each factor is exact: categorical probabilities (constants, per-world expressions, dirichlet
weights, ``by`` cases), bernoulli ``p``, event days through the delay's CDF (every numeric family
with truncate, round, shift and clip) or the constant hazard of ``chance_per_month``, counted from
the event's start (as_of, a date, its ``after:`` event's day, or the latest or earliest of several
events' days with ``after: {all: [...]}`` / ``{any: [...]}``, already drawn), and 0/1 for
expressions.  A parameter drawn inline (an anonymous distribution inside a node) is drawn from a
stream of its own, which gives an unbiased estimate of the factor (still a correct importance
weight).

The predicates at the end say what a spec supports (an exact value with positive probability,
a category likelihood, a draw given a constraint); :mod:`scenarios.engine.evidence` uses them to refuse
observations the likelihood cannot be computed for.  :mod:`scenarios.engine.asof` uses the rest to
weight and draw worlds.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ScenarioError
from ..model.families.categorical import CategoricalSpec
from ..model.families.mixture import MixtureSpec
from ..model.scenario import (
    BySpec,
    ConstSpec,
    Context,
    EventSpec,
    ExprSpec,
    FamilySpec,
    Model,
    RefSpec,
    WhenSpec,
)

__all__ = [
    "freeze",
    "node_likelihood",
    "is_discrete",
    "is_random",
    "can_constrain",
    "supports_category",
]


# =========================================================================== frozen distributions


def _broadcast(x, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(x, dtype=float), (n,))


def _step(values, t, left: bool) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return np.asarray(v < t if left else v <= t, dtype=float)


class _Frozen:
    """A node's distribution in each of n worlds (parameters fixed)."""

    def cdf(self, t, left: bool = False) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def ppf(self, q: np.ndarray) -> np.ndarray:  # pragma: no cover - guarded by can_constrain()
        # specs without a closed-form inverse CDF (mixtures) are weighted by an indicator instead
        raise NotImplementedError("no inverse CDF")


class _Det(_Frozen):
    def __init__(self, values, n):
        self.values = _broadcast(values, n)

    def cdf(self, t, left=False):
        return _step(self.values, t, left)

    def ppf(self, q):
        return self.values.copy()


class _Family(_Frozen):
    """A registered family with its options (truncate, round, shift, clip): its own CDF and inverse."""

    def __init__(self, spec: FamilySpec, params: tuple, n: int):
        self.spec = spec
        self.params = tuple(_broadcast(p, n) for p in params)
        self.n = n

    def cdf(self, t, left=False):
        return self.spec.options.cdf(self.spec.family, self.params, _broadcast(t, self.n), left)

    def ppf(self, q):
        return self.spec.options.ppf(self.spec.family, self.params, _broadcast(q, self.n))


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


def freeze(spec, ctx: Context, rng, n: int) -> _Frozen:
    """A node's distribution in each of the ``n`` worlds of ``ctx``, given its parents there.

    Parameters drawn inside the spec are drawn once from ``rng``.  The result has
    ``cdf(t, left=False)`` and ``ppf(q)`` per world (an event also ``prob_within`` and
    ``sample_within``).
    """
    if isinstance(spec, ConstSpec):
        return _Det(float(spec.value), n)
    if isinstance(spec, RefSpec):
        return _Det(np.asarray(ctx.get(spec.name), dtype=float), n)
    if isinstance(spec, ExprSpec):
        return _Det(np.asarray(spec.sample(ctx, rng, n), dtype=float), n)
    if isinstance(spec, FamilySpec):
        return _Family(spec, tuple(p.sample(ctx, rng, n) for p in spec.params), n)
    if isinstance(spec, MixtureSpec):
        return _Mixture(spec.weights, [freeze(c, ctx, rng, n) for c in spec.components])
    if isinstance(spec, BySpec):
        codes = np.asarray(ctx.get(spec.by)).astype(np.int64)
        parts = []
        for code, case, _ in spec._plan:
            idx = np.flatnonzero(codes == code)
            if len(idx):
                parts.append((idx, freeze(case, ctx.sub(idx), rng, len(idx))))
        return _Cases(parts, n)
    if isinstance(spec, EventSpec):
        model = ctx.model
        p_when = np.ones(n) if spec.when is None else _prob_true(freeze(spec.when, ctx, rng, n))
        # as_of, a date, an event's day, or the latest / earliest of several (after: {all/any: [...]})
        start = np.array(_broadcast(spec.start(ctx), n))
        if spec.delay is not None:
            delay = freeze(spec.delay, ctx, rng, n)
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
        return spec.category_prob(ctx, rng, n, code)
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
    ctx : scenarios.model.scenario.Context
        The worlds, with the node's parents drawn.
    rng : numpy.random.Generator
        Draws only parameters given inline (an unbiased estimate of the likelihood).

    Examples
    --------
    For ``b ~ categorical {x: 0.8, y: 0.2}`` when ``a`` else ``{x: 0.1, y: 0.9}``, observing
    ``b = x`` weights a world with ``a`` true by 0.8 and one with ``a`` false by 0.1, so
    P(a | b = x) = 0.3 * 0.8 / (0.3 * 0.8 + 0.7 * 0.1) when P(a) = 0.3 (tested).

    A node with a node-level ``when:`` that is observed (true, false or a category) applies, so
    its likelihood is 0 in worlds where the condition is false, and P(value) as drawn elsewhere.
    """
    spec = model.nodes[name].spec
    if isinstance(spec, WhenSpec):
        # observed true, false or a category, the node applies: P = 0 where its when: is false
        on = spec.applicable(ctx)
        return np.where(on, _likelihood(spec.inner, model.kinds[name], value, ctx, rng), 0.0)
    return _likelihood(spec, model.kinds[name], value, ctx, rng)


def _likelihood(spec, kind, value, ctx: Context, rng) -> np.ndarray:
    """P(X = ``value`` | parents) per world for a node's spec ``spec`` of kind ``kind``."""
    n = ctx.n
    if kind.type == "category":
        return _category_prob(spec, ctx, rng, n, int(value))
    frozen = freeze(spec, ctx, rng, n)
    if kind.type == "event":
        return frozen.cdf(float(value)) - frozen.cdf(float(value) - 1.0)
    if kind.type == "bool":
        p = _prob_true(frozen)
        return p if value else 1.0 - p
    return frozen.cdf(float(value)) - frozen.cdf(float(value), left=True)


# =========================================================================== what a spec supports


def is_discrete(spec) -> bool:
    """Whether a number node puts its probability on separate values (so P(X = x) > 0 can be)."""
    if isinstance(spec, (ConstSpec, RefSpec, ExprSpec)):
        return True
    if isinstance(spec, FamilySpec):
        return spec.family.discrete or spec.options.round is not None
    if isinstance(spec, MixtureSpec):
        return all(is_discrete(c) for c in spec.components)
    if isinstance(spec, BySpec):
        return all(is_discrete(s) for _, s, _ in spec._plan)
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


def is_random(spec) -> bool:
    """Whether a node is drawn (not a constant, a reference or an expression of its parents)."""
    return not isinstance(spec, (ConstSpec, RefSpec, ExprSpec))


def can_constrain(spec) -> bool:
    """Whether a node is an event that can be drawn given a constraint ``lo < X <= hi``."""
    return isinstance(spec, EventSpec) and (spec.delay is None or _has_quantile(spec.delay))


def supports_category(spec) -> bool:
    """Whether P(X = category) can be computed: a categorical, a reference, or ``by`` cases of these."""
    if isinstance(spec, (CategoricalSpec, RefSpec)):
        return True
    if isinstance(spec, WhenSpec):
        return supports_category(spec.inner)
    if isinstance(spec, BySpec):
        return all(supports_category(s) for _, s, _ in spec._plan)
    return False
