"""Forecasting as of a date: one simulation of worlds, drawn and weighted by what was public then.

Forecasting as of D uses exactly the evidence items with ``public_on <= D`` (their
:class:`~scenarios.engine.evidence.Conditioning`): clamped nodes are fixed, constrained events are drawn
given their constraint, reported nodes are drawn as candidates of which one is kept, and a world's
weight is the product of one factor per observation and report (the probability of the observed
value given the world's parents, from :mod:`scenarios.engine.conditional`, or the likelihood of what was
said).  Forecasts are weighted shares of worlds, and the effective sample size
(sum w)^2 / sum w^2 says how many equally weighted worlds they are worth.

A :class:`Plan` is one as-of date with the questions to answer and other sinks (a backtest's
stores).  :func:`run_plans` simulates once for many plans: every node draws from the per-node
streams of :mod:`scenarios.engine.simulate`, so each date sees exactly the worlds a separate run with
the same seed would, unconditioned nodes are the same at every date (common random numbers) and
a node is drawn again only when its conditioning or a parent changed.  :func:`forecast_as_of` is
the one-date case and returns a :class:`~scenarios.engine.forecast.Forecast`.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import numpy as np

from ..errors import ParamsError
from ..model.kinds.statement import DAY as STATEMENT_DAY
from ..model.kinds.statement import VALUE as STATEMENT_VALUE
from ..model.scenario import Context, FlowSpec, Model, parse_date
from ..model.worlds import Worlds
from .conditional import freeze, node_likelihood
from .evidence import Conditioning, Evidence, EvidenceError, Item
from .forecast import Accumulator, Forecast, flow_months
from .memory import check_memory
from .simulate import CHUNK_SIZE, chunk_sizes, draw_node, months_needed, node_rng

__all__ = [
    "Plan",
    "run_plans",
    "forecast_as_of",
    "check_as_of",
    "factor_ess",
    "is_open",
    "REPORT_CANDIDATES",
    "DIAGNOSIS_WORLDS",
    "impossible_items",
    "impossible_evidence_error",
]

REPORT_CANDIDATES = 20
"""Draws of a reported node per world, one kept in proportion to the report likelihood."""


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
    factors: dict | None = None
    """None, or a dict to fill with each weight factor's sums (see :func:`factor_ess`)."""

    @property
    def ess(self) -> float:
        """Effective sample size (sum w)^2 / sum w^2 over all worlds."""
        return self.sum_w**2 / self.sum_w2 if self.sum_w2 > 0 else 0.0


_FREE = ("free",)


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
        stream = name if k == 0 else f"{name}#{k}"
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
        return draw_node(model, name, ctx, seed, chunk), None
    if mode[0] == "fixed":
        value = np.broadcast_to(mode[1], (n,)).copy()
        ctx.arrays[name] = value
        return value, node_likelihood(model, name, mode[1], ctx, node_rng(seed, chunk, "evidence:" + name))
    if mode[0] == "said":  # a statement known to have been made: its day and figure, not a draw
        value = np.array(draw_node(model, name, ctx, seed, chunk), dtype=float)
        value[:, STATEMENT_DAY], value[:, STATEMENT_VALUE] = mode[1], mode[2]
        return value, None
    if mode[0] == "within":
        frozen = freeze(spec, ctx, node_rng(seed, chunk, "evidence:" + name), n)
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
    :func:`scenarios.engine.simulate.simulate_chunks` (keyed by seed, chunk and node), so a plan sees
    exactly the worlds a separate run with the same seed would, and unconditioned nodes are the
    same worlds at every date (common random numbers).
    """
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
        plan.accs = [Accumulator(q, samples) for q in plan.questions]
        plan.sum_w = plan.sum_w2 = 0.0
    order = [name for name in model.nodes if name in model.ancestors(all_reads)]
    months = months_needed(model, {k: v for k, v in all_reads.items() if v is not None})
    check_memory(model, [q for plan in plans for q in plan.questions], samples, nodes=order, months=months,
                 chunk_size=chunk_size, weighted=True)
    for chunk, size in enumerate(chunk_sizes(samples, chunk_size)):
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
                    frozen = freeze(model.nodes[name].spec, ctx, node_rng(seed, chunk, "evidence:" + name), size)
                    factors[name] = frozen.prob_within(mode[name][1], mode[name][2])
                    drawn[name] = key
                    version[name] = version.get(name, 0) + 1  # its old values are stale now
            parts = [(name, factors[name]) for name in mode if factors.get(name) is not None]
            parts += [(f"report on {rep.node}", rep.likelihood_from(model, arrays[rep.node])) for rep in plain_reports]
            parts += [(f"check on {ob.node}", ob.holds(arrays[ob.node])) for ob in plan.cond.checks]
            w = np.ones(size)
            for label, f in parts:
                w *= f
                if plan.factors is not None:
                    _add_factor(plan.factors, label, f, size)
            w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
            worlds = Worlds(model, {k: arrays[k] for k in order if k in need}, w)
            plan.sum_w += float(w.sum())
            plan.sum_w2 += float((w * w).sum())
            for sink in (*plan.accs, *plan.sinks):
                sink.add(worlds, w)
            del worlds  # the next chunk's draws must not meet this one's still in memory


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
        the smallest share; labels are node names, ``"report on NODE"`` or ``"check on NODE"``.
    """
    as_of = check_as_of(model, as_of)
    plan = Plan(as_of, evidence.conditioning(model, as_of), factors={})
    run_plans(model, [plan], samples=samples, seed=seed, chunk_size=chunk_size)
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
    scenarios.engine.forecast.Forecast
        ``as_of`` is the conditioning date, ``ess`` the effective sample size.  With no evidence
        it equals :func:`scenarios.engine.forecast.run_forecast` with the same seed.

    Raises
    ------
    EvidenceError
        When every world has weight 0 (the model rules the evidence out).
    """
    as_of = check_as_of(model, as_of)
    resolved_on = resolved_on or {}
    open_qs = [q for q in questions if is_open(q, as_of, resolved_on.get(q.id))]
    samples = model.samples if samples is None else samples
    seed = model.seed if seed is None else seed
    plan = Plan(as_of, evidence.conditioning(model, as_of), open_qs)
    run_plans(model, [plan], samples=samples, seed=seed, chunk_size=chunk_size)
    if not plan.ess > 0:
        raise impossible_evidence_error(model, evidence, as_of, samples=samples, seed=seed, chunk_size=chunk_size)
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


# =========================================================================== evidence the model rules out

DIAGNOSIS_WORLDS = 20_000
"""At most this many worlds per trial when looking for the items that rule the evidence out."""


def _rules_out(model: Model, items: list, file, as_of: _dt.date, samples: int, seed: int, chunk_size: int) -> bool:
    """True when every one of ``samples`` worlds weighs 0 given ``items``."""
    plan = Plan(as_of, Evidence(tuple(items), file).conditioning(model, as_of))
    run_plans(model, [plan], samples=samples, seed=seed, chunk_size=chunk_size)
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
