"""Forecasting as of a date: one simulation of worlds, drawn and weighted by what was public then.

Forecasting as of D uses exactly the evidence items with ``public_on <= D`` (their
:class:`~scenarios.engine.evidence.Conditioning`): clamped nodes are fixed, constrained events are drawn
given their constraint, reported nodes are drawn as candidates of which one is kept, and a world's
weight is the product of one factor per observation and report (the probability of the observed
value given the world's parents, from :mod:`scenarios.engine.conditional`, or the likelihood of what was
said), claim and announcement (a function of the node's value).  Forecasts are weighted shares of
worlds, and the effective sample size (sum w)^2 / sum w^2 says how many equally weighted worlds
they are worth.

A :class:`Plan` is one as-of date with the questions to answer and other sinks (a backtest's
stores).  :func:`run_plans` simulates once for many plans: every node draws from the per-node
streams of :mod:`scenarios.engine.simulate`, so each date sees exactly the worlds a separate run with
the same seed would, unconditioned nodes are the same at every date (common random numbers) and
a node is drawn again only when its conditioning or a parent changed.  :func:`forecast_as_of` is
the one-date case and returns a :class:`~scenarios.engine.forecast.Forecast`.
"""

from __future__ import annotations

import copy
import datetime as _dt
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ParamsError
from ..model.kinds.statement import DAY as STATEMENT_DAY
from ..model.kinds.statement import VALUE as STATEMENT_VALUE
from ..model.scenario import Context, FlowSpec, Model, parse_date
from ..model.worlds import Worlds
from .checkpoint import ChainStore, engine_fingerprint, fingerprint, register
from .conditional import freeze, is_random, node_likelihood
from .evidence import Conditioning, Evidence, EvidenceError, Item
from .forecast import Accumulator, Forecast, flow_months
from .memory import check_plans_memory
from .occurrences import sample_given_counts
from .parallel import map_chunks
from .simulate import CHUNK_SIZE, chunk_sizes, draw_node, months_needed, node_rng
from .sinks import ChunkedSink
from .smc import (
    choose_rows,
    group_index,
    grouped_sum_squares,
    systematic_resample,
    take_rows,
)

__all__ = [
    "Plan",
    "run_plans",
    "forecast_as_of",
    "WorldsSink",
    "worlds_as_of",
    "check_as_of",
    "factor_ess",
    "is_open",
    "REPORT_CANDIDATES",
    "RESAMPLE_BELOW",
    "MOVE_ROUNDS",
    "ISLANDS",
    "DIAGNOSIS_WORLDS",
    "impossible_items",
    "impossible_evidence_error",
]

REPORT_CANDIDATES = 4
"""Draws of a reported node per world, one kept in proportion to the report likelihood.

With resample-move more do not pay: on params/base.yaml's backtest 20 candidates leave the same
lowest ESS as 4 (57% at 20,000 and 100,000 worlds) at 1.5 to 1.7 times the cost."""

RESAMPLE_BELOW = 0.5
"""A chunk's worlds are resampled and moved when their effective sample size falls below this share."""

MOVE_ROUNDS = 3
"""At most this many rounds of moves after resampling, each over the random nodes upstream of the
evidence that still need one (see :data:`UNMOVED_SHARE`)."""

UNMOVED_SHARE = 1 / 2
"""A node is moved again, round after round, while more than this share of the worlds never took
its proposal since they were resampled (so a node whose proposals are rarely accepted, one the
evidence informs much, is tried more often)."""

KEPT_STEPS = 4
"""With a store, a chunk's worlds are kept after this many evenly spaced steps of the chain (the
last one included): a run after a new evidence date continues from the last, one after an edit of
an earlier item from the last kept step before it."""

ISLANDS = 10
"""Independent populations a chunk's worlds are resampled in (fewer when a chunk has fewer than
100 worlds per island): each island resamples only its own worlds, so the islands' answers are
independent estimates and their spread is the Monte Carlo standard error of a forecast."""

MIN_ACCEPTANCE = 0.1
"""...unless fewer than this share of the worlds took its proposal in the last round: its
proposals then rarely fit the evidence and another round would cost a redraw of everything below
it for little."""


# =========================================================================== the conditioned simulation


@dataclass
class Plan:
    """One as-of date to simulate: its conditioning, the questions to answer and other sinks.

    A sink has ``add(worlds, weights)`` and ``reads`` (node -> last month for flows, or None);
    each chunk fills a copy of it, whose ``part()`` (what was added, picklable) the plan's own sink
    adds with ``merge(part)`` in chunk order (:class:`scenarios.engine.sinks.ChunkedSink` holds
    that for a sink that keeps an array per chunk).
    """

    as_of: _dt.date | None
    cond: Conditioning
    questions: list = field(default_factory=list)
    sinks: list = field(default_factory=list)
    accs: list = field(default_factory=list)
    sum_w: float = 0.0
    sum_w2: float = 0.0
    factors: dict | None = None
    """None, or a dict to fill with each weight factor's sums (see :func:`factor_ess`)."""
    smc: dict = field(default_factory=dict)
    """After the run: ``resamples`` (resampling steps so far, summed over chunks), ``distinct``
    (distinct worlds) and ``acceptance`` (share of moves accepted at this date, None: no move)."""

    @property
    def ess(self) -> float:
        """Effective sample size (sum w)^2 / sum w^2 over all worlds, copies of a world merged."""
        if not self.sum_w2 > 0:
            return 0.0
        try:
            return self.sum_w**2 / self.sum_w2
        except OverflowError:  # weights are densities: their scale is arbitrary
            return (self.sum_w / math.sqrt(self.sum_w2)) ** 2


_FREE = ("free",)
register(Accumulator)  # a chunk's part of a question's results can be kept (see checkpoint)


