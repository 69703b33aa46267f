"""A trial run: what ``scenarios validate`` finds by simulating a small number of worlds.

The static checks of a params file cannot see what only happens in some worlds: a parameter
that leaves its range (``p`` of a bernoulli drawn from a normal), an expression that divides by
zero, evidence that the model rules out (every world weighs 0), a question whose forecast is
undefined (its ``given:`` never holds).  :func:`trial_problems` simulates about a thousand
worlds, as a forecast would, and lists each of these as a message naming the file, the key path
or item, and what was found; an empty list means a forecast will not stumble on them (short of
something rarer than a thousand worlds can show).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ScenarioError, short
from ..model.scenario import Context, Model
from ..model.schema import excerpt
from .asof import Plan, impossible_evidence_error, is_open, run_plans
from .evidence import Evidence
from .forecast import run_forecast
from .simulate import draw_node

__all__ = ["TRIAL_WORLDS", "CONFIRM_WORLDS", "trial_problems"]

TRIAL_WORLDS = 1_000
"""Worlds simulated by ``validate``."""
CONFIRM_WORLDS = 100_000
"""Evidence that rules out every trial world is tried again with this many (or the model's samples,
if fewer) before it is reported, so rare but possible evidence is not called impossible."""


def trial_problems(model: Model, questions: list, evidence: Evidence | None = None, *,
                   samples: int = TRIAL_WORLDS, seed: int | None = None) -> list[str]:
    """Simulate ``samples`` worlds and return what a forecast would fail on, one message each.

    Parameters
    ----------
    model : Model
    questions : list of Question
    evidence : Evidence, optional
        Checked at each of its dates: all worlds weighing 0 is reported with the items that
        rule the evidence out.
    samples : int
        Worlds to simulate (one chunk).
    seed : int, optional
        Default: the model's.

    Returns
    -------
    list of str
        Messages, in the order a reader fixes them: nodes (out-of-range parameters, undefined
        expression values, NaN values), then forecasts, then evidence.
    """
    seed = model.seed if seed is None else seed
    problems = _node_problems(model, samples, seed)
    if problems:
        return problems  # forecasts would fail on the same nodes
    problems += _forecast_problems(model, questions, samples, seed)
    if evidence is not None and len(evidence):
        problems += _evidence_problems(model, questions, evidence, samples, seed)
    return problems


def _node_problems(model: Model, n: int, seed: int) -> list[str]:
    """Draw every node once; report each node that fails or holds NaN (not its descendants)."""
    arrays: dict = {}
    ctx = Context(arrays, model.kinds, n, model)
    failed: set = set()
    problems = []
    for name, node in model.nodes.items():
        if failed.intersection(node.spec.refs()):
            failed.add(name)
            continue
        ctx.months = model.horizon_months
        try:
            arrays[name] = draw_node(model, name, ctx, seed, 0)
        except ScenarioError as exc:
            problems.append(str(exc))
            failed.add(name)
            continue
        problem = _value_problem(model.kinds[name].type, arrays[name], n)
        if problem is not None:
            file = model.doc.origin(("nodes", name)) or model.doc.path
            problems.append(f"{file}: nodes.{short(name, 40)}: {problem}")
            failed.add(name)
    return problems


_NEVER = ("event", "repeated")
"""Kinds where ``inf`` is a value ("never"); anywhere else but numbers it is an overflow."""


def _value_problem(kind: str, values, n: int) -> str | None:
    """What is wrong with a node's draws ``values`` (first axis: the ``n`` worlds), or None.

    NaN is never a value, except what a statement says where its source never spoke; ``inf``
    is one only where it means "never" (an event's day, a number computed from one), ``-inf``
    only in such a number.
    """
    if kind in ("bool", "category"):
        return None
    values = np.asarray(values, dtype=float).reshape(n, -1)
    if kind == "statement":  # (day, value): value NaN exactly where the day is never
        spoke = np.isfinite(values[:, 0])
        nan = np.isnan(values[:, 0]) | (spoke & np.isnan(values[:, 1]))
        inf = spoke & np.isinf(values[:, 1])
    else:
        nan = np.isnan(values).any(axis=1)
        if kind == "number":  # arithmetic on "never" (``-summit_day``) may give either infinity
            inf = np.zeros(n, dtype=bool)
        else:
            inf = (np.isinf(values) if kind not in _NEVER else values == -np.inf).any(axis=1)
    if nan.any():
        return f"the value is undefined (NaN) in {int(nan.sum()):,} of {n:,} simulated worlds"
    if inf.any():
        return (f"the value is infinite in {int(inf.sum()):,} of {n:,} simulated worlds "
                "(an overflow: a parameter is too large)")
    return None


def _undefined(forecast) -> bool:
    if forecast.type == "binary":
        return forecast.probability is None or math.isnan(forecast.probability)
    values = list((forecast.quantiles or {}).values())
    return not values or all(v is None or math.isnan(v) for v in values)


def _question_problem(model: Model, question, forecast, n: int, as_of=None) -> str:
    file = question.file or model.doc.path
    when = f" as of {as_of}" if as_of is not None else ""
    if question.given is not None:
        why = f"its given: clause holds in none of the {n:,} simulated worlds"
    else:
        why = f"none of the {n:,} simulated worlds gives it a value"
    return f"{file}: question {excerpt(question.id)}: the forecast{when} is undefined (NaN): {why}"


def _forecast_problems(model: Model, questions: list, n: int, seed: int) -> list[str]:
    try:
        forecast = run_forecast(model, questions, samples=n, seed=seed)
    except ScenarioError as exc:
        return [str(exc)]
    by_id = {q.id: q for q in questions}
    return [
        _question_problem(model, by_id[f.id], f, n)
        for f in forecast.questions
        if _undefined(f)
    ]


def _evidence_problems(model: Model, questions: list, evidence: Evidence, n: int, seed: int) -> list[str]:
    """Weigh the worlds at every date of the evidence, and forecast at the last one.

    Evidence ruled out at a date is reported once, at the first such date, with the items that
    rule it out; an undefined forecast given all the evidence, with the question and the date.
    Whatever fails with ``n`` worlds is simulated again with more before it is reported.  Only
    the last date is forecast (with every item public): weighing alone is cheap, and a question
    undefined at an earlier date shows in the backtest's report.  Worlds are weighed without
    resampling (plain likelihood weighting); evidence that leaves no world is weighed once more
    with resample-move, as forecasts are, before it is reported.
    """
    dates = [d for d in evidence.dates() if d >= model.as_of]
    if not dates:
        return []
    confirm = max(n, min(model.samples, CONFIRM_WORLDS))

    def run(dates, worlds, with_questions, moves=False):
        plans = [
            Plan(d, evidence.conditioning(model, d), [q for q in questions if is_open(q, d)] if with_questions else [])
            for d in dates
        ]
        # plain likelihood weighting (no resampling or moves) unless asked: a zero weight
        # everywhere, or a question no weighted world answers, shows without them, at a fraction
        # of the cost
        run_plans(model, plans, samples=worlds, seed=seed, evidence=evidence, resample_below=None if moves else 0.0)
        return plans

    def undefined(plan):
        return [acc for acc in plan.accs if _undefined(acc.result(model.as_of))]

    try:
        weighed = run(dates, n, False)
        ruled_out = [p.as_of for p in weighed if not p.ess > 0]
        if ruled_out and confirm > n:
            ruled_out = [p.as_of for p in run(ruled_out, confirm, False) if not p.ess > 0]
        if ruled_out:  # resample-move keeps worlds alive that plain weighting can lose: ask it too
            ruled_out = [p.as_of for p in run(ruled_out, n, False, moves=True) if not p.ess > 0]
        if ruled_out:
            return [str(impossible_evidence_error(model, evidence, ruled_out[0], samples=confirm, seed=seed))]
        (last,) = run(dates[-1:], n, True)
        if undefined(last) and confirm > n:
            (last,), n = run(dates[-1:], confirm, True), confirm
    except ScenarioError as exc:
        return [str(exc)]
    return [_question_problem(model, acc.q, acc.result(model.as_of), n, last.as_of) for acc in undefined(last)]
