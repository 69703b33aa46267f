"""The model graph: compile a params document into typed nodes in dependency order.

Validation happens here, at the edge: every spec is checked for known keys (with a "did you
mean"), types, ranges, categories and references before anything is simulated, and each error
names the file, the key path, the bad value and what was expected.  The compiled specs then
sample without re-checking (except values that only exist per world, checked when drawn).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import families
from . import kinds as node_kinds
from .expressions import ExpressionError, ExpressionValueError, parse_expression
from .families import Composite, Family, Options
from .families.categorical import NOT_APPLICABLE
from .families.options import ROUNDING
from .families.poisson import POISSON_MAX
from .params import ParamsDoc
from .schema import (
    IDENTIFIER,
    Location,
    check_choice,
    check_date,
    check_keys,
    check_mapping,
    check_name,
    check_number,
    check_pair,
    check_text,
    describe,
    did_you_mean,
    excerpt,
)
from .spec import BOOL, EVENT, FLOW, NUMBER, Context, Kind, ModelRuntimeError, Spec, refs_of

__all__ = ["AfterEvents", "Kind", "Model", "NodeDef", "WhenSpec", "build_model", "event_hint", "Context", "parse_date", "did_you_mean", "ModelRuntimeError"]

TOP_KEYS = (
    "model", "description", "as_of", "horizon_months", "month_days", "seed", "samples",
    "nodes", "questions", "evidence", "resolutions", "series", "note", "source", "extends", "report",
)
META_KEYS = ("note", "source")
TRANSFORM_KEYS = ("truncate", "round", "shift", "clip")
STRUCTURE_KEYS = ("expr", "event", "flow", "by") + node_kinds.keys()
"""Node kinds that are not a distribution family (families: :func:`kind_keys`; the newer ones
live one module each in :mod:`scenarios.model.kinds`)."""


def kind_keys() -> tuple:
    """Every key that names a node's kind: the registered families, then the structures."""
    return families.keys() + STRUCTURE_KEYS
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_HORIZON_MONTHS = 1200


def parse_date(value: Any, doc: ParamsDoc | None, path: tuple, *, file: str | None = None) -> _dt.date:
    """An ISO date from YAML (already a date, or a 'YYYY-MM-DD' string); see :func:`check_date`."""
    at = Location.of(doc, path) if doc is not None else Location(file, tuple(map(str, path)))
    return check_date(value, at)


@dataclass
class ConstSpec(Spec):
    value: float
    path: tuple = ()

    def kind(self, kinds, doc):
        return BOOL if isinstance(self.value, bool) else NUMBER

    def sample(self, ctx, rng, n):
        return self.value

    def static_value(self):
        return self.value


@dataclass
class RefSpec(Spec):
    name: str
    path: tuple = ()

    def refs(self):
        return {self.name: self.path}

    def kind(self, kinds, doc):
        return kinds[self.name]

    def sample(self, ctx, rng, n):
        return ctx.get(self.name)


@dataclass
class ExprSpec(Spec):
    expression: Any
    path: tuple = ()

    def refs(self):
        return {name: self.path for name in self.expression.names}

    def kind(self, kinds, doc):
        for name, cat in self.expression.string_comparisons():
            k = kinds.get(name)
            if k is None or k.type != "category":
                raise doc.error(self.path, f"{excerpt(name)} is not a categorical node; cannot compare it with {excerpt(cat)}")
            if cat not in k.categories:
                raise doc.error(
                    self.path,
                    f"unknown category {excerpt(cat)} of {excerpt(name)}; expected one of {list(k.categories)}"
                    + did_you_mean(cat, k.categories),
                )
        try:
            result = self.expression.result_type(kinds)
        except ExpressionError as exc:
            raise doc.error(self.path, str(exc)) from None
        if any(kinds[nm].is_flow for nm in self.expression.names):
            return FLOW
        return BOOL if result == "bool" else NUMBER

    def sample(self, ctx, rng, n):
        try:
            out = self.expression.evaluate(ctx.get_trimmed, ctx.categories)
        except ExpressionValueError as exc:
            raise ModelRuntimeError(ctx.model.doc.origin(self.path), ".".join(self.path), str(exc)) from None
        if np.ndim(out) == 0:
            out = np.full(n, out)
        return out


@dataclass
class FamilySpec(Spec):
    """A draw from a registered distribution family (:mod:`scenarios.model.families`)."""

    family: Family
    params: tuple  # of Spec, in the family's parameter order
    path: tuple = ()
    options: Options = field(default_factory=Options)
    checks: tuple = ()  # indices of parameters that vary between worlds and have a bounded domain

    def refs(self):
        out = {}
        for p in self.params:
            out.update(p.refs())
        return out

    def kind(self, kinds, doc):
        for p, name in zip(self.params, self.family.params):
            k = p.kind(kinds, doc)
            if k.type not in ("number", "bool"):
                raise doc.error(p.path, f"parameter {name} must be a per-world number, got a {k.type} node")
        return BOOL if self.family.boolean else NUMBER

    def sample(self, ctx, rng, n):
        values = tuple(p.sample(ctx, rng, n) for p in self.params)
        for i in self.checks:
            v, name = values[i], self.family.params[i]
            domain = self.family.domain(name)
            if np.ndim(v):
                bad = domain.outside(v)
                if bad.any():
                    example = float(np.asarray(v)[bad][0])
                    must = f"lie in {domain}" if math.isfinite(example) or not domain.finite else "be a finite number"
                    raise self._error(
                        ctx, f"parameter {name} must {must} in every world, got {excerpt(example)} in "
                        f"{int(bad.sum())} of {n} worlds",
                    )
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # what overflows is refused below
                x = self.options.sample(self.family, rng, n, values)
        except (ValueError, OverflowError) as exc:  # numpy refusing a parameter: too large to draw
            raise self._error(ctx, f"cannot draw from {self.family.name}: {exc}") from None
        if x.dtype != bool and not np.isfinite(x).all():
            bad = ~np.isfinite(x)
            raise self._error(
                ctx,
                f"draws are not finite numbers (overflow: a parameter too large) in {int(bad.sum())} of {n} worlds, "
                f"e.g. {excerpt(float(x[bad][0]))}; keep the values of a {self.family.name} below about 1e300",
            )
        return x

    def _error(self, ctx, message: str) -> ModelRuntimeError:
        return ModelRuntimeError(ctx.model.doc.origin(self.path), ".".join(self.path), message)