def _draw_reported(model, name, ctx, seed, chunk, n, reports, candidates, cache, tag=""):
    """Draw a reported node given its reports: ``candidates`` draws, one kept per world.

    Candidate k is kept with probability proportional to a score g_k (weighted reservoir
    sampling) and the world's weight is mean(g) * L(kept) / g(kept), a proper importance weight on
    the extended space of candidates, whatever the score.  For a Poisson flow the candidates are
    its monthly means (rates, ramp and start drawn, counts not): g is the report likelihood of
    the means, and the counts are drawn once for the kept means.  Other nodes are drawn whole and
    g is their likelihood (the weight is then the mean likelihood).

    ``cache`` keeps each candidate's likelihood product while the node's parents are unchanged
    and the worlds were neither resampled nor moved (the engine empties it then), so a new report
    costs one more factor; the candidates are drawn again from the streams they were first drawn
    from (``cache["tag"]``), so they are the same candidates.  ``tag`` suffixes every stream name
    (empty: the node's own streams).
    """
    spec = model.nodes[name].spec
    by_means = isinstance(spec, FlowSpec) and spec.count in ("poisson", "expected") and hasattr(spec, "expected_by_month")
    known = cache.get("reports", ())
    if reports[: len(known)] != known:
        known = ()
    tag = cache.get("tag", tag) if known else tag
    new = reports[len(known):]
    products = cache.get("g") if known else None
    products = list(products) if products is not None else [None] * candidates
    md = model.month_days
    total = np.zeros(n)
    g_kept = np.zeros(n)
    kept = None
    for k in range(candidates):
        stream = (name if k == 0 else f"{name}#{k}") + tag
        g = products[k] if products[k] is not None else np.ones(n)
        if by_means:
            value = spec.expected_by_month(ctx, node_rng(seed, chunk, stream), n)  # (months, n), C-contiguous
            if new:
                totals = _month_totals(value, [min(r.day // md, value.shape[0]) for r in new if r.series == "cumulative"])
                for rep in new:
                    g = g * rep.likelihood_of(rep.true_from_month_major(model, value, totals))
        else:
            value = draw_node(model, name, ctx, seed, chunk, stream=stream)
            for rep in new:
                g = g * rep.likelihood_from(model, value)
        products[k] = g
        g = np.where(np.isfinite(g) & (g > 0), g, 0.0)
        total += g
        if kept is None:
            kept, g_kept = np.array(value), g.copy()
            continue
        with np.errstate(invalid="ignore"):
            take = node_rng(seed, chunk, f"{name}#u{k}{tag}").random(n) * total < g
        if by_means:  # month-major: worlds are columns
            np.copyto(kept, value, where=take[None, :])
        else:
            np.copyto(kept, value, where=take.reshape((n,) + (1,) * (kept.ndim - 1)))
        np.copyto(g_kept, g, where=take)
    cache["reports"], cache["g"], cache["tag"] = reports, products, tag
    if by_means:
        kept = kept.T  # (n, months) view of the month-major means
    if by_means and spec.count == "poisson":
        kept = node_rng(seed, chunk, f"{name}#counts{tag}").poisson(kept.T).T.astype(np.float64)
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


def _draw(model, name, mode, ctx, seed, chunk, n, candidates, cache, tag=""):
    """One node's values and weight factor (None: no factor) under its conditioning mode.

    ``tag`` suffixes the names of the random streams (empty: the node's own streams, as a plain
    forecast draws it).
    """
    spec = model.nodes[name].spec
    if mode is _FREE:
        return draw_node(model, name, ctx, seed, chunk, stream=name + tag), None
    if mode[0] == "fixed":
        value = np.broadcast_to(mode[1], (n,)).copy()
        ctx.arrays[name] = value
        return value, node_likelihood(model, name, mode[1], ctx, node_rng(seed, chunk, "evidence:" + name + tag))
    if mode[0] == "said":  # a statement known to have been made: its day and figure, not a draw
        value = np.array(draw_node(model, name, ctx, seed, chunk, stream=name + tag), dtype=float)
        value[:, STATEMENT_DAY], value[:, STATEMENT_VALUE] = mode[1], mode[2]
        return value, None
    if mode[0] == "counts":  # a repeated event given bounds on its count of occurrences
        return sample_given_counts(spec, ctx, node_rng(seed, chunk, "counts:" + name + tag), n, mode[1])
    if mode[0] == "within":
        frozen = freeze(spec, ctx, node_rng(seed, chunk, "evidence:" + name + tag), n)
        u = node_rng(seed, chunk, "within:" + name + tag).random(n)
        return frozen.sample_within(mode[1], mode[2], u)
    return _draw_reported(model, name, ctx, seed, chunk, n, mode[1], candidates, cache, tag)


def _within_factor(model, name, mode, ctx, seed, chunk, n, tag=""):
    """The weight factor of a constrained event that nothing reads: P(lo < X <= hi | parents)."""
    frozen = freeze(model.nodes[name].spec, ctx, node_rng(seed, chunk, "evidence:" + name + tag), n)
    return frozen.prob_within(mode[1], mode[2])


@dataclass
class _Setup:
    """What one conditioning needs drawn, and how (computed once per run, used in every chunk)."""

    cond: Conditioning
    mode: dict
    need: set
    factor_only: list
    plain_reports: list
    movable: list
    weight_need: set


def _setup(model, cond: Conditioning, extra_reads: dict, parents: dict, read) -> _Setup:
    """The nodes a conditioning (and readers with ``extra_reads``) needs, and the nodes a move may redraw."""
    reads: dict = {}
    mode = cond.modes(model)
    for name, m in cond.reads(model).items():
        if mode.get(name, _FREE)[0] == "within":
            for ref in parents[name]:  # its weight needs only its parents
                read(reads, ref, None)
        else:
            read(reads, name, m)
    for claim in cond.factors_of_values:  # claims and schedules weigh the node's own value, a constrained event's too
        read(reads, claim.node, None)
    weight_need = model.ancestors(reads)
    for name, m in extra_reads.items():
        read(reads, name, m)
    need = model.ancestors(reads)
    factor_only = [name for name, md in mode.items() if md[0] == "within" and name not in need]
    movable = [  # from the evidence alone, so that moves do not depend on what else is read
        name for name in model.nodes
        if name in weight_need and is_random(model.nodes[name].spec)
        and mode.get(name, _FREE)[0] not in ("fixed", "said")
    ]
    # a constrained event that a reader needs is drawn with the weights (its draw gives its factor)
    weight_need |= {name for name, md in mode.items() if md[0] == "within" and name in need}
    return _Setup(cond, mode, need, factor_only, cond.plain_reports(model), movable, weight_need), reads


class _Worlds:
    """One chunk's worlds between as-of steps: values, weight factors and SMC bookkeeping.

    ``arrays`` hold every drawn node, ``drawn`` the (mode, parents' versions) each was drawn
    with, so a node is drawn again only when that changes.  A world's weight is ``scale * w``,
    with ``w`` the product of its factors under the last conditioning it was weighed with; scale
    is None (1) until the worlds are first resampled, so without resampling the weights are
    plain likelihood weights, bit for bit.  ``ids`` (None: all distinct) names each world's
    identity for the effective sample size: copies share it.
    """

    def __init__(self, model, n, seed, chunk):
        self.model, self.n, self.seed, self.chunk = model, n, seed, chunk
        self.arrays: dict = {}
        self.factors: dict = {}
        self.caches: dict = {}
        self.drawn: dict = {}
        self.version: dict = {}
        self.w = np.ones(n)
        self.scale: np.ndarray | None = None
        self.ids: np.ndarray | None = None
        self.resamples = 0
        self.generation = ""  # key of the step that last resampled
        count = max(1, min(ISLANDS, n // 100))
        self.island = np.arange(n, dtype=np.int64) * count // n  # contiguous islands of equal size
        self.island_starts = np.searchsorted(self.island, np.arange(count + 1))
        self.next_id = n

    def copy(self) -> _Worlds:
        out = _Worlds.__new__(_Worlds)
        out.__dict__.update(self.__dict__)
        out.arrays, out.factors, out.drawn, out.version = dict(self.arrays), dict(self.factors), dict(self.drawn), dict(self.version)
        out.caches = {k: dict(v) for k, v in self.caches.items()}
        return out

    def island_ess(self, weights: np.ndarray) -> float:
        """Sum over islands of each island's ESS (sum w)^2 / sum w^2: how uneven the weights are
        within islands (their totals are each island's own estimate of the evidence's probability)."""
        sums = np.bincount(self.island, weights=weights)
        squares = np.bincount(self.island, weights=weights * weights)
        with np.errstate(invalid="ignore", divide="ignore"):
            return float(np.where(squares > 0, sums * sums / squares, 0.0).sum())

    def weights(self) -> np.ndarray:
        """Each world's weight, shape (n,).

        Once resampled, every live island weighs the same in all: an island's total is its own
        estimate of the probability of the evidence since it was resampled, noisy from one island
        to the next, and letting it decide would leave a few islands to carry the forecast.  The
        chunk's total is kept, so chunks add up as in plain weighting.
        """
        if self.scale is None:
            return self.w
        with np.errstate(invalid="ignore", over="ignore"):
            w = self.scale * self.w
        w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
        totals = np.bincount(self.island, weights=w)
        live = totals > 0
        if live.sum() < 2:
            return w
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            factor = np.where(live, totals.sum() / live.sum() / totals, 0.0)
            return w * factor[self.island]

    def tag(self) -> str:
        """Stream suffix of draws: none until resampled (plain forecasts' streams), then the key of
        the step that last resampled, so draws between two resamplings share their streams
        (common random numbers) and never reuse numbers a copy of a world already used."""
        return "" if self.resamples == 0 else f"@{self.generation}"


class _Run:
    """Everything of one :func:`run_plans` call that does not depend on the chunk."""

    def __init__(self, model, order, months, parents, children, candidates, resample_below, move_rounds):
        self.model, self.order, self.months = model, order, months
        self.parents, self.children = parents, children
        self.candidates, self.resample_below, self.move_rounds = candidates, resample_below, move_rounds

    # ------------------------------------------------------------------ drawing and weighing

    def draw_needed(self, st: _Worlds, setup: _Setup, need: set, tag: str) -> None:
        """Draw every node in ``need`` whose conditioning or parents changed since it was drawn."""
        model, parents = self.model, self.parents
        ctx = Context(st.arrays, model.kinds, st.n, model)
        for name in self.order:
            if name not in need:
                continue
            mode_n = setup.mode.get(name, _FREE)
            key = (mode_n, tuple(st.version.get(p, 0) for p in parents[name]))
            if st.drawn.get(name) == key:
                continue
            if st.drawn.get(name) is None or st.drawn[name][1] != key[1]:
                st.caches[name] = {}  # report candidates depend on the parents
            ctx.months = self.months.get(name, model.horizon_months)
            st.arrays[name], st.factors[name] = _draw(
                model, name, mode_n, ctx, st.seed, st.chunk, st.n, self.candidates, st.caches.setdefault(name, {}), tag,
            )
            st.drawn[name] = key
            st.version[name] = st.version.get(name, 0) + 1
        for name in setup.factor_only:
            key = (("factor",) + setup.mode[name], tuple(st.version.get(p, 0) for p in parents[name]))
            if st.drawn.get(name) != key:
                st.factors[name] = _within_factor(model, name, setup.mode[name], ctx, st.seed, st.chunk, st.n, tag)
                st.drawn[name] = key
                st.version[name] = st.version.get(name, 0) + 1  # its old values are stale now

    def weigh(self, st: _Worlds, setup: _Setup, factors: dict, arrays: dict, record: dict | None = None) -> np.ndarray:
        """The product of a world's weight factors under ``setup`` (0 where not finite or negative)."""
        model = self.model
        parts = [(name, factors[name]) for name in setup.mode if factors.get(name) is not None]
        parts += [(f"report on {rep.node}", rep.likelihood_from(model, arrays[rep.node])) for rep in setup.plain_reports]
        parts += [(f"check on {ob.node}", ob.holds(arrays[ob.node])) for ob in setup.cond.checks]
        parts += [(claim.label, claim.likelihood(arrays[claim.node])) for claim in setup.cond.factors_of_values]
        w = np.ones(st.n)
        for label, f in parts:
            w *= f
            if record is not None:
                _add_factor(record, label, f, st.n)
        return np.where(np.isfinite(w) & (w > 0), w, 0.0)

    # ------------------------------------------------------------------ one step of the chain

    def step(self, st: _Worlds, setup: _Setup, key: str, stats: dict, record: dict | None = None) -> None:
        """Condition ``st`` on ``setup``: redraw, reweigh, and resample and move when the ESS is low.

        ``key`` names the step in the streams of its resampling and moves (its date; a branch's
        date with a mark, so that it never shares them with the chain's step at that date).
        """
        self.draw_needed(st, setup, setup.weight_need, st.tag())
        w_old = st.w
        st.w = self.weigh(st, setup, st.factors, st.arrays, record)
        if st.scale is not None:  # weight scale * w_old becomes scale * w_old * (w_new / w_old)
            st.scale = np.where(w_old > 0, st.scale, 0.0)  # a world ruled out stays out
        weights = st.weights()
        total = float(weights.sum())
        if self.resample_below <= 0 or not total > 0:
            return
        if st.island_ess(weights) >= self.resample_below * st.n:
            return
        self.resample(st, weights, key)
        stats["resamples"] = stats.get("resamples", 0) + 1
        tried = accepted = 0
        unmoved = {name: np.ones(st.n, dtype=bool) for name in setup.movable if name in st.arrays}
        for r in range(self.move_rounds):
            for name in list(unmoved):
                if name not in unmoved:
                    continue
                if unmoved[name].mean() <= UNMOVED_SHARE:  # renewed by moves of its ancestors
                    del unmoved[name]
                    continue
                moved = self.move(st, setup, name, f"@{key}~{name}~{r}")
                for b in self.affected(st, name):  # an accepted move redraws what it feeds too
                    if b in unmoved:
                        unmoved[b] &= ~moved
                tried, accepted = tried + st.n, accepted + int(moved.sum())
                if unmoved[name].mean() <= UNMOVED_SHARE or moved.mean() < MIN_ACCEPTANCE:
                    del unmoved[name]
        stats["tried"] = stats.get("tried", 0) + tried
        stats["accepted"] = stats.get("accepted", 0) + accepted
        # every world of a live island weighs the chunk's mean weight before resampling: the islands
        # then count equally, each a self-normalised estimate (weighing them by their own noisy
        # totals would leave a few islands to decide)
        live = np.bincount(st.island, weights=weights)[st.island] > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            st.scale = np.where(live & (st.w > 0), (total / st.n) / st.w, 0.0)

    def resample(self, st: _Worlds, weights: np.ndarray, key: str) -> None:
        """Replace each island's worlds by as many drawn from them in proportion to ``weights``
        (systematic resampling); an island whose worlds all weigh 0 keeps them."""
        starts = st.island_starts
        u = node_rng(st.seed, st.chunk, f"resample@{key}").random(len(starts) - 1)
        rows = np.arange(st.n, dtype=np.int64)
        for b, (lo, hi) in enumerate(zip(starts[:-1], starts[1:], strict=True)):
            if weights[lo:hi].sum() > 0:
                rows[lo:hi] = lo + systematic_resample(weights[lo:hi], float(u[b]))
        n = st.n
        st.arrays = {k: take_rows(v, rows, n) for k, v in st.arrays.items()}
        st.factors = {k: take_rows(v, rows, n) for k, v in st.factors.items()}
        st.w = st.w[rows]
        st.ids = (np.arange(n, dtype=np.int64) if st.ids is None else st.ids)[rows]
        st.caches = {}  # candidates were drawn for other worlds
        st.resamples += 1
        st.generation = key

    def move(self, st: _Worlds, setup: _Setup, name: str, tag: str) -> np.ndarray:
        """One Metropolis-Hastings move: redraw ``name`` and what it feeds from fresh streams.

        The proposal draws the node and every drawn node it affects (:meth:`affected`) under its
        conditioning from streams of their own (``tag``), as the worlds were first drawn; it leaves the worlds'
        distribution before weighting unchanged, so a world takes the proposal with probability
        min(1, w_new / w_old) and the weighted worlds' distribution stays invariant.  Returns
        which worlds moved, shape (n,).
        """
        model, n = self.model, st.n
        below = self.affected(st, name)
        block = [b for b in model.nodes if b in below and (b in st.arrays or b in setup.factor_only)]
        arrays = dict(st.arrays)
        factors = dict(st.factors)
        ctx = Context(arrays, model.kinds, n, model)
        for b in block:
            if b in setup.factor_only:
                factors[b] = _within_factor(model, b, setup.mode[b], ctx, st.seed, st.chunk, n, tag)
                continue
            mode_b = st.drawn[b][0]
            if mode_b[0] == "factor":  # stale values of a node only weighed now: nothing reads them
                continue
            ctx.months = self.months.get(b, model.horizon_months)
            arrays[b], factors[b] = _draw(model, b, mode_b, ctx, st.seed, st.chunk, n, self.candidates, {}, tag)
        w_new = self.weigh(st, setup, factors, arrays)
        u = node_rng(st.seed, st.chunk, "accept" + tag).random(n)
        accept = u * st.w < w_new
        if not accept.any():
            return accept
        for b in block:
            if b in st.arrays and arrays[b] is not st.arrays[b]:
                st.arrays[b] = choose_rows(accept, arrays[b], st.arrays[b], n)
            if b in factors and (factors[b] is not None or st.factors.get(b) is not None):
                st.factors[b] = choose_rows(accept, factors[b], st.factors.get(b), n)
            st.caches[b] = {}
        st.w = np.where(accept, w_new, st.w)
        st.ids = np.where(accept, st.next_id + np.arange(n), st.ids)
        st.next_id += n
        return accept

    def affected(self, st: _Worlds, name: str) -> set:
        """``name`` and the nodes whose values or factors change when it is redrawn: its
        descendants, except below an observed node (fixed to its value whatever its parents: its
        factor changes, what it feeds does not)."""
        out, stack = set(), [name]
        while stack:
            b = stack.pop()
            if b not in out:
                out.add(b)
                drawn = st.drawn.get(b)
                if b != name and drawn is not None and drawn[0][0] == "fixed":
                    continue
                stack.extend(self.children.get(b, ()))
        return out

    # ------------------------------------------------------------------ feeding a plan

    def feed(self, st: _Worlds, plan: _PlanPart, need: set, date, setup: _Setup, stats: dict) -> None:
        """Answer a plan's questions and sinks (its chunk's ``plan`` part) with the worlds of
        ``st`` (a copy: draws are dropped)."""
        self.draw_needed(st, setup, need, st.tag())
        w = st.weights()
        groups = group_index(st.ids, st.n)
        worlds = Worlds(self.model, {k: st.arrays[k] for k in self.order if k in need}, w)
        plan.sum_w += float(w.sum())
        plan.sum_w2 += grouped_sum_squares(w, groups)
        plan.smc["resamples"] += st.resamples
        plan.smc["distinct"] += st.n if groups is None else int(groups.max()) + 1
        plan.smc["tried"] += stats.get("tried", 0)
        plan.smc["accepted"] += stats.get("accepted", 0)
        islands = st.island if st.resamples else None
        for acc in plan.accs:
            acc.add(worlds, w, groups, islands)
        for sink in plan.sinks:
            sink.add(worlds, w)
        del worlds  # the next chunk's draws must not meet this one's still in memory


def run_plans(model: Model, plans: list, *, samples: int, seed: int, evidence: Evidence | None = None,
              chunk_size: int = CHUNK_SIZE, candidates: int = REPORT_CANDIDATES,
              resample_below: float | None = None, move_rounds: int | None = None,
              progress=None, pool=None, store: ChainStore | None = None) -> None:
    """Simulate once for all plans and feed each plan's questions and sinks.

    The worlds are conditioned step by step on the evidence: one step at each date an item of
    ``evidence`` became public (up to the last plan's date), taken in order, whatever the plans.
    A plan as of D gets the worlds after the last step on or before D, conditioned once more on
    its own conditioning when D is not such a date (a branch: its draws and moves are not kept).
    So a plan's forecast depends only on the evidence public by its date and on D, never on the
    other plans: the backtest's forecast as of D equals :func:`forecast_as_of` at D exactly.
    Without ``evidence`` every plan is conditioned in one step from the prior.

    At a step, each node whose conditioning or parents changed is drawn again and each world is
    weighed again; when a chunk's effective sample size falls below ``resample_below`` of its
    worlds they are resampled and moved (up to ``move_rounds`` rounds of :meth:`_Run.move` over
    the random nodes upstream of the evidence, see :data:`UNMOVED_SHARE`): resample-move
    sequential Monte Carlo (Gilks & Berzuini 2001; Chopin 2002; Del Moral, Doucet & Jasra 2006).  Until a chunk is first resampled every
    node draws from the per-node stream of :func:`scenarios.engine.simulate.simulate_chunks`
    (keyed by seed, chunk and node), so the numbers are exactly those of plain likelihood
    weighting, unconditioned nodes are the same worlds at every date and a forecast without
    evidence equals the plain forecast.  After, draws come from streams keyed by the step that
    last resampled as well.  ``resample_below`` and ``move_rounds`` default to :data:`RESAMPLE_BELOW` and
    :data:`MOVE_ROUNDS`; ``resample_below=0`` is plain likelihood weighting throughout.

    ``progress``, if given, is called as ``progress(done, total)`` each time a plan has been
    answered in a chunk: ``total`` is plans x chunks, ``done`` how many of those are answered.

    ``pool`` (an executor from :func:`scenarios.engine.parallel.executor`; None: this process)
    runs the chunks; their results are added in chunk order, so the numbers are the same, bit
    for bit, wherever the chunks ran.

    ``store`` (a :class:`~scenarios.engine.checkpoint.ChainStore`, None: nothing kept) keeps, per
    chunk, each plan's part of the results and the worlds after the chain's last step, under keys
    made of everything they depend on (the engine's code, the model, the evidence public by that
    date, seed, chunk, the plan's questions and sinks, the settings).  A later run takes what it
    finds and continues the chain from the last kept step on or before the first plan it must
    compute, so a run after one more evidence date computes one step; the numbers are those of a
    run from scratch, bit for bit.  A plan is kept only when its questions come from params (their
    ``raw``) and each sink has a ``key``.
    """
    resample_below = RESAMPLE_BELOW if resample_below is None else resample_below
    move_rounds = MOVE_ROUNDS if move_rounds is None else move_rounds
    parents = {name: tuple(node.spec.refs()) for name, node in model.nodes.items()}
    children: dict = {}
    for name, refs in parents.items():
        for ref in refs:
            children.setdefault(ref, []).append(name)
    all_reads: dict = {}

    def read(reads, name, month):
        for target in (reads, all_reads):
            if model.kinds[name].is_flow:
                m = model.horizon_months if month is None else month
                target[name] = max(target.get(name) or 0, m)
            else:
                target.setdefault(name, None)

    last = max((p.as_of for p in plans if p.as_of is not None), default=None)
    chain = []  # (date, setup) of each evidence date up to the last plan's
    if evidence is not None and last is not None:
        for d in evidence.dates():
            if d <= last:
                chain.append((d, _setup(model, evidence.conditioning(model, d), {}, parents, read)[0]))
    chain_at = {d: s for d, s in chain}
    plan_setups = []
    for plan in plans:
        extra: dict = {}
        fm = flow_months(model, plan.questions)
        for q in plan.questions:
            for name in q.refs:
                read(extra, name, fm.get(name))
        for sink in plan.sinks:
            for name, m in sink.reads.items():
                read(extra, name, m)
        setup, _ = _setup(model, plan.cond, extra, parents, read)
        on_chain = plan.as_of in chain_at and chain_at[plan.as_of].cond == plan.cond
        plan_setups.append((setup, on_chain))
        plan.accs = [Accumulator(q, samples) for q in plan.questions]
        plan.sum_w = plan.sum_w2 = 0.0
        plan.smc = {"resamples": 0, "distinct": 0, "tried": 0, "accepted": 0}
    order = [name for name in model.nodes if name in model.ancestors(all_reads)]
    months = months_needed(model, {k: v for k, v in all_reads.items() if v is not None})
    check_plans_memory(model, plans, samples, nodes=order, months=months, chunk_size=chunk_size,
                       modes=[s.mode for _, s in chain] + [s.mode for s, _ in plan_setups],
                       branch=not all(on_chain for _, on_chain in plan_setups), pool=pool, store=store is not None)
    run = _Run(model, order, months, parents, children, candidates, resample_below, move_rounds)
    # the sinks as they are now (empty), copied: the plans' own sinks take the chunks' parts as they come
    templates = copy.deepcopy([plan.sinks for plan in plans], {id(model): model})
    bases = [sum(1 for d, _ in chain if plan.as_of is not None and d <= plan.as_of) for plan in plans]
    chain_keys, plan_keys = _keys(model, plans, plan_setups, bases, chain, seed, months, candidates,
                                  resample_below, move_rounds) if store is not None else ([], [None] * len(plans))
    job = _Job(run, seed, chain, [
        _PlanJob(plan.as_of, plan.cond, plan.questions, sinks, plan.factors is not None, setup, on_chain, base, key)
        for plan, sinks, (setup, on_chain), base, key in zip(plans, templates, plan_setups, bases, plan_keys, strict=True)
    ], store, chain_keys)
    sizes = chunk_sizes(samples, chunk_size)
    total, reported = len(plans) * len(sizes), [0]

    def tick(done: int) -> None:
        if progress is not None and done > reported[0]:
            reported[0] = done
            progress(done, total)

    def here(job, chunk):  # in this process: progress plan by plan
        return _run_chunk(job, chunk, on_plan=lambda: tick(reported[0] + 1))

    for i, parts in enumerate(map_chunks(_run_chunk, job, list(enumerate(sizes)), pool, local=here)):
        for plan, part in zip(plans, parts, strict=True):
            part.merge_into(plan)
        tick((i + 1) * len(plans))
    for plan in plans:
        tried = plan.smc.pop("tried")
        accepted = plan.smc.pop("accepted")
        plan.smc["acceptance"] = accepted / tried if tried else None


@dataclass
class _PlanJob:
    """What a chunk needs of one plan (no results: each chunk fills parts of its own)."""

    as_of: _dt.date | None
    cond: Conditioning
    questions: list
    sinks: list
    factors: bool
    setup: _Setup
    on_chain: bool
    base: int = 0  # steps of the chain taken before this plan is answered
    key: str | None = None  # what its part is kept under (None: not kept)


@dataclass
class _Job:
    """What every chunk of a :func:`run_plans` call shares (sent once to each worker)."""

    run: _Run
    seed: int
    chain: list
    plans: list
    store: ChainStore | None = None
    chain_keys: list = field(default_factory=list)  # [i]: key of the worlds after i steps of the chain


@register
@dataclass
class _PlanPart:
    """One chunk's share of one plan's results, added to the plan in chunk order."""

    sum_w: float
    sum_w2: float
    smc: dict
    accs: list
    sinks: list
    factors: dict | None

    def merge_into(self, plan: Plan) -> None:
        plan.sum_w += self.sum_w
        plan.sum_w2 += self.sum_w2
        for k, v in self.smc.items():
            plan.smc[k] += v
        for acc, part in zip(plan.accs, self.accs, strict=True):
            acc.merge(part)
        for sink, part in zip(plan.sinks, self.sinks, strict=True):
            sink.merge(part)
        if self.factors is not None and plan.factors is not None:
            for label, (s, s2, size) in self.factors.items():
                mine = plan.factors.setdefault(label, [0.0, 0.0, 0])
                mine[0] += s
                mine[1] += s2
                mine[2] += size


def _run_chunk(job: _Job, chunk: tuple, on_plan=None) -> list:
    """Simulate one chunk ``(index, worlds)`` through the chain and answer every plan with it.

    Returns one :class:`_PlanPart` per plan.  Depends only on the job, the seed and the chunk's
    index, so any process may run it.  With a store, parts kept by an earlier run are taken as
    they are, and the chain starts from the last kept step it can (see :func:`run_plans`).
    """
    index, size = chunk
    run, model, chain, store = job.run, job.run.model, job.chain, job.store
    suffix = f"-{index}-{size}"
    kept = [store.get("p" + pj.key + suffix) if store is not None and pj.key else None for pj in job.plans]
    missing = [pj for pj, part in zip(job.plans, kept, strict=True) if part is None]
    state, stats_at, done = None, {}, 0
    if missing and store is not None:
        for steps in range(min(pj.base - (pj.factors and pj.on_chain) for pj in missing), 0, -1):  # the latest kept step that is early enough
            tree = store.get("s" + job.chain_keys[steps] + suffix)
            if tree is not None and (state := _state_from_tree(model, size, job.seed, index, chain[:steps], tree["worlds"])):
                done, stats_at = steps, {chain[steps - 1][0]: tree["stats"]}
                break
    resumed = done
    state = state or _Worlds(model, size, job.seed, index)
    last = max((pj.base for pj in missing), default=0)
    marks = {last * k // KEPT_STEPS for k in range(1, KEPT_STEPS + 1)}  # steps whose worlds are kept
    sinks = copy.deepcopy([pj.sinks for pj in job.plans], {id(model): model})  # empty: cheap
    parts = [
        part if part is not None else
        _PlanPart(0.0, 0.0, {"resamples": 0, "distinct": 0, "tried": 0, "accepted": 0},
                  [Accumulator(q, size) for q in pj.questions], fresh, {} if pj.factors else None)
        for pj, fresh, part in zip(job.plans, sinks, kept, strict=True)
    ]
    branch = None  # (date and conditioning, stats, worlds) of the last plan conditioned off the chain
    for pj, part, hit in zip(job.plans, parts, kept, strict=True):
        if hit is not None:
            if on_plan is not None:
                on_plan()
            continue
        setup, on_chain = pj.setup, pj.on_chain
        while done < pj.base:
            d, s = chain[done]
            stats_at[d] = {}
            run.step(state, s, str(d), stats_at[d], part.factors if (on_chain and d == pj.as_of) else None)
            done += 1
            if store is not None and done in marks and done > resumed:
                _keep_state(store, job.chain_keys[done] + suffix, state, chain[:done], stats_at[d])
        date = pj.as_of or model.as_of
        if on_chain:
            stats, base = stats_at[pj.as_of], state
        elif branch is not None and branch[0] == (date, pj.cond) and part.factors is None:
            _, stats, base = branch  # the same conditioning as the previous plan's: the same worlds
        else:
            stats, base = {}, state.copy()
            run.step(base, setup, f"{date}+", stats, part.factors)
            branch = ((date, pj.cond), stats, base)
        run.feed(base.copy(), part, setup.need, date, setup, stats)
        if on_plan is not None:
            on_plan()
    for pj, part, hit in zip(job.plans, parts, kept, strict=True):
        if hit is not None:
            continue
        for acc in part.accs:
            acc.q = None  # the plan's own accumulator keeps the question; the part carries numbers
        part.sinks = [sink.part() for sink in part.sinks]
        if store is not None and pj.key:
            store.put("p" + pj.key + suffix, part)
    return parts


# =========================================================================== keeping the chain


def _keep_state(store: ChainStore, key: str, st: _Worlds, steps: list, stats: dict) -> None:
    tree = _state_tree(st, steps)
    if tree is not None:
        store.put("s" + key, {"worlds": tree, "stats": stats})


def _keys(model, plans, plan_setups, bases, chain, seed, months, candidates, resample_below, move_rounds):
    """Store keys: of the worlds after each number of chain steps, and of each plan's part (None:
    a plan whose questions or sinks have no canonical form, never kept)."""
    run = fingerprint(engine_fingerprint(), model.doc.data, sorted(model.doc.sha256.values()), seed, months,
                      candidates, resample_below, move_rounds)
    chain_keys = [fingerprint(run, "prior")]
    for d, s in chain:
        chain_keys.append(fingerprint(chain_keys[-1], d, s.cond))
    plan_keys = []
    for plan, (_, on_chain), base in zip(plans, plan_setups, bases, strict=True):
        sink_keys = [getattr(sink, "key", None) for sink in plan.sinks]
        try:
            if any(k is None for k in sink_keys):
                raise TypeError("a sink without a key")
            plan_keys.append(fingerprint(
                chain_keys[base], plan.as_of, on_chain, None if on_chain else plan.cond, plan.factors is not None,
                [(q.id, q.type, q.open, q.close, q.raw) for q in plan.questions], sink_keys,
            ))
        except (TypeError, AttributeError):
            plan_keys.append(None)
    return chain_keys, plan_keys


def _mode_ref(modes: list, mode):
    """Where ``mode`` is in ``modes`` (a node's mode at each step of the chain so far), or None."""
    for j in range(len(modes) - 1, -1, -1):
        try:
            if modes[j] == mode:
                return j
        except (TypeError, ValueError):
            return None
    return None


def _state_tree(st: _Worlds, steps: list):
    """A chunk's worlds after ``steps`` of the chain as a tree of arrays and numbers (None: they
    hold something that cannot be written, and are not kept).  A node's drawing mode is written as
    the step whose conditioning gave it, and read back from that step."""
    drawn, caches = {}, {}
    for name, (mode, versions) in st.drawn.items():
        modes = [s.mode.get(name, _FREE) for _, s in steps]
        factor = mode[0] == "factor"
        j = _mode_ref(modes, mode[1:] if factor else mode)
        if j is None:
            return None
        drawn[name] = ["factor" if factor else "mode", j, list(versions)]
        cache = st.caches.get(name) or {}
        if cache:
            if factor or modes[j][0] != "reports" or cache.get("reports") != modes[j][1]:
                return None
            caches[name] = {"g": list(cache["g"]), "tag": cache["tag"]}
    return {
        "arrays": dict(st.arrays), "factors": dict(st.factors), "drawn": drawn, "caches": caches,
        "version": dict(st.version), "w": st.w, "scale": st.scale, "ids": st.ids, "resamples": st.resamples,
        "generation": st.generation, "next_id": st.next_id,
    }


def _state_from_tree(model, n, seed, chunk, steps: list, tree) -> _Worlds | None:
    """The worlds :func:`_state_tree` wrote (None: a tree that does not fit these steps)."""
    try:
        st = _Worlds(model, n, seed, chunk)
        for name, (how, j, versions) in tree["drawn"].items():
            mode = steps[j][1].mode.get(name, _FREE)
            st.drawn[name] = ((("factor",) + mode) if how == "factor" else mode, tuple(versions))
        for name, cache in tree["caches"].items():
            st.caches[name] = {"reports": st.drawn[name][0][1], "g": list(cache["g"]), "tag": cache["tag"]}
        st.arrays, st.factors, st.version = tree["arrays"], tree["factors"], tree["version"]
        st.w, st.scale, st.ids = tree["w"], tree["scale"], tree["ids"]
        st.resamples, st.generation, st.next_id = tree["resamples"], tree["generation"], tree["next_id"]
        if len(st.w) != n or any(len(v) != n for v in st.arrays.values()):
            return None
        return st
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _add_factor(sums: dict, label: str, f, size: int) -> None:
    f = np.broadcast_to(np.asarray(f, dtype=np.float64), (size,))
    f = np.where(np.isfinite(f) & (f > 0), f, 0.0)
    s = sums.setdefault(label, [0.0, 0.0, 0])
    s[0] += float(f.sum())
    s[1] += float((f * f).sum())
    s[2] += size


def factor_ess(model: Model, evidence: Evidence, as_of, *, samples: int, seed: int,
               chunk_size: int = CHUNK_SIZE) -> dict:
    """Where the effective sample size goes: the ESS share of each weight factor alone.

    A world's weight as of ``as_of`` is a product of factors, one per conditioned node (its
    observation's probability given the world's parents, a constrained event's probability of
    its interval, a reported node's mean candidate likelihood), one per plain report and one per
    check.  For each factor f this gives (sum f)^2 / (n sum f^2), the share of the ``samples``
    worlds that f alone would leave (1: f is the same in every world, so it teaches nothing
    about the world's other nodes; small: f varies a lot across worlds and drives the ESS down).
    The shares do not multiply to the share of the whole weight (the factors are correlated),
    but the smallest ones name the evidence that collapses likelihood weighting.

    Returns
    -------
    dict
        ``{"ess": share of the whole weight, "factors": {label: share}}``, factors sorted from
        the smallest share; labels are node names, ``"report on NODE"``, ``"check on NODE"``,
        ``"suggestion ITEM on NODE"`` or ``"schedule ITEM on NODE"``.
    """
    as_of = check_as_of(model, as_of)
    plan = Plan(as_of, evidence.conditioning(model, as_of), factors={})
    run_plans(model, [plan], samples=samples, seed=seed, chunk_size=chunk_size, resample_below=0.0)
    shares = {label: (s[0] ** 2 / s[1] / s[2] if s[1] > 0 else 0.0) for label, s in plan.factors.items()}
    return {"ess": plan.ess / samples, "factors": dict(sorted(shares.items(), key=lambda kv: kv[1]))}


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
                   resolved_on: dict | None = None, chunk_size: int = CHUNK_SIZE, pool=None, store=None):
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
    pool : Executor, optional
        Where the chunks run (:func:`scenarios.engine.parallel.executor`); the numbers are the same.
    store : ChainStore, optional
        Keeps the chain's worlds for the next run (see :func:`run_plans`); the numbers are the same.

    Returns
    -------
    scenarios.engine.forecast.Forecast
        ``as_of`` is the conditioning date, ``ess`` the effective sample size.  With no evidence
        it equals :func:`scenarios.engine.forecast.run_forecast` with the same seed.

    Raises
    ------
    EvidenceError
        When every world has weight 0 (the model rules the evidence out).
    """
    _, forecast = _run_as_of(model, questions, evidence, as_of, samples=samples, seed=seed, resolved_on=resolved_on,
                             chunk_size=chunk_size, pool=pool, store=store)
    return forecast


class WorldsSink(ChunkedSink):
    """Keeps the worlds of a plan (the arrays of ``nodes``, flows over the horizon) with their weights."""

    def __init__(self, model: Model, nodes):
        super().__init__()
        self.nodes = [name for name in model.nodes if name in set(nodes)]
        self.reads = {name: None for name in self.nodes}
        self.key = "worlds " + " ".join(self.nodes)  # what it keeps, for a chain store
        self.arrays: list = []

    def chunks(self) -> list:
        return self.arrays

    def add(self, worlds, weights):
        self.arrays.append({name: np.array(worlds[name]) for name in self.nodes})
        self.weights.append(np.array(weights, dtype=float))

    def worlds(self, model: Model) -> Worlds:
        """Every chunk's worlds in chunk order, with their weights (shape (n,))."""
        arrays = {name: np.concatenate([a[name] for a in self.arrays]) for name in self.nodes}
        return Worlds(model, arrays, np.concatenate(self.weights) if self.weights else np.ones(0))


def worlds_as_of(model: Model, questions: list, evidence: Evidence, as_of, *, samples=None, seed=None,
                 resolved_on: dict | None = None, nodes=None, chunk_size: int = CHUNK_SIZE, pool=None, store=None):
    """The worlds as of ``as_of`` (weighted by the evidence public by then) and the forecast of
    the questions still open, from one run: what :func:`forecast_as_of` answers, with the worlds
    kept for charts.

    ``nodes`` (default every node) are kept, flows over the whole horizon: about 8 bytes a world
    per node and per month of a flow.  Returns ``(Worlds, Forecast)``; the worlds' weights are
    those the forecast counts (copies of a world made by resampling are separate worlds).

    Raises
    ------
    EvidenceError
        When every world has weight 0 (the model rules the evidence out).
    """
    sink = WorldsSink(model, model.nodes if nodes is None else nodes)
    plan, forecast = _run_as_of(model, questions, evidence, as_of, samples=samples, seed=seed, resolved_on=resolved_on,
                                chunk_size=chunk_size, pool=pool, store=store, sinks=[sink])
    return plan.sinks[0].worlds(model), forecast


def _run_as_of(model: Model, questions: list, evidence: Evidence, as_of, *, samples, seed, resolved_on, chunk_size,
               pool, store, sinks=()) -> tuple[Plan, Forecast]:
    """One run of :func:`forecast_as_of` (and :func:`worlds_as_of`, which adds ``sinks``): the
    questions open at ``as_of`` and the sinks fed by worlds weighted by the evidence public by then.

    Returns the plan after the run and its forecast; raises :class:`EvidenceError` when every
    world has weight 0.
    """
    as_of = check_as_of(model, as_of)
    resolved_on = resolved_on or {}
    open_qs = [q for q in questions if is_open(q, as_of, resolved_on.get(q.id))]
    samples = model.samples if samples is None else samples
    seed = model.seed if seed is None else seed
    plan = Plan(as_of, evidence.conditioning(model, as_of), open_qs, list(sinks))
    run_plans(model, [plan], samples=samples, seed=seed, evidence=evidence, chunk_size=chunk_size, pool=pool,
              store=store)
    if not plan.ess > 0:
        raise impossible_evidence_error(model, evidence, as_of, samples=samples, seed=seed, chunk_size=chunk_size)
    forecast = Forecast(
        model=model.name,
        params_files=[{"path": f, "sha256": model.doc.sha256.get(f)} for f in model.doc.files],
        samples=samples,
        seed=seed,
        as_of=as_of,
        questions=[acc.result(model.as_of) for acc in plan.accs],
        overrides=list(model.doc.overrides),
        ess=plan.ess,
    )
    return plan, forecast


# =========================================================================== evidence the model rules out

DIAGNOSIS_WORLDS = 20_000
"""At most this many worlds per trial when looking for the items that rule the evidence out."""


def _rules_out(model: Model, items: list, file, as_of: _dt.date, samples: int, seed: int, chunk_size: int) -> bool:
    """True when every one of ``samples`` worlds weighs 0 given ``items``."""
    plan = Plan(as_of, Evidence(tuple(items), file).conditioning(model, as_of))
    run_plans(model, [plan], samples=samples, seed=seed, chunk_size=chunk_size, resample_below=0.0)
    return not plan.ess > 0


def impossible_items(model: Model, evidence: Evidence, as_of: _dt.date, *, samples: int, seed: int,
                     chunk_size: int = CHUNK_SIZE) -> tuple[list[Item], bool]:
    """The evidence items public by ``as_of`` that the model rules out.

    Returns
    -------
    items : list of Item
        Every item that alone gives all worlds weight 0; when there is none, a smallest set that
        does together (each of its items is needed: dropping any one leaves worlds with weight),
        found by dropping items one at a time.  Empty when the items together are possible in
        these worlds.
    alone : bool
        Whether ``items`` are each impossible alone.

    One simulation of ``min(samples, DIAGNOSIS_WORLDS)`` worlds per trial (about two per item),
    with the same seed, so this is a cost paid only once a forecast has failed.
    """
    n = min(samples, DIAGNOSIS_WORLDS)
    items = evidence.public_by(as_of)
    alone = [it for it in items if _rules_out(model, [it], evidence.file, as_of, n, seed, chunk_size)]
    if alone:
        return alone, True
    if not _rules_out(model, items, evidence.file, as_of, n, seed, chunk_size):
        return [], False
    needed = list(items)
    for it in items:
        rest = [x for x in needed if x is not it]
        if rest and _rules_out(model, rest, evidence.file, as_of, n, seed, chunk_size):
            needed = rest
    return needed, False


def impossible_evidence_error(model: Model, evidence: Evidence, as_of: _dt.date, *, samples: int, seed: int,
                              chunk_size: int = CHUNK_SIZE) -> EvidenceError:
    """The error for evidence public by ``as_of`` that gives every one of ``samples`` worlds weight 0,
    naming the items that rule it out (see :func:`impossible_items`)."""
    culprits, alone = impossible_items(model, evidence, as_of, samples=samples, seed=seed, chunk_size=chunk_size)
    where = f"{evidence.file}: " if evidence.file else ""
    head = (
        f"{where}the evidence public by {as_of} ({_count(len(evidence.public_by(as_of)), 'item')}) has probability 0 in all "
        f"{samples:,} worlds: the model rules it out. "
    )
    names = ", ".join(f"{it.id!r} (public {it.public_on}{', key ' + it.where if it.where else ''})" for it in culprits)
    if culprits and alone:
        why = f"Item{'s' if len(culprits) > 1 else ''} ruled out on {'their' if len(culprits) > 1 else 'its'} own: {names}. "
    elif culprits:
        why = f"No item is ruled out on its own; together these are: {names}. "
    else:
        why = f"With {min(samples, DIAGNOSIS_WORLDS):,} worlds no item or set of items is ruled out: use more --samples. "
    return EvidenceError(
        head + why + "Check those observations against the model (a watched event that happened needs an "
        "observe: item), or widen the model"
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
