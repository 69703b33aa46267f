"""Questions: predicates and quantities over :class:`~scenarios.model.worlds.Worlds`.

A question has an id, its text, a type (binary, numeric or date), open and close dates, and a
``resolve:`` clause stated on model variables (plus an optional ``given:`` clause, making it
the conditional probability P(resolve | given)).  A clause compiles to a function from
Worlds to a per-world array: booleans for binary clauses, numbers for quantities.
Outcomes are not part of a question; they live in ``data/resolutions.yaml``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .expressions import ExpressionError, ExpressionValueError, parse_expression
from .kinds.repeated import count_by_day
from .kinds.statement import said_by_day
from .kinds.stock import level_at_day
from .params import load_yaml_file
from .scenario import Model, WhenSpec, event_hint
from .schema import (
    Location,
    check_choice,
    check_date,
    check_identifier,
    check_keys,
    check_list,
    check_name,
    check_number,
    check_text,
    describe,
    did_you_mean,
    excerpt,
)
from .worlds import Worlds

__all__ = ["Question", "Clause", "load_questions"]

QUESTION_KEYS = ("id", "text", "type", "open", "close", "resolve", "given", "note", "source", "unit")
QUESTION_TYPES = ("binary", "numeric", "date")
COMPARISONS = {
    "at_least": np.greater_equal,
    "at_most": np.less_equal,
    "above": np.greater,
    "below": np.less,
}


@dataclass
class Clause:
    """A compiled clause: ``evaluate(worlds)`` gives a per-world array; ``refs`` the nodes read."""

    evaluate: Callable[[Worlds], np.ndarray]
    refs: frozenset
    kind: str  # "bool", "number" or "event"
    text: str = ""
    months: dict = field(default_factory=dict)  # flow node -> last month read
    spoken: str = ""  # a statement whose value this quantity is: undefined where it has not spoken


def _merge_months(parts) -> dict:
    out: dict = {}
    for part in parts:
        for k, v in part.months.items():
            out[k] = max(out.get(k, 0), v)
    return out


@dataclass
class Question:
    id: str
    text: str
    type: str
    open: _dt.date | None
    close: _dt.date | None
    resolve: Clause
    given: Clause | None
    file: str | None
    raw: dict

    @property
    def refs(self) -> frozenset:
        return self.resolve.refs | (self.given.refs if self.given else frozenset())

    @property
    def months(self) -> dict:
        """Flow node -> last month this question reads (flows read otherwise: the horizon)."""
        return _merge_months([self.resolve] + ([self.given] if self.given else []))


class _QuestionCompiler:
    def __init__(self, model: Model, at: Location):
        self.model = model
        self.root = at

    def at(self, path) -> Location:
        return self.root.key(*path)

    def err(self, path, msg):
        return self.at(path).error(msg)

    def date(self, raw, path):
        return check_date(raw, self.at(path))

    def node(self, name, path, types=None):
        check_name(name, self.at(path), self.model.nodes, what="variable")
        kind = self.model.kinds[name]
        if types is not None and kind.type not in types:
            raise self.err(path, f"{excerpt(name)} is a {kind.type} node; expected a {' or '.join(types)} node")
        return kind

    def day(self, date, path):
        day = self.model.day_of(date)
        if day > self.model.horizon_days:
            last = self.model.as_of + _dt.timedelta(days=self.model.horizon_days)
            raise self.err(path, f"date {date} is beyond the model's horizon (last day {last})")
        return day

    def keys(self, raw, path, allowed):
        check_keys(raw, self.at(path), allowed)

    def clause(self, raw, path) -> Clause:
        if not isinstance(raw, dict) or not raw:
            raise self.err(path, f"expected a clause mapping (event, is, quantity, expr, all, any, not), got {describe(raw)}")
        heads = [k for k in ("event", "is", "quantity", "expr", "all", "any", "not") if k in raw]
        if len(heads) != 1:
            unknown = [k for k in raw if k not in ("event", "is", "quantity", "expr", "all", "any", "not", "by", "between", "on", "month", *COMPARISONS)]
            if unknown:
                k = unknown[0]
                raise self.err(path + (str(k),), f"unknown key {excerpt(k)}" + did_you_mean(k, ("event", "is", "quantity", "expr", "all", "any", "not")))
            raise self.err(path, f"expected exactly one of event, is, quantity, expr, all, any, not; got {sorted(map(str, raw))}")
        head = heads[0]
        return getattr(self, "clause_" + head)(raw, path)

    def clause_event(self, raw, path):
        self.keys(raw, path, ("event", "occurrence", "by", "between"))
        name = raw["event"]
        kind = self.node(name, path + ("event",))
        if kind.type not in ("event", "repeated", "statement"):
            raise self.err(
                path + ("event",),
                f"{excerpt(name)} is a {kind.type} node; expected a event node (or a repeated event, or a statement)"
                + event_hint(self.model, name),
            )
        if kind.type != "event":
            return self.event_of_kind(raw, path, name, kind)
        if "occurrence" in raw:
            raise self.err(path + ("occurrence",), f"{excerpt(name)} happens at most once; occurrence: goes with a repeated event")
        return self.event_days(raw, path, lambda w: w[name], frozenset([name]), f"{name}")

    def event_of_kind(self, raw, path, name, kind):
        """The n-th occurrence of a repeated event, or the publication of a statement, as an event."""
        if kind.type == "repeated":
            size = self.model.nodes[name].spec.max
            k = int(check_number(
                raw.get("occurrence", 1), self.at(path + ("occurrence",)),
                what=f"an occurrence number in [1, {size}] (the max of {excerpt(name)})", lo=1, hi=size, integer=True,
            ))
            column, label = k - 1, f"{name} #{k}"
        else:
            if "occurrence" in raw:
                raise self.err(path + ("occurrence",), f"{excerpt(name)} is a statement (published once); drop occurrence")
            column, label = 0, f"{name} published"
        days = lambda w: w[name][:, column]  # noqa: E731
        inner = dict(raw)
        inner.pop("occurrence", None)
        return self.event_days(inner, path, days, frozenset([name]), label)

    def event_days(self, raw, path, days, refs, label):
        """An event clause on per-world days ``days(worlds)``: by, between, or the day itself."""
        if "by" in raw and "between" in raw:
            raise self.err(path, "use either by or between, not both")
        if "by" in raw:
            d = self.date(raw["by"], path + ("by",))
            hi = self.day(d, path + ("by",))
            return Clause(lambda w: days(w) <= hi, refs, "bool", f"{label} by {d}")
        if "between" in raw:
            b = raw["between"]
            if not isinstance(b, list) or len(b) != 2:
                raise self.err(path + ("between",), f"expected [first date, last date], got {describe(b)}")
            d1, d2 = self.date(b[0], path + ("between",)), self.date(b[1], path + ("between",))
            if d2 < d1:
                raise self.err(path + ("between",), f"expected first date <= last date, got {d1} > {d2}")
            # an event at fractional day t falls on calendar date as_of + ceil(t)
            lo, hi = self.model.day_of(d1), self.day(d2, path + ("between",))
            return Clause(lambda w: (days(w) > lo - 1) & (days(w) <= hi), refs, "bool", f"{label} in [{d1}, {d2}]")
        return Clause(days, refs, "event", label)

    def quantity_of_kind(self, raw, path, name, kind):
        """What a repeated event (count), stock (level) or statement (value said) reads on a day."""
        md = self.model.month_days
        if "on" in raw:
            d = self.date(raw["on"], path + ("on",))
            day, label = self.day(d, path + ("on",)), f"{name} on {d}"
        elif "month" in raw:
            m = int(check_number(raw["month"], self.at(path + ("month",)), what="a month number", lo=1, hi=self.model.horizon_months, integer=True))
            day, label = m * md, f"{name} at the end of month {m}"
        elif kind.type == "statement":
            return (lambda w: w[name][:, 1]), name  # noqa: E731
        else:
            what = {"repeated": "a count of occurrences", "stock": "a stock's level"}[kind.type]
            raise self.err(path, f"{excerpt(name)} is a {kind.type} node ({what} changes in time): say which date (on: YYYY-MM-DD) or month (month: m)")
        if kind.type == "repeated":
            return (lambda w: count_by_day(w[name], day)), f"count of {label}"
        if kind.type == "stock":
            return (lambda w: level_at_day(w[name], day, md)), label
        return (lambda w: said_by_day(w[name], day)), f"{name} said by {d if 'on' in raw else label}"

    def clause_is(self, raw, path):
        self.keys(raw, path, ("is",))
        body = raw["is"]
        if not isinstance(body, dict) or len(body) != 1:
            raise self.err(path + ("is",), f"expected {{variable: category}} with one variable, got {describe(body)}")
        (name, want), = body.items()
        kind = self.node(name, path + ("is",), types=("category", "bool"))
        if kind.type == "bool":
            if not isinstance(want, bool):
                raise self.err(path + ("is", name), f"{excerpt(name)} is boolean; expected true or false, got {describe(want)}")
            if isinstance(self.model.nodes[name].spec, WhenSpec):  # "is false" means: applies and is false
                return Clause(lambda w: (w[name] == want) & w.applicable(name), frozenset([name]), "bool", f"{name} is {want}")
            return Clause(lambda w: w[name] == want, frozenset([name]), "bool", f"{name} is {want}")
        # a categorical node that does not apply holds NOT_APPLICABLE, which is none of these codes
        wants = want if isinstance(want, list) else [want]
        codes = []
        for cat in wants:
            check_name(cat, self.at(path + ("is", name)), kind.categories, what="category", of=f" of {excerpt(name)}", show=True)
            codes.append(kind.categories.index(cat))
        return Clause(lambda w: np.isin(w[name], codes), frozenset([name]), "bool", f"{name} in {wants}")

    def clause_quantity(self, raw, path):
        self.keys(raw, path, ("quantity", "on", "month", *COMPARISONS))
        ref = raw["quantity"]
        name, series, kind = parse_quantity(ref, self.model, self.err, path + ("quantity",))
        if "on" in raw and "month" in raw:
            raise self.err(path, "use either on or month, not both")
        if kind.type in ("repeated", "stock", "statement"):
            if series:
                raise self.err(path + ("quantity",), f"{excerpt(name)} is a {kind.type} node, not a flow; it has no .{series}")
            fn, label = self.quantity_of_kind(raw, path, name, kind)
            months = {}
        elif kind.type == "flow":
            if "on" in raw:
                d = self.date(raw["on"], path + ("on",))
                day = self.day(d, path + ("on",))
                md = self.model.month_days
                month = max(1, int(np.ceil(day / md)))
                if series == "cumulative":
                    initial = self.model.flow_initial(name)  # the running total's level at as_of
                    fn = lambda w: _cum_at(w, name, day, md, initial)  # noqa: E731
                else:
                    fn = lambda w: w[name][:, month - 1]  # noqa: E731
                label = f"{ref} on {d}"
                months = {name: month}
            elif "month" in raw:
                m = int(check_number(raw["month"], self.at(path + ("month",)), what="a month number", lo=1, hi=self.model.horizon_months, integer=True))
                if series == "cumulative":
                    initial = self.model.flow_initial(name)  # the running total's level at as_of
                    fn = lambda w: _total_through(w[name], m, initial)  # noqa: E731
                else:
                    fn = lambda w: w[name][:, m - 1]  # noqa: E731
                label = f"{ref} through month {m}"
                months = {name: m}
            else:
                raise self.err(path, f"{excerpt(name)} is a flow: say which date (on: YYYY-MM-DD) or month (month: m)")
        else:
            if series:
                raise self.err(path + ("quantity",), f"{excerpt(name)} is a {kind.type} node, not a flow; it has no .{series}")
            if "on" in raw or "month" in raw:
                raise self.err(path, f"{excerpt(name)} is a {kind.type} node, not a flow; drop on/month")
            if kind.type not in ("number", "bool", "event"):
                raise self.err(path + ("quantity",), f"{excerpt(name)} is a {kind.type} node; expected a number")
            fn = lambda w: w[name]  # noqa: E731
            label = ref
            months = {}
        cmps = [k for k in COMPARISONS if k in raw]
        if len(cmps) > 1:
            raise self.err(path, f"expected one comparison, got {cmps}")
        if not cmps:
            return Clause(fn, frozenset([name]), "number", label, months, name if kind.type == "statement" else "")
        op = cmps[0]
        x = check_number(raw[op], self.at(path + (op,)))
        cmp = COMPARISONS[op]
        return Clause(lambda w: cmp(fn(w), x), frozenset([name]), "bool", f"{label} {op} {x:g}", months)

    def clause_expr(self, raw, path):
        self.keys(raw, path, ("expr",))
        text = raw["expr"]
        try:
            expression = parse_expression(text)
        except ExpressionError as exc:
            raise self.err(path + ("expr",), str(exc)) from None
        for name in expression.names:
            self.node(name, path + ("expr",))
        for name, cat in expression.string_comparisons():
            kind = self.model.kinds[name]
            if kind.type != "category" or cat not in kind.categories:
                raise self.err(path + ("expr",), f"{excerpt(name)} has no category {excerpt(cat)}" + (did_you_mean(cat, kind.categories) if kind.categories else ""))
        try:
            result = expression.result_type(self.model.kinds)
        except ExpressionError as exc:
            raise self.err(path + ("expr",), str(exc)) from None
        if result != "bool":
            raise self.err(
                path + ("expr",),
                f"expected a true/false expression, {excerpt(text)} is a number; compare it, e.g. x >= 1",
            )
        flows = [name for name in expression.names if self.model.kinds[name].is_flow]
        if flows:
            raise self.err(
                path + ("expr",),
                f"{excerpt(flows[0])} is a flow (one value per month); a question expression needs one value per world: "
                "use a quantity clause with on: or month:",
            )
        where = self.at(path + ("expr",))

        def fn(w):
            try:
                out = expression.evaluate(w.__getitem__, w.categories)
            except ExpressionValueError as exc:
                raise where.error(str(exc)) from None
            if np.ndim(out) == 0:
                out = np.full(w.n, out)
            return out

        return Clause(fn, frozenset(expression.names), "bool", text)

    def clause_list(self, raw, path, key):
        self.keys(raw, path, (key,))
        items = check_list(raw[key], self.at(path + (key,)), what="a non-empty list of clauses", nonempty=True)
        parts = [self.clause(c, path + (key, str(i))) for i, c in enumerate(items)]
        for i, part in enumerate(parts):
            if part.kind != "bool":
                raise self.err(path + (key, str(i)), "expected a true/false clause (add by:, at_least:, ...)")
        return parts

    def clause_all(self, raw, path):
        parts = self.clause_list(raw, path, "all")
        return Clause(lambda w: np.logical_and.reduce([p.evaluate(w) for p in parts]), frozenset().union(*(p.refs for p in parts)), "bool", " and ".join(p.text for p in parts), _merge_months(parts))

    def clause_any(self, raw, path):
        parts = self.clause_list(raw, path, "any")
        return Clause(lambda w: np.logical_or.reduce([p.evaluate(w) for p in parts]), frozenset().union(*(p.refs for p in parts)), "bool", " or ".join(p.text for p in parts), _merge_months(parts))

    def clause_not(self, raw, path):
        self.keys(raw, path, ("not",))
        inner = self.clause(raw["not"], path + ("not",))
        if inner.kind != "bool":
            raise self.err(path + ("not",), "expected a true/false clause")
        return Clause(lambda w: ~np.asarray(inner.evaluate(w), dtype=bool), inner.refs, "bool", f"not ({inner.text})", inner.months)

    def question(self, raw, path) -> Question:
        check_keys(raw, self.at(path), QUESTION_KEYS, required=("id", "resolve"), what="a question mapping")
        qid = check_identifier(raw["id"], self.at(path + ("id",)))
        qtype = check_choice(raw.get("type", "binary"), self.at(path + ("type",)), QUESTION_TYPES)
        text = check_text(raw.get("text", qid), self.at(path + ("text",)))
        opened = self.date(raw["open"], path + ("open",)) if "open" in raw else None
        closed = self.date(raw["close"], path + ("close",)) if "close" in raw else None
        if opened and closed and closed < opened:
            raise self.err(path + ("close",), f"close date {closed} is before open date {opened}")
        resolve = self.clause(raw["resolve"], path + ("resolve",))
        want = {"binary": "bool", "numeric": "number", "date": "event"}[qtype]
        if resolve.kind != want:
            hint = {
                "bool": "a true/false clause (e.g. add by: DATE or at_least: X)",
                "number": "a quantity without a comparison",
                "event": "an event without by/between",
            }[want]
            raise self.err(path + ("resolve",), f"a {qtype} question needs {hint}; got a {resolve.kind} clause")
        given = None
        if "given" in raw:
            given = self.clause(raw["given"], path + ("given",))
            if given.kind != "bool":
                raise self.err(path + ("given",), "expected a true/false clause")
        spoken = resolve.spoken
        if spoken and (given is None or spoken not in given.refs):
            raise self.err(
                path + ("resolve",),
                f"what statement {excerpt(spoken)} says is undefined in worlds where the source has not spoken; "
                f"add given: {{event: {spoken}, by: DATE}}",
            )
        return Question(qid, text, qtype, opened, closed, resolve, given, self.root.source, raw)


def parse_quantity(ref, model: Model, err, path) -> tuple:
    """Split a quantity reference such as ``containers.cumulative`` into (node, series, kind).

    ``err(path, message)`` builds the error to raise (each caller locates errors in its own file).
    """
    if not isinstance(ref, str):
        raise err(path, f"expected a variable such as containers.cumulative, got {describe(ref)}")
    name, _, series = ref.partition(".")
    if name not in model.nodes:
        raise err(path, f"unknown variable {excerpt(name)}" + did_you_mean(name, model.nodes))
    if series not in ("", "cumulative"):
        raise err(path, f"unknown series {excerpt(series)}; expected {name} or {name}.cumulative")
    return name, series, model.kinds[name]


def _total_through(flow: np.ndarray, m: int, initial: float) -> np.ndarray:
    """Running total of a flow (n, months) at the end of month ``m``, from ``initial`` at as_of."""
    total = flow[:, :m].sum(axis=1)
    return total + initial if initial else total


def _cum_at(w: Worlds, name: str, day: float, month_days: int, initial: float = 0.0) -> np.ndarray:
    from .worlds import cumulative_at_day

    return cumulative_at_day(w[name], day, month_days, initial=initial)


def load_questions(model: Model, source: Any = None) -> list[Question]:
    """Compile the questions of ``model`` (or those in file ``source``).

    Parameters
    ----------
    model : Model
    source : str or list, optional
        A questions file path, or a list of question mappings.  Default: the model's own
        ``questions:`` key (a list, or a path relative to the file that set it).

    Raises
    ------
    ParamsError
        Unknown keys, variables, categories; bad dates; duplicate ids; wrong clause kinds.
    """
    base: tuple = ()
    inline = source is None and not isinstance(model.questions_raw, str)
    if source is None:
        raw = model.questions_raw
        file = model.doc.origin(("questions",))
        base = ("questions",)
        if raw is None:
            return []
        if isinstance(raw, str):
            source = model.doc.resolve_path(("questions",), raw)
            raw = None
    else:
        raw = source if isinstance(source, list) else None
        file = None if raw is not None else source
    if raw is None:
        doc, _ = load_yaml_file(source)
        file, base = source, ()
        if isinstance(doc, dict) and "questions" in doc:
            check_keys(doc, Location(file), ("questions",), expected="only 'questions' in a questions file")
            raw, base = doc["questions"], ("questions",)
        else:
            raw = doc
    at = Location.of(model.doc, base) if inline else Location(file, base)
    check_list(raw, at, what="a list of questions")
    compiler = _QuestionCompiler(model, at)
    questions, seen = [], {}
    for i, item in enumerate(raw):
        q = compiler.question(item, (str(i),))
        if q.id in seen:
            raise at.key(i, "id").error(f"duplicate question id {excerpt(q.id)} (also item {seen[q.id]})")
        seen[q.id] = i
        questions.append(q)
    return questions