@dataclass
class BySpec(Spec):
    by: str
    cases: dict  # case label (str) -> Spec
    default: Spec | None = None
    path: tuple = ()
    _plan: Any = None
    not_applicable: bool = False  # ``by`` is a node with a node-level when: (n/a worlds: default)

    def refs(self):
        out = {self.by: self.path + ("by",)}
        for c in list(self.cases.values()) + ([self.default] if self.default else []):
            out.update(c.refs())
        return out

    def kind(self, kinds, doc):
        k = kinds[self.by]
        if k.type == "bool":
            labels = ("false", "true")
        elif k.type == "category":
            labels = k.categories
        else:
            raise doc.error(self.path + ("by",), f"expected a boolean or categorical node, {excerpt(self.by)} is a {k.type} node")
        for label in self.cases:
            if label not in labels:
                raise doc.error(
                    self.path + ("cases", label),
                    f"{excerpt(self.by)} has no category {excerpt(label)}; expected one of {list(labels)}"
                    + did_you_mean(label, labels),
                )
        missing = [c for c in labels if c not in self.cases]
        if missing and self.default is None:
            raise doc.error(self.path + ("cases",), f"no case for {missing} of {excerpt(self.by)}; add them or a default")
        case_specs = [(code, self.cases.get(label, self.default)) for code, label in enumerate(labels)]
        if self.not_applicable and k.type == "category":  # worlds where the node does not apply
            if self.default is None:
                raise doc.error(
                    self.path + ("by",),
                    f"{excerpt(self.by)} is not applicable where its when: condition is false (it takes none "
                    f"of its categories there); add a default: case for those worlds",
                )
            case_specs.append((NOT_APPLICABLE, self.default))
        case_kinds = [s.kind(kinds, doc) for _, s in case_specs]
        types = {ck.type for ck in case_kinds}
        if types == {"category"}:
            cats: list = []
            for ck in case_kinds:
                cats += [c for c in ck.categories if c not in cats]
            result = Kind("category", tuple(cats))
            remaps = [np.array([cats.index(c) for c in ck.categories]) for ck in case_kinds]
        elif "category" in types or "vector" in types:
            raise doc.error(self.path + ("cases",), "cases must all be categorical or all numeric")
        elif types <= {"number", "bool"}:
            result = BOOL if types == {"bool"} else NUMBER
            remaps = [None] * len(case_kinds)
        elif types <= {"event", "number"}:
            result = EVENT
            remaps = [None] * len(case_kinds)
        elif "flow" in types:
            result = FLOW
            remaps = [None] * len(case_kinds)
        else:
            raise doc.error(self.path + ("cases",), f"cases mix incompatible kinds {sorted(types)}")
        self._plan = [(code, s, rm) for (code, s), rm in zip(case_specs, remaps)]
        self._result = result
        return result

    def sample(self, ctx, rng, n):
        codes = np.asarray(ctx.get(self.by)).astype(np.int64)
        if (codes < 0).any() and not any(code == NOT_APPLICABLE for code, _, _ in self._plan):
            raise ModelRuntimeError(  # a copy of a node with when: (by: reads it directly: checked on load)
                ctx.model.doc.origin(self.path), ".".join(self.path + ("by",)),
                f"{excerpt(self.by)} is not applicable in {int((codes < 0).sum())} of {n} worlds (where a "
                "when: condition is false); add a default: case for those worlds",
            )
        result = self._result
        if result.type == "flow":
            out = np.zeros((n, ctx.months))
        elif result.type == "category":
            out = np.zeros(n, dtype=np.int64)
        elif result.type == "bool":
            out = np.zeros(n, dtype=bool)
        else:
            out = np.zeros(n)
        for code, spec, remap in self._plan:
            idx = np.flatnonzero(codes == code)
            if not len(idx):
                continue
            values = spec.sample(ctx.sub(idx), rng, len(idx))
            if remap is not None:  # a category case; a node that does not apply stays so
                values = np.where(np.asarray(values) == NOT_APPLICABLE, NOT_APPLICABLE, remap[values])
            if result.type == "flow" and np.ndim(values) < 2:
                values = np.asarray(values)[..., None] if np.ndim(values) else values
            out[idx] = values
        return out


def event_hint(model: Model, name: str) -> str:
    """For a number node computed from event days (``max(a, b)``) read where an event is expected:
    how to write it as an event (``after: {all: [...]}`` or ``{any: [...]}``); else ``''``."""
    spec = model.nodes[name].spec
    events = [n for n in getattr(getattr(spec, "expression", None), "names", ()) if model.kinds[n].type == "event"]
    if not isinstance(spec, ExprSpec) or not events:
        return ""
    listed = ", ".join(sorted(events)[:4]) + (", ..." if len(events) > 4 else "")
    return (
        f"; an expression of event days is a number, not an event: for the later of several events write "
        f"{excerpt(name)} as event: {{after: {{all: [{listed}]}}}}, for the earlier {{any: [...]}}"
    )


