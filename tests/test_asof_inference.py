"""As-of inference diagnostics: where the effective sample size goes, against analytic values."""

from __future__ import annotations

import datetime as dt
import math

from conftest import HEADER
from scenarios.engine.asof import Plan, factor_ess, run_plans
from scenarios.engine.evidence import parse_evidence
from scenarios.model.load import load_model

URL = "https://example.org/report"

# p ~ U(0, 1), x ~ Bernoulli(p), c ~ Bernoulli(0.3) with no parent: observing x = true weighs a world
# by p, observing c = true by the constant 0.3
MODEL = HEADER + """
nodes:
  p: {uniform: [0, 1]}
  x: {bernoulli: {p: p}}
  c: {bernoulli: {p: 0.3}}
questions:
  - {id: qx, resolve: {is: {x: true}}}
"""


def _evidence(model):
    return parse_evidence(model, [{"public_on": "2023-10-01", "source": URL, "observe": {"x": True, "c": True}}])


def test_factor_shares_match_their_analytic_values(write):
    # the factor p with p ~ U(0,1) keeps (E p)^2 / E p^2 = (1/2)^2 / (1/3) = 3/4 of the worlds; its
    # delta-method variance is (9 Var p - 13.5 Cov(p, p^2) + 5.0625 Var p^2) / n = 0.075 / n
    model, _ = load_model(write("m.yaml", MODEL))
    n = 100_000
    out = factor_ess(model, _evidence(model), dt.date(2023, 10, 1), samples=n, seed=3)
    se = math.sqrt(0.075 / n)
    assert abs(out["factors"]["x"] - 0.75) < 5 * se
    assert math.isclose(out["factors"]["c"], 1.0, rel_tol=1e-12)  # the same in every world: it teaches nothing
    assert list(out["factors"]) == ["x", "c"]  # smallest share first
    assert abs(out["ess"] - 0.75) < 5 * se  # the only factor that varies


def test_recording_factors_changes_no_number(write):
    model, questions = load_model(write("m.yaml", MODEL))
    ev, as_of = _evidence(model), dt.date(2023, 10, 1)
    plain = Plan(as_of, ev.conditioning(model, as_of), questions)
    recorded = Plan(as_of, ev.conditioning(model, as_of), questions, factors={})
    run_plans(model, [plain], samples=5000, seed=3)
    run_plans(model, [recorded], samples=5000, seed=3)
    assert plain.ess == recorded.ess
    assert plain.accs[0].result(model.as_of).probability == recorded.accs[0].result(model.as_of).probability
    assert set(recorded.factors) == {"x", "c"}
