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
from .families.options import ROUNDING
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

__all__ = ["Kind", "Model", "NodeDef", "build_model", "Context", "parse_date", "did_you_mean", "ModelRuntimeError"]

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
                raise doc.error(self.path, f"{name!r} is not a categorical node; cannot compare it with {cat!r}")
            if cat not in k.categories:
                raise doc.error(
                    self.path,
                    f"unknown category {cat!r} of {name!r}; expected one of {list(k.categories)}"
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
                    raise ModelRuntimeError(
                        ctx.model.doc.origin(self.path), ".".join(self.path),
                        f"parameter {name} must lie in {domain} in every "
                        f"world, got {excerpt(example)} in {int(bad.sum())} of {n} worlds",
                    )
        return self.options.sample(self.family, rng, n, values)


@dataclass
class BySpec(Spec):
    by: str
    cases: dict  # case label (str) -> Spec
    default: Spec | None = None
    path: tuple = ()
    _plan: Any = None

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
            raise doc.error(self.path + ("by",), f"expected a boolean or categorical node, {self.by!r} is a {k.type} node")
        for label in self.cases:
            if label not in labels:
                raise doc.error(
                    self.path + ("cases", label),
                    f"{self.by!r} has no category {excerpt(label)}; expected one of {list(labels)}"
                    + did_you_mean(label, labels),
                )
        missing = [c for c in labels if c not in self.cases]
        if missing and self.default is None:
            raise doc.error(self.path + ("cases",), f"no case for {missing} of {self.by!r}; add them or a default")
        case_specs = [(code, self.cases.get(label, self.default)) for code, label in enumerate(labels)]
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
            if remap is not None:
                values = remap[values]
            if result.type == "flow" and np.ndim(values) < 2:
                values = np.asarray(values)[..., None] if np.ndim(values) else values
            out[idx] = values
        return out


def _check_when(when, kinds, doc, path) -> None:
    """``when:`` reads a boolean: a number (even 0/1) is an error, not "non-zero is true"."""
    if when is None:
        return
    k = when.kind(kinds, doc)
    if k.type != "bool":
        what = f"{when.name!r} is a {k.type} node" if isinstance(when, RefSpec) else f"got a {k.type} value"
        raise doc.error(
            path + ("when",),
            f"expected a boolean (true/false) value, {what}; compare it to make one, e.g. when: \"x > 0\"",
        )


@dataclass
class EventSpec(Spec):
    when: Spec | None
    after: Any  # None, node name (str) or a day number (float)
    delay: Spec | None
    chance_per_month: Spec | None
    path: tuple = ()

    def refs(self):
        out = refs_of((self.when, self.delay, self.chance_per_month),
                      {self.path + ("after",): self.after if isinstance(self.after, str) else None})
        return out

    def kind(self, kinds, doc):
        _check_when(self.when, kinds, doc, self.path)
        if isinstance(self.after, str) and kinds[self.after].type != "event":
            raise doc.error(self.path + ("after",), f"expected an event node, {self.after!r} is a {kinds[self.after].type} node")
        for s, name in ((self.delay, "delay"), (self.chance_per_month, "chance_per_month")):
            if s is not None and s.kind(kinds, doc).type not in ("number", "event"):
                raise doc.error(self.path + (name,), "expected a per-world number")
        return EVENT

    def sample(self, ctx, rng, n):
        model = ctx.model
        if self.delay is not None:
            delay = np.broadcast_to(self.delay.sample(ctx, rng, n), (n,)).astype(float)
            if (delay < 0).any():
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
        if self.after is None:
            start = 0.0
        elif isinstance(self.after, str):
            start = ctx.get(self.after)
        else:
            start = float(self.after)
        day = start + delay
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
            raise doc.error(self.path + ("start",), f"expected an event node, {self.start!r} is a {kinds[self.start].type} node")
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
        if (rate < 0).any():
            raise ModelRuntimeError(
                model.doc.origin(self.path), ".".join(self.path + ("rate",)),
                "a rate must be non-negative in every world",
            )
        first = None  # first active month per world (1-based); None = month 1 everywhere
        if self.start is not None:
            s = ctx.get(self.start)
            with np.errstate(invalid="ignore"):
                first = np.maximum(1.0, np.where(np.isfinite(s), np.ceil(s / model.month_days), np.inf))
        if self.start_month is not None:
            sm = np.ceil(np.broadcast_to(self.start_month.sample(ctx, rng, n), (n,)).astype(float))
            first = sm if first is None else np.maximum(first, sm)
        months = np.arange(1, n_months + 1, dtype=float)[:, None]
        # k = 1 in the first active month, <= 0 before it
        k = np.repeat(months, n, axis=1) if first is None else months - (first - 1.0)[None, :]
        if self.ramp is not None:
            ramp = np.broadcast_to(self.ramp.sample(ctx, rng, n), (n,)).astype(float)
            if (ramp <= 0).any():
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

    def ancestors(self, names) -> set:
        """Every node that ``names`` read, transitively (including themselves)."""
        out: set = set()
        stack = list(names)
        while stack:
            name = stack.pop()
            if name in out:
                continue
            out.add(name)
            stack.extend(self.nodes[name].spec.refs())
        return out


class _Compiler:
    def __init__(self, doc: ParamsDoc, node_names):
        self.doc = doc
        self.node_names = list(node_names)

    def at(self, path) -> Location:
        return Location.of(self.doc, path)

    def err(self, path, msg):
        return self.at(path).error(msg)

    # values ----------------------------------------------------------------
    def value(self, raw, path, *, lo=None, hi=None, lo_open=False, what="a number"):
        if isinstance(raw, bool) or isinstance(raw, (int, float)):
            return ConstSpec(float(check_number(raw, self.at(path), what=what, lo=lo, hi=hi, lo_open=lo_open)), path)
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
                    return self.value(float(constant), path, lo=lo, hi=hi, lo_open=lo_open, what=what)
            return ExprSpec(expression, path)
        if isinstance(raw, dict):
            return self.spec(raw, path)
        raise self.err(path, f"expected {what}, a node name, an expression or a distribution, got {describe(raw)}")

    def boolean(self, raw, path):
        if isinstance(raw, bool):
            return ConstSpec(raw, path)
        return self.value(raw, path, what="a boolean")

    def check_ref(self, name, path):
        check_name(name, self.at(path), self.node_names, what="node")

    def number(self, raw, path, *, what="a number", lo=None, hi=None, lo_open=False, integer=False):
        return check_number(raw, self.at(path), what=what, lo=lo, hi=hi, lo_open=lo_open, integer=integer)

    def pair(self, raw, path, *, what, allow_null=False):
        return check_pair(raw, self.at(path), what=what, allow_null=allow_null)

    def mapping(self, raw, path, allowed, required=(), what="a mapping"):
        return check_keys(raw, self.at(path), allowed, required=required, what=what)

    # specs -----------------------------------------------------------------
    def spec(self, raw, path) -> Spec:
        if isinstance(raw, bool) or isinstance(raw, (int, float)):
            return self.value(raw, path)
        if isinstance(raw, str):
            return self.value(raw, path)
        check_mapping(raw, self.at(path), what="a distribution or node spec")
        all_kinds = kind_keys()
        kinds = [k for k in raw if k in all_kinds]
        unknown = [k for k in raw if k not in all_kinds + TRANSFORM_KEYS + META_KEYS + ("cases", "default")]
        if unknown:
            k = unknown[0]
            raise self.err(
                path + (k,),
                f"unknown key {excerpt(k)}; expected a distribution ({', '.join(all_kinds)}) or an option "
                f"({', '.join(TRANSFORM_KEYS + META_KEYS)})" + did_you_mean(k, all_kinds + TRANSFORM_KEYS),
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
            spec = self.value(body, p)
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
        return self.value(raw, at.path, lo=lo, hi=hi, lo_open=domain.lo_open, what=domain.what)

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
        return BySpec(by, cases, default, path)

    def event(self, body, p):
        self.mapping(body, p, ("when", "after", "delay", "chance_per_month"))
        if ("delay" in body) == ("chance_per_month" in body):
            raise self.err(p, "expected exactly one of 'delay' and 'chance_per_month'")
        when = self.boolean(body["when"], p + ("when",)) if "when" in body else None
        after = None
        if "after" in body:
            a = body["after"]
            if isinstance(a, str) and NAME_RE.match(a):
                self.check_ref(a, p + ("after",))
                after = a
            else:
                date = parse_date(a, self.doc, p + ("after",))
                after = float(self.as_of_days(date))
        delay = self.value(body["delay"], p + ("delay",), lo=0, what="a delay (days)") if "delay" in body else None
        chance = (
            self.value(body["chance_per_month"], p + ("chance_per_month",), lo=0, hi=1, what="a probability")
            if "chance_per_month" in body else None
        )
        return EventSpec(when, after, delay, chance, p)

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
        start_month = self.value(body["start_month"], p + ("start_month",), lo=1, what="a month number >= 1") if "start_month" in body else None
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