def _check_when(when, kinds, doc, path) -> None:
    """``when:`` reads a boolean: a number (even 0/1) is an error, not "non-zero is true"."""
    if when is None:
        return
    k = when.kind(kinds, doc)
    if k.type != "bool":
        what = f"{excerpt(when.name)} is a {k.type} node" if isinstance(when, RefSpec) else f"got a {k.type} value"
        raise doc.error(
            path + ("when",),
            f"expected a boolean (true/false) value, {what}; compare it to make one, e.g. when: \"x > 0\"",
        )


WHEN_KINDS = ("bernoulli", "categorical")
"""Node kinds that take a node-level ``when:`` (not applicable where it is false)."""


@dataclass
class WhenSpec(Spec):
    """A boolean or categorical node that only applies where its ``when:`` condition holds.

    ``inner`` (the node's spec without ``when:``) is drawn in every world from the node's own
    random numbers, exactly as it would be without ``when:``; then, where the condition is false,
    the node is *not applicable*: a boolean holds false and a categorical
    :data:`~scenarios.model.families.categorical.NOT_APPLICABLE` (no category).  So in every world
    where the condition holds its value is the one the node without ``when:`` has there.  The
    condition (a boolean node or an expression of nodes, no draw of its own) is a function of the
    world, so :meth:`applicable` recomputes it from the drawn nodes
    (:meth:`scenarios.model.worlds.Worlds.applicable`).
    """

    inner: Spec
    when: Spec  # a RefSpec to a boolean node or a boolean ExprSpec
    path: tuple = ()
    _na: Any = False

    def refs(self):
        return refs_of((self.inner, self.when), {})

    def kind(self, kinds, doc):
        _check_when(self.when, kinds, doc, self.path)
        k = self.inner.kind(kinds, doc)
        if k.type not in ("bool", "category"):  # pragma: no cover - WHEN_KINDS are checked on compile
            raise doc.error(self.path + ("when",), f"when: goes with a boolean or categorical node, not a {k.type} node")
        self._na = NOT_APPLICABLE if k.type == "category" else False
        return k

    def applicable(self, ctx) -> np.ndarray:
        """Whether the node applies in each of the ``ctx.n`` worlds of ``ctx``, shape (n,), bool."""
        return np.broadcast_to(np.asarray(self.when.sample(ctx, None, ctx.n), dtype=bool), (ctx.n,))

    def sample(self, ctx, rng, n):
        values = np.array(np.broadcast_to(self.inner.sample(ctx, rng, n), (n,)))
        values[~self.applicable(ctx)] = self._na
        return values


AFTER_JOINS = ("all", "any")
"""The keys of ``after: {all: [...]}`` (the latest of the events' days) / ``{any: [...]}`` (the earliest)."""


@dataclass(frozen=True)
class AfterEvents:
    """``after: {all: [a, b, ...]}`` or ``after: {any: [...]}``: an event counted from several events.

    ``all`` starts from the latest of the events' days (never if any of them never happens),
    ``any`` from the earliest (never only if none of them happens).  Nothing is drawn.
    """

    how: str  # "all" or "any"
    names: tuple  # event node names, in file order

    def start(self, ctx) -> np.ndarray:
        """The start day in each world of ``ctx``: max (all) or min (any) of the events' days."""
        join = np.maximum if self.how == "all" else np.minimum
        days = [np.asarray(ctx.get(name), dtype=float) for name in self.names]
        out = days[0]
        for d in days[1:]:
            out = join(out, d)
        return out


@dataclass
class EventSpec(Spec):
    when: Spec | None
    after: Any  # None, node name (str), a day number (float) or AfterEvents
    delay: Spec | None
    chance_per_month: Spec | None
    path: tuple = ()

    def refs(self):
        if isinstance(self.after, AfterEvents):
            names = {self.path + ("after", self.after.how, str(i)): name for i, name in enumerate(self.after.names)}
        else:
            names = {self.path + ("after",): self.after if isinstance(self.after, str) else None}
        return refs_of((self.when, self.delay, self.chance_per_month), names)

    def start(self, ctx):
        """The day the delay counts from: 0 (as_of), a date's day, or per world an event's day
        (the latest or earliest of several with ``after: {all/any: [...]}``; inf: never)."""
        if self.after is None:
            return 0.0
        if isinstance(self.after, str):
            return ctx.get(self.after)
        if isinstance(self.after, AfterEvents):
            return self.after.start(ctx)
        return float(self.after)

    def preceding(self) -> tuple:
        """Events that have happened by the day this one happens: its ``after:`` event, or each
        of ``after: {all: [...]}`` (the delay is >= 0); none for ``any``, which needs only one."""
        if isinstance(self.after, str):
            return (self.after,)
        if isinstance(self.after, AfterEvents) and self.after.how == "all":
            return self.after.names
        return ()

    def kind(self, kinds, doc):
        _check_when(self.when, kinds, doc, self.path)
        if isinstance(self.after, str) and kinds[self.after].type != "event":
            raise doc.error(self.path + ("after",), f"expected an event node, {excerpt(self.after)} is a {kinds[self.after].type} node")
        if isinstance(self.after, AfterEvents):
            for i, name in enumerate(self.after.names):
                if kinds[name].type != "event":
                    raise doc.error(
                        self.path + ("after", self.after.how, str(i)),
                        f"expected an event node, {excerpt(name)} is a {kinds[name].type} node "
                        f"(after: {{{self.after.how}: [...]}} lists events, each with an event: spec)",
                    )
        for s, name in ((self.delay, "delay"), (self.chance_per_month, "chance_per_month")):
            if s is not None and s.kind(kinds, doc).type not in ("number", "event"):
                raise doc.error(self.path + (name,), "expected a per-world number")
        return EVENT

    def sample(self, ctx, rng, n):
        model = ctx.model
        if self.delay is not None:
            delay = np.broadcast_to(self.delay.sample(ctx, rng, n), (n,)).astype(float)
            if not (delay >= 0).all():  # NaN too (inf is never)
                raise ModelRuntimeError(
                    model.doc.origin(self.path), ".".join(self.path + ("delay",)),
                    "a delay must be non-negative (days) in every world",
                )
        else:
            p = np.broadcast_to(self.chance_per_month.sample(ctx, rng, n), (n,)).astype(float)
            if ((p < 0) | (p > 1) | np.isnan(p)).any():
                raise ModelRuntimeError(
                    model.doc.origin(self.path), ".".join(self.path + ("chance_per_month",)),
                    "expected a probability in [0, 1] in every world",
                )
            with np.errstate(divide="ignore"):
                daily_rate = -np.log1p(-p) / model.month_days
            e = rng.standard_exponential(n)
            with np.errstate(divide="ignore", invalid="ignore"):
                delay = np.where(daily_rate > 0, e / daily_rate, np.inf)
        day = self.start(ctx) + delay
        if self.when is not None:
            day = np.where(np.broadcast_to(self.when.sample(ctx, rng, n), (n,)).astype(bool), day, np.inf)
        return np.where(day > model.horizon_days, np.inf, day)


@dataclass
class FlowSpec(Spec):
    """A flow: per-month counts over the horizon, shape (n, months).

    ``initial`` (>= 0, finite, default 0) is the level its running total starts from at as_of
    (what was counted before it, for a series counted from an earlier date); the per-month
    counts do not depend on it.  Read it through :meth:`Model.flow_initial`.
    """

    rate: Spec
    ramp: Spec | None = None
    start: str | None = None
    start_month: Spec | None = None
    when: Spec | None = None
    count: str = "poisson"
    path: tuple = ()
    initial: float = 0.0

    def refs(self):
        out = {}
        for s in (self.rate, self.ramp, self.start_month, self.when):
            if s is not None:
                out.update(s.refs())
        if self.start is not None:
            out[self.start] = self.path + ("start",)
        return out

    def kind(self, kinds, doc):
        if self.rate.kind(kinds, doc).type not in ("number", "flow"):
            raise doc.error(self.path + ("rate",), "expected a per-world number (count per month)")
        if self.start is not None and kinds[self.start].type != "event":
            raise doc.error(self.path + ("start",), f"expected an event node, {excerpt(self.start)} is a {kinds[self.start].type} node")
        for s, name in ((self.ramp, "ramp_months"), (self.start_month, "start_month")):
            if s is not None and s.kind(kinds, doc).type != "number":
                raise doc.error(self.path + (name,), "expected a per-world number")
        _check_when(self.when, kinds, doc, self.path)
        return FLOW

    def expected_by_month(self, ctx, rng, n) -> np.ndarray:
        """Per-month Poisson means, month-major: shape (months, n), C-contiguous.

        Month-major so that drawing fewer months leaves the earlier months' draws unchanged.
        """
        model = ctx.model
        n_months = ctx.months
        rate = self.rate.sample(ctx, rng, n)
        rate = np.asarray(rate, dtype=float)
        if rate.ndim == 2:
            rate = rate[:, :n_months].T
        if not ((rate >= 0) & (rate < np.inf)).all():  # NaN and inf too
            bad = ~((rate >= 0) & (rate < np.inf))
            raise ModelRuntimeError(
                model.doc.origin(self.path), ".".join(self.path + ("rate",)),
                f"a rate must be a finite number >= 0 in every world, got {excerpt(float(rate[bad].flat[0]))}",
            )
        first = None  # first active month per world (1-based); None = month 1 everywhere
        if self.start is not None:
            s = ctx.get(self.start)
            with np.errstate(invalid="ignore"):
                first = np.maximum(1.0, np.where(np.isfinite(s), np.ceil(s / model.month_days), np.inf))
        if self.start_month is not None:
            sm = np.ceil(np.broadcast_to(self.start_month.sample(ctx, rng, n), (n,)).astype(float))
            if np.isnan(sm).any():
                raise ModelRuntimeError(
                    model.doc.origin(self.path), ".".join(self.path + ("start_month",)),
                    "start_month must be a month number >= 1 (or inf: never) in every world, got NaN",
                )
            first = sm if first is None else np.maximum(first, sm)
        months = np.arange(1, n_months + 1, dtype=float)[:, None]
        # k = 1 in the first active month, <= 0 before it
        k = np.repeat(months, n, axis=1) if first is None else months - (first - 1.0)[None, :]
        if self.ramp is not None:
            ramp = np.broadcast_to(self.ramp.sample(ctx, rng, n), (n,)).astype(float)
            if not (ramp > 0).all():  # NaN too
                raise ModelRuntimeError(
                    model.doc.origin(self.path), ".".join(self.path + ("ramp_months",)),
                    "ramp_months must be positive in every world",
                )
            np.divide(k, ramp[None, :], out=k)
            np.clip(k, 0.0, 1.0, out=k)
        else:
            k = (k >= 1).astype(float)
        mean = k
        np.multiply(mean, rate if rate.ndim != 1 else rate[None, :], out=mean)
        if self.when is not None:
            on = np.broadcast_to(self.when.sample(ctx, rng, n), (n,)).astype(bool)
            np.multiply(mean, on[None, :], out=mean)
        if self.count == "poisson" and not (mean <= POISSON_MAX).all():  # too large for numpy's draws
            bad = ~(mean <= POISSON_MAX)
            raise ModelRuntimeError(
                model.doc.origin(self.path), ".".join(self.path + ("rate",)),
                f"the expected count per month must be at most {POISSON_MAX:g} (the largest numpy draws) in "
                f"every world, got {excerpt(float(mean[bad].flat[0]))} in {int(bad.any(axis=0).sum())} of {n} worlds",
            )
        return mean

    def sample(self, ctx, rng, n):
        mean = self.expected_by_month(ctx, rng, n)
        if self.count == "expected":
            return mean.T
        return rng.poisson(mean).T  # (n, months) view of month-major draws


# --------------------------------------------------------------------------- compile


@dataclass
class NodeDef:
    name: str
    spec: Spec
    kind: Kind
    note: str | None = None
    source: str | None = None
    raw: Any = None


@dataclass
class Model:
    """A validated model: nodes in dependency order plus its calendar."""

    name: str
    as_of: _dt.date
    horizon_months: int
    month_days: int
    seed: int
    samples: int
    nodes: dict  # name -> NodeDef, in dependency order
    doc: ParamsDoc
    description: str = ""
    questions_raw: Any = None
    evidence_raw: Any = None
    kinds: dict = field(default_factory=dict)

    @property
    def horizon_days(self) -> int:
        return self.horizon_months * self.month_days

    @property
    def order(self) -> list[str]:
        return list(self.nodes)

    def day_of(self, date: _dt.date) -> int:
        """Days from ``as_of`` to ``date`` (model day numbers: as_of + 1 day is day 1)."""
        return (date - self.as_of).days

    def flow_initial(self, name: str) -> float:
        """Level the running total of flow ``name`` starts from at as_of: its ``initial:``
        (0 for a flow without one, an expression of flows, or a node that is not a flow)."""
        return float(getattr(self.nodes[name].spec, "initial", 0.0)) if self.kinds[name].is_flow else 0.0

    def ancestors(self, names, *, stop=()) -> set:
        """Every node that ``names`` read, transitively (including themselves), not looking past
        the nodes in ``stop`` (they are included; what they read is not followed)."""
        stop = set(stop)
        out: set = set()
        stack = list(names)
        while stack:
            name = stack.pop()
            if name in out:
                continue
            out.add(name)
            if name not in stop:
                stack.extend(self.nodes[name].spec.refs())
        return out


class _Compiler:
    def __init__(self, doc: ParamsDoc, node_names):
        self.doc = doc
        self.node_names = list(node_names)
        self.nodes_raw = node_names if isinstance(node_names, dict) else {}  # by: a node with when:

    def at(self, path) -> Location:
        return Location.of(self.doc, path)

    def err(self, path, msg):
        return self.at(path).error(msg)

    # values ----------------------------------------------------------------
    def value(self, raw, path, *, lo=None, hi=None, lo_open=False, what="a number", finite=True):
        """A value: a number, a node, an expression or a distribution.

        A number must be finite unless ``finite=False`` (where ``inf`` means "never": an event's
        delay, a publication lag, a first month, a value that may be an event's day).
        """
        if isinstance(raw, bool) or isinstance(raw, (int, float)):
            number = check_number(raw, self.at(path), what=what, lo=lo, hi=hi, lo_open=lo_open, finite=finite)
            return ConstSpec(float(number), path)
        if isinstance(raw, str):
            text = raw.strip()
            if NAME_RE.match(text) and text not in ("inf", "never", "True", "False"):
                self.check_ref(text, path)
                return RefSpec(text, path)
            try:
                expression = parse_expression(text)
            except ExpressionError as exc:
                raise self.err(path, str(exc)) from None
            for name in expression.names:
                self.check_ref(name, path)
            if not expression.names and not expression.string_comparisons():
                try:
                    expression.result_type({})
                except ExpressionError as exc:
                    raise self.err(path, str(exc)) from None
                constant = expression.evaluate(lambda name: None, lambda name: None)  # checked when parsed
                if np.ndim(constant) == 0 and isinstance(constant, (int, float, np.number)) and not isinstance(constant, (bool, np.bool_)):
                    return self.value(float(constant), path, lo=lo, hi=hi, lo_open=lo_open, what=what, finite=finite)
            return ExprSpec(expression, path)
        if isinstance(raw, dict):
            return self.spec(raw, path)
        raise self.err(path, f"expected {what}, a node name, an expression or a distribution, got {describe(raw)}")

    def boolean(self, raw, path):
        if isinstance(raw, bool):
            return ConstSpec(raw, path)
        return self.value(raw, path, what="a boolean", finite=False)

    def check_ref(self, name, path):
        check_name(name, self.at(path), self.node_names, what="node")

    def number(self, raw, path, *, what="a number", lo=None, hi=None, lo_open=False, integer=False):
        """A plain number (finite) at ``path``."""
        return check_number(raw, self.at(path), what=what, lo=lo, hi=hi, lo_open=lo_open, integer=integer)

    def pair(self, raw, path, *, what, allow_null=False):
        return check_pair(raw, self.at(path), what=what, allow_null=allow_null)

    def mapping(self, raw, path, allowed, required=(), what="a mapping"):
        return check_keys(raw, self.at(path), allowed, required=required, what=what)

    # specs -----------------------------------------------------------------
    def spec(self, raw, path) -> Spec:
        if isinstance(raw, dict) and "when" in raw:
            return self.applies_when(raw, path)
        # a bare number or expression may be an event's day (a by: case, a mixture component):
        # ``never`` (inf) is a value here; where a number must be finite its reader says so
        if isinstance(raw, bool) or isinstance(raw, (int, float)):
            return self.value(raw, path, finite=False)
        if isinstance(raw, str):
            return self.value(raw, path, finite=False)
        check_mapping(raw, self.at(path), what="a distribution or node spec")
        all_kinds = kind_keys()
        kinds = [k for k in raw if k in all_kinds]
        unknown = [k for k in raw if k not in all_kinds + TRANSFORM_KEYS + META_KEYS + ("cases", "default")]
        if unknown:
            k = unknown[0]
            raise self.err(
                path + (k,),
                f"unknown key {excerpt(k)}; expected a distribution ({', '.join(all_kinds)}) or an option "
                f"({', '.join(TRANSFORM_KEYS + META_KEYS)})" + did_you_mean(k, all_kinds + TRANSFORM_KEYS + ("when",)),
            )
        if not kinds:
            raise self.err(path, f"expected one of {', '.join(all_kinds)}, found none")
        if len(kinds) > 1:
            raise self.err(path, f"expected exactly one of {', '.join(all_kinds)}, found {kinds}")
        kind = kinds[0]
        if kind != "by" and any(k in raw for k in ("cases", "default")):
            raise self.err(path + ("cases",), "'cases' and 'default' go with 'by'")
        transforms = {k: raw[k] for k in TRANSFORM_KEYS if k in raw}
        body = raw[kind]
        p = path + (kind,)
        family = families.get(kind)
        if not (isinstance(family, Family) and not family.passthrough) and transforms:
            raise self.err(path + (next(iter(transforms)),), f"option not supported with {kind}")
        if kind == "expr":
            if not isinstance(body, str):
                raise self.err(p, f"expected an expression string, got {describe(body)}")
            spec = self.value(body, p, finite=False)
            if isinstance(spec, ConstSpec):
                return spec
            if isinstance(spec, RefSpec):
                return ExprSpec(parse_expression(spec.name), p)
            return spec
        if kind == "event":
            return self.event(body, p)
        if kind == "flow":
            return self.flow(body, p)
        if kind == "by":
            return self.by(raw, path)
        if kind in node_kinds.COMPILERS:
            return node_kinds.COMPILERS[kind](body, p, self)
        if isinstance(family, Composite):
            return family.compile(body, self.at(p), self)
        return self.family(family, body, p, transforms, path)

    def applies_when(self, raw, path) -> WhenSpec:
        """A bernoulli or categorical node with ``when:``: not applicable where the condition is false."""
        at = path + ("when",)
        if len(path) != 2 or path[0] != "nodes":
            raise self.err(at, "when: (where a node applies) goes on a node's own spec (nodes.NAME.when), not "
                               "inside another spec; make this a node of its own")
        kinds = [k for k in raw if k in kind_keys()]
        if len(kinds) == 1 and kinds[0] not in WHEN_KINDS:
            inside = f"; an {kinds[0]} takes when: inside its spec ({kinds[0]}: {{when: ...}})" if kinds[0] in ("event", "flow") else ""
            raise self.err(at, f"when: (not applicable where a condition is false) goes with a bernoulli or "
                               f"categorical node, not {excerpt(kinds[0])}{inside}")
        options = [k for k in TRANSFORM_KEYS if k in raw]
        if options:
            raise self.err(path + (options[0],), f"option not supported with when: (a {' or '.join(WHEN_KINDS)} node)")
        inner = self.spec({k: v for k, v in raw.items() if k != "when"}, path)
        cond = raw["when"]
        expected = "a boolean node or an expression of nodes (e.g. when: treaty_signed, when: \"a and not b\")"
        if isinstance(cond, bool):
            raise self.err(at, f"expected {expected}, got {describe(cond)}, the same in every world; "
                               "drop when: (true) or the node (false)")
        if not isinstance(cond, str) or not cond.strip():
            raise self.err(at, f"expected {expected}, got {describe(cond)}")
        when = self.value(cond, at, what="a boolean", finite=False)
        if not isinstance(when, (RefSpec, ExprSpec)) or not when.refs():
            raise self.err(at, f"expected {expected}, got {excerpt(cond)}, which reads no node (the same in every world)")
        return WhenSpec(inner, when, path)

    def family(self, family: Family, body, p, transforms, path) -> Spec:
        """A registered family's spec (it reads its own parameters), then the options."""
        params = family.parse(body, self.at(p), self)
        if family.passthrough:
            return params[0]
        checks = tuple(
            i for i, (param, name) in enumerate(zip(params, family.params))
            if not isinstance(param, ConstSpec) and family.domain(name).bounded
        )
        return FamilySpec(family, params, path, self.options(family, transforms, path), checks)

    def options(self, family: Family, transforms: dict, path) -> Options:
        truncate = round_ = shift = clip = None
        if "truncate" in transforms:
            if not family.truncatable:
                names = [f.key for f in families.REGISTRY.values() if isinstance(f, Family) and f.truncatable and f.key == f.name]
                raise self.err(path + ("truncate",), f"truncate works with {', '.join(names)}, not {family.name}")
            truncate = self.pair(transforms["truncate"], path + ("truncate",), what="bounds", allow_null=True)
        if "round" in transforms:
            round_ = check_choice(transforms["round"], self.at(path + ("round",)), ROUNDING, what="floor, ceil or nearest")
        if "shift" in transforms:
            shift = float(self.number(transforms["shift"], path + ("shift",)))
        if "clip" in transforms:
            clip = self.pair(transforms["clip"], path + ("clip",), what="bounds", allow_null=True)
        return Options(truncate, round_, shift, clip)

    # the parameter reader a family parses its spec with (families.ParamReader)
    def param(self, raw, at: Location, domain) -> Spec:
        lo = domain.lo if domain.lo > -math.inf else None
        hi = domain.hi if domain.hi < math.inf else None
        return self.value(raw, at.path, lo=lo, hi=hi, lo_open=domain.lo_open, what=domain.what, finite=domain.finite)

    def constant(self, value, at: Location) -> Spec:
        return ConstSpec(value, at.path)

    def static(self, param: Spec):
        return param.static_value()

    # and what composite families (categorical, dirichlet, mixture) compile with
    def nested(self, raw, at: Location) -> Spec:
        """Any spec (a number, a node, an expression, a distribution) at ``at``."""
        return self.spec(raw, at.path)

    def node(self, name, at: Location) -> str:
        """``name`` if it names a node of the model (else an error with a did-you-mean)."""
        self.check_ref(name, at.path)
        return name

    def categories(self, body, at: Location) -> tuple:
        """Category names from the keys of ``body`` (true/false read as 'true'/'false')."""
        return self.category_names(body, at.path)

    def category_names(self, body, p):
        for k in body:
            if not isinstance(k, (str, bool, int)) or isinstance(k, float):
                raise self.err(p + (str(k),), f"category names must be plain words, got {describe(k)}")
        return tuple(str(k).lower() if isinstance(k, bool) else str(k) for k in body)

    def by(self, raw, path):
        self.mapping(raw, path, ("by", "cases", "default") + META_KEYS, ("by", "cases"))
        by = raw["by"]
        if not isinstance(by, str) or not NAME_RE.match(by):
            raise self.err(path + ("by",), f"expected the name of a boolean or categorical node, got {describe(by)}")
        self.check_ref(by, path + ("by",))
        cases_raw = raw["cases"]
        if not isinstance(cases_raw, dict) or not cases_raw:
            raise self.err(path + ("cases",), f"expected a mapping of case: spec, got {describe(cases_raw)}")
        labels = self.category_names(cases_raw, path + ("cases",))
        cases = {
            label: self.spec(cases_raw[k], path + ("cases", label)) for k, label in zip(cases_raw, labels)
        }
        default = self.spec(raw["default"], path + ("default",)) if "default" in raw else None
        by_raw = self.nodes_raw.get(by)
        return BySpec(by, cases, default, path, not_applicable=isinstance(by_raw, dict) and "when" in by_raw)

    def event(self, body, p):
        self.mapping(body, p, ("when", "after", "delay", "chance_per_month"))
        joined = isinstance(body.get("after"), dict)
        after = None
        if "after" in body:
            a = body["after"]
            if isinstance(a, str) and NAME_RE.match(a):
                self.check_ref(a, p + ("after",))
                after = a
            elif joined:
                after = self.after_events(a, p + ("after",))
            elif isinstance(a, list):
                raise self.err(
                    p + ("after",),
                    f"expected an event node, a date, {{all: [events]}} or {{any: [events]}}, got {describe(a)}; "
                    "write after: {all: [...]} for the latest of several events or {any: [...]} for the earliest",
                )
            else:
                date = parse_date(a, self.doc, p + ("after",))
                after = float(self.as_of_days(date))
        if ("delay" in body and "chance_per_month" in body) or not (joined or "delay" in body or "chance_per_month" in body):
            raise self.err(
                p, "expected exactly one of 'delay' and 'chance_per_month' (both may be left out only with "
                "after: {all: [...]} or {any: [...]}: the event then happens on that day)",
            )
        when = self.boolean(body["when"], p + ("when",)) if "when" in body else None
        if "delay" in body:
            delay = self.value(body["delay"], p + ("delay",), lo=0, what="a delay (days)", finite=False)
        else:  # after: {all/any: [...]} alone: on the day itself (nothing drawn)
            delay = ConstSpec(0.0, p + ("delay",)) if "chance_per_month" not in body else None
        chance = (
            self.value(body["chance_per_month"], p + ("chance_per_month",), lo=0, hi=1, what="a probability")
            if "chance_per_month" in body else None
        )
        return EventSpec(when, after, delay, chance, p)

    def after_events(self, raw, p) -> AfterEvents:
        """``after: {all: [a, b, ...]}`` (the latest of the events) or ``{any: [...]}`` (the earliest)."""
        expected = "{all: [events]} (the latest of them) or {any: [events]} (the earliest)"
        self.mapping(raw, p, AFTER_JOINS, what=expected)
        if len(raw) != 1:
            got = "both" if raw else "an empty mapping"
            raise self.err(p, f"expected one of all (the latest of the events) and any (the earliest), got {got}")
        ((how, names),) = raw.items()
        at = p + (how,)
        if not isinstance(names, list) or not names:
            raise self.err(at, f"expected a non-empty list of event node names, got {describe(names)}")
        for i, name in enumerate(names):
            if not isinstance(name, str) or not NAME_RE.match(name):
                raise self.err(at + (str(i),), f"expected the name of an event node, got {describe(name)}")
            self.check_ref(name, at + (str(i),))
            if name in names[:i]:
                raise self.err(at + (str(i),), f"{excerpt(name)} is listed twice")
        return AfterEvents(how, tuple(names))

    def choice(self, raw, path, options, *, what=None):
        return check_choice(raw, self.at(path), options, what=what)

    def event_name(self, raw, path) -> str:
        """``raw`` if it names a node (its kind, an event, is checked when kinds are known)."""
        if not isinstance(raw, str) or not NAME_RE.match(raw):
            raise self.err(path, f"expected the name of an event node, got {describe(raw)}")
        self.check_ref(raw, path)
        return raw

    def day(self, raw, path) -> float:
        """Model day (days after as_of) of the ISO date ``raw``."""
        return float(self.as_of_days(parse_date(raw, self.doc, path)))

    def as_of_days(self, date):
        return (date - self.as_of).days

    def flow(self, body, p):
        self.mapping(body, p, ("rate", "ramp_months", "start", "start_month", "when", "count", "initial"), ("rate",))
        rate = self.value(body["rate"], p + ("rate",), lo=0, what="a rate per month")
        ramp = self.value(body["ramp_months"], p + ("ramp_months",), lo=0, lo_open=True, what="a number of months") if "ramp_months" in body else None
        start = None
        if "start" in body:
            s = body["start"]
            if not isinstance(s, str) or not NAME_RE.match(s):
                raise self.err(p + ("start",), f"expected the name of an event node, got {describe(s)}")
            self.check_ref(s, p + ("start",))
            start = s
        start_month = self.value(body["start_month"], p + ("start_month",), lo=1, what="a month number >= 1", finite=False) if "start_month" in body else None
        when = self.boolean(body["when"], p + ("when",)) if "when" in body else None
        count = check_choice(body.get("count", "poisson"), self.at(p + ("count",)), ("poisson", "expected"), what="poisson or expected")
        initial = self.flow_initial(body["initial"], p) if "initial" in body else 0.0
        return FlowSpec(rate, ramp, start, start_month, when, count, p, initial)

    def flow_initial(self, raw, p) -> float:
        """A flow's ``initial:``: one number >= 0 (a count made before as_of), on a node's own flow."""
        at = self.at(p + ("initial",))
        if len(p) != 3 or p[0] != "nodes":  # a running total belongs to a node: not inside by:, cases or a rate
            raise at.error("initial: goes on a node's own flow: (nodes.NAME.flow.initial), not on a flow inside "
                           "another spec; move it there")
        return float(check_number(raw, at, what="a level at as_of (a count >= 0, e.g. initial: 1200)", lo=0, finite=True))


def _toposort(specs: dict, doc: ParamsDoc) -> list[str]:
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done
    for root in specs:
        if state.get(root) == 2:
            continue
        stack = [(root, iter(specs[root].refs()))]
        trail = [root]
        state[root] = 1
        while stack:
            name, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                trail.pop()
                state[name] = 2
                order.append(name)
                continue
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt):] + [nxt]
                raise doc.error(("nodes", name), f"cycle in node references: {' -> '.join(cycle)}")
            if state.get(nxt) is None:
                state[nxt] = 1
                trail.append(nxt)
                stack.append((nxt, iter(specs[nxt].refs())))
    return order


def build_model(doc: ParamsDoc) -> Model:
    """Validate a layered params document and compile it into a :class:`Model`.

    Raises
    ------
    ParamsError
        For any problem, naming file, key path, bad value and what was expected.
    """
    data = doc.data
    root = Location.of(doc)
    check_keys(data, root, TOP_KEYS)
    for key in ("as_of", "horizon_months", "nodes"):
        if key not in data:
            raise root.error(f"missing required key {key!r}")
    as_of = check_date(data["as_of"], root.key("as_of"))
    c = _Compiler(doc, [])
    horizon = int(c.number(data["horizon_months"], ("horizon_months",), what=f"a whole number of months in [1, {MAX_HORIZON_MONTHS}]", lo=1, hi=MAX_HORIZON_MONTHS, integer=True))
    month_days = int(c.number(data.get("month_days", 30), ("month_days",), what="a whole number of days in [1, 366]", lo=1, hi=366, integer=True))
    seed = int(c.number(data.get("seed", 0), ("seed",), what="a whole number >= 0", lo=0, hi=2**63 - 1, integer=True))
    samples = int(c.number(data.get("samples", 10000), ("samples",), what="a whole number of worlds in [1, 100000000]", lo=1, hi=100_000_000, integer=True))
    for key in ("model", "description", "note", "source"):
        if key in data:
            check_text(data[key], root.key(key))
    nodes_raw = check_mapping(data["nodes"], root.key("nodes"), what="a mapping of node name: spec", nonempty=True)
    for name in nodes_raw:
        if not IDENTIFIER.fullmatch(name):
            raise root.key("nodes", name).error(f"node names must be identifiers (letters, digits, _), got {excerpt(name)}")
    c = _Compiler(doc, nodes_raw)
    c.as_of = as_of
    specs, meta = {}, {}
    for name, raw in nodes_raw.items():
        path = ("nodes", name)
        note = source = None
        if isinstance(raw, dict):
            note, source = raw.get("note"), raw.get("source")
            for key, val in (("note", note), ("source", source)):
                if val is not None:
                    check_text(val, c.at(path + (key,)))
        specs[name] = c.spec(raw, path)
        meta[name] = (note, source, raw)
    order = _toposort(specs, doc)
    kinds: dict[str, Kind] = {}
    nodes = {}
    for name in order:
        kinds[name] = specs[name].kind(kinds, doc)
        note, source, raw = meta[name]
        nodes[name] = NodeDef(name, specs[name], kinds[name], note, source, raw)
    return Model(
        name=str(data.get("model", doc.path)),
        as_of=as_of,
        horizon_months=horizon,
        month_days=month_days,
        seed=seed,
        samples=samples,
        nodes=nodes,
        doc=doc,
        description=str(data.get("description", "")),
        questions_raw=data.get("questions"),
        evidence_raw=data.get("evidence"),
        kinds=kinds,
    )
