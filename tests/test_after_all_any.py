"""Events after several events: ``after: {all: [...]}`` (the latest) and ``{any: [...]}`` (the earliest).

Behaviours, each against an exact answer: the day is max (all) or min (any) of the listed
events' days plus the delay in every world, never as the listed events say; questions read it as
an event; evidence on it is weighed exactly (node likelihoods per world, and as-of forecasts by
resample-move against exact Bayes by quadrature); the report charts it as an event; bad forms are
errors naming the file, the key path, the bad value and what was expected.

Monte Carlo tolerances (as in tests/test_smc.py): the mean forecast over ``len(SEEDS)`` seeds is
checked against the exact value within ``K_SE`` standard errors of that mean, the standard error
being the larger of the spread between seeds and the forecasts' own reported standard error, over
sqrt(seeds).  With 10 seeds the mean's error in units of its estimated standard error is Student t
with 9 degrees of freedom, which exceeds 6 with probability about 2e-4.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy import integrate, stats

from conftest import HEADER
from scenarios.engine.asof import Plan, forecast_as_of, run_plans
from scenarios.engine.conditional import freeze, node_likelihood
from scenarios.engine.evidence import parse_evidence
from scenarios.engine.forecast import run_forecast
from scenarios.engine.simulate import node_rng, simulate
from scenarios.errors import ParamsError
from scenarios.model.load import load_model
from scenarios.model.report_spec import TreeLevel, report_spec
from scenarios.model.scenario import Context
from scenarios.notebook.plotdata import event_curve, scenario_tree

URL = "https://example.org/after-all-any"
AS_OF = dt.date(2023, 9, 5)  # HEADER's as_of: model day 0
HORIZON = 360  # HEADER: 12 months of 30 days
SEEDS = tuple(range(101, 111))
K_SE = 6.0


def day(date: dt.date) -> int:
    return (date - AS_OF).days


def item(public_on, **what) -> dict:
    return {"public_on": str(public_on), "source": URL, **what}


def rate(chance_per_month: float) -> float:
    """Daily hazard of a monthly chance (the engine's constant hazard)."""
    return -math.log1p(-chance_per_month) / 30


# a and b: independent hazards, each never in some worlds (when:, or past the horizon)
TWO = HEADER + """
nodes:
  flag: {bernoulli: {p: 0.6}}
  a: {event: {when: flag, chance_per_month: 0.15}}
  b: {event: {chance_per_month: 0.25}}
  both: {event: {after: {all: [a, b]}}}
  either: {event: {after: {any: [a, b]}}}
  both_later: {event: {after: {all: [a, b]}, delay: {gamma: {shape: 2, scale: 5}}}}
  either_hazard: {event: {after: {any: [a, b]}, chance_per_month: 0.5}}
questions:
  - {id: both_by, resolve: {event: both, by: 2024-01-31}}
  - {id: either_by, resolve: {event: either, between: [2023-10-01, 2023-12-31]}}
  - {id: both_when, type: date, resolve: {event: both}}
"""


@pytest.fixture
def two(write):
    return load_model(write("two.yaml", TWO))


# =========================================================================== the day in every world


def test_all_is_the_latest_day_and_any_the_earliest_in_every_world(two):
    model, _ = two
    w = simulate(model, 20_000, seed=3)
    a, b = np.asarray(w["a"]), np.asarray(w["b"])
    assert np.array_equal(w["both"], np.maximum(a, b))  # exactly: nothing is drawn
    assert np.array_equal(w["either"], np.minimum(a, b))
    assert model.kinds["both"].type == model.kinds["either"].type == "event"


def test_never_when_any_listed_event_never_happens_for_all_and_when_none_does_for_any(two):
    model, _ = two
    w = simulate(model, 20_000, seed=3)
    a, b, both, either = (np.asarray(w[k]) for k in ("a", "b", "both", "either"))
    a_never, b_never = np.isinf(a), np.isinf(b)
    assert a_never.any() and b_never.any() and (a_never & b_never).any()  # every case occurs
    assert np.array_equal(np.isinf(both), a_never | b_never)
    assert np.array_equal(np.isinf(either), a_never & b_never)
    assert np.array_equal(either[a_never & ~b_never], b[a_never & ~b_never])  # the other one's day


def test_a_delay_counts_from_the_latest_day_and_draws_what_after_one_event_would(write):
    # both_later equals, world by world, the same node after one event m = max(a, b) (its stream
    # is keyed by its name, so the same delays are drawn); past the horizon it is never
    joined, _ = load_model(write("j.yaml", TWO))
    chained, _ = load_model(write("c.yaml", TWO.replace(
        "both_later: {event: {after: {all: [a, b]},",
        "m: {event: {delay: {expr: 'max(a, b)'}}}\n  both_later: {event: {after: m,")))
    wj, wc = simulate(joined, 20_000, seed=5), simulate(chained, 20_000, seed=5)
    assert np.array_equal(wj["both_later"], wc["both_later"])
    later, start = np.asarray(wj["both_later"]), np.maximum(wj["a"], wj["b"])
    drawn = np.isfinite(later)
    assert (later[drawn] >= start[drawn]).all() and (later[drawn] <= HORIZON).all()
    assert np.isinf(later[np.isinf(start)]).all()
    ok = np.isfinite(start) & (start < HORIZON - 200)  # far from the horizon: the delay is never cut
    assert drawn[ok].all()
    assert stats.kstest(later[ok] - start[ok], stats.gamma(2, scale=5).cdf).pvalue > 1e-3


def test_a_hazard_counts_from_the_earliest_day(two):
    model, _ = two
    w = simulate(model, 40_000, seed=8)
    start, day_ = np.asarray(w["either"]), np.asarray(w["either_hazard"])
    assert np.isinf(day_[np.isinf(start)]).all()
    ok = np.isfinite(start) & (start < 60)
    waited = np.where(np.isfinite(day_[ok]), day_[ok] - start[ok], np.inf)
    assert (waited >= 0).all()
    p_30 = np.mean(waited <= 30)  # P(within a month of the start) = chance_per_month (none cut by the horizon)
    assert abs(p_30 - 0.5) < 5 * math.sqrt(0.25 / ok.sum())


# =========================================================================== questions


def test_questions_read_it_as_an_event(two):
    model, questions = two
    f = run_forecast(model, questions, samples=20_000, seed=4).by_id()
    w = simulate(model, 20_000, seed=4)
    a, b = np.asarray(w["a"]), np.asarray(w["b"])
    both, either = np.maximum(a, b), np.minimum(a, b)
    assert f["both_by"].probability == pytest.approx(np.mean(both <= day(dt.date(2024, 1, 31))), abs=1e-12)
    lo, hi = day(dt.date(2023, 10, 1)), day(dt.date(2023, 12, 31))
    assert f["either_by"].probability == pytest.approx(np.mean((either > lo - 1) & (either <= hi)), abs=1e-12)
    assert f["both_when"].probability_never == pytest.approx(np.mean(np.isinf(both)), abs=1e-12)


def test_a_question_on_max_of_events_says_how_to_write_the_event(write):
    text = HEADER + """
nodes:
  a: {event: {chance_per_month: 0.2}}
  b: {event: {chance_per_month: 0.2}}
  later: {expr: "max(a, b)"}
questions:
  - {id: q, resolve: {event: later, by: 2023-12-31}}
"""
    with pytest.raises(ParamsError, match=r"questions\.0\.resolve\.event: 'later' is a number node; .*"
                       r"write 'later' as event: \{after: \{all: \[a, b\]\}\}, for the earlier \{any: \[\.\.\.\]\}"):
        load_model(write("m.yaml", text))


# =========================================================================== evidence


def test_node_likelihood_is_the_delay_probability_from_the_latest_day(two):
    # P(day d | parents) = G(d - m) - G(d - 1 - m) with m = max(a, b), G the delay's CDF; an
    # indicator without a delay; 0 when a listed event never happens
    model, _ = two
    n = 5000
    w = simulate(model, n, seed=6)
    ctx = Context(dict(w.arrays), model.kinds, n, model)
    m = np.maximum(w["a"], w["b"])
    d = 60.0
    g = stats.gamma(2, scale=5).cdf
    with np.errstate(invalid="ignore"):
        expected = np.where(np.isfinite(m), g(d - m) - g(d - 1 - m), 0.0)
    got = node_likelihood(model, "both_later", d, ctx, node_rng(6, 0, "x"))
    assert np.allclose(got, expected, atol=1e-12)
    got = node_likelihood(model, "both", d, ctx, node_rng(6, 0, "x"))
    assert np.array_equal(got, ((m > d - 1) & (m <= d)).astype(float))
    e = np.minimum(w["a"], w["b"])
    got = node_likelihood(model, "either", d, ctx, node_rng(6, 0, "x"))
    assert np.array_equal(got, ((e > d - 1) & (e <= d)).astype(float))


def test_drawn_given_a_constraint_it_stays_in_it_with_its_exact_probability(two):
    model, _ = two
    n = 5000
    w = simulate(model, n, seed=6)
    ctx = Context(dict(w.arrays), model.kinds, n, model)
    m = np.maximum(w["a"], w["b"])
    frozen = freeze(model.nodes["both_later"].spec, ctx, node_rng(6, 0, "x"), n)
    g = stats.gamma(2, scale=5).cdf
    lo = 90.0
    with np.errstate(invalid="ignore"):  # P(not by day 90): the delay's survival past 90 - m; 1 if never
        p_never_by = np.where(np.isfinite(m), np.where(m > lo, 1.0, 1 - g(lo - m)), 1.0)
    assert np.allclose(frozen.prob_within(lo, math.inf), p_never_by, atol=1e-12)
    x, p = frozen.sample_within(lo, math.inf, node_rng(6, 0, "u").random(n))
    assert np.allclose(p, p_never_by, atol=1e-12)
    assert (x > lo).all() and ((x >= m) | np.isinf(x)).all()
    assert np.isinf(x[np.isinf(m)]).all()


def test_evidence_observes_it_and_bounds_what_all_waits_for(two):
    model, _ = two
    seen = parse_evidence(model, [
        item("2023-11-10", observe={"both": "2023-11-04"}),
        item("2023-12-01", observe={"both_later": {"by": "2023-11-30"}}),
    ])
    cond = seen.conditioning(model, dt.date(2023, 11, 10))
    assert cond.fixed == {"both": 60.0}
    # all's day says each listed event had happened by then (and a's when: flag, as for any event)
    assert cond.within == {"a": (-math.inf, 60.0), "b": (-math.inf, 60.0)}
    cond = seen.conditioning(model, dt.date(2023, 12, 1))
    assert cond.within == {"both_later": (-math.inf, 86.0), "a": (-math.inf, 60.0), "b": (-math.inf, 60.0)}
    # any needs only one of them: a watch (or an observation) bounds only itself
    watched = parse_evidence(model, [item("2023-09-05", watch=["either"])])
    assert watched.conditioning(model, dt.date(2023, 10, 5)).within == {"either": (30.0, math.inf)}
    seen = parse_evidence(model, [item("2023-11-10", observe={"either": {"by": "2023-11-04"}})])
    assert seen.conditioning(model, dt.date(2023, 11, 10)).within == {"either": (-math.inf, 60.0)}


def _check_against_exact(model, questions, evidence, as_of, exact: dict, *, resampled: bool, samples=5000) -> None:
    """forecast_as_of over SEEDS against ``exact``; ``resampled``: whether the worlds must have
    been resampled and moved (else plain weighting did, the evidence drawn given its bounds)."""
    plan = Plan(as_of, evidence.conditioning(model, as_of), list(questions))
    run_plans(model, [plan], samples=samples, seed=SEEDS[0], evidence=evidence)
    assert (plan.smc["resamples"] > 0) == resampled, plan.smc
    if resampled:
        assert 0 < plan.smc["acceptance"] <= 1, plan.smc
    got = {qid: [] for qid in exact}
    for seed in SEEDS:
        f = forecast_as_of(model, questions, evidence, as_of, samples=samples, seed=seed).by_id()
        for qid in exact:
            got[qid].append((f[qid].probability, f[qid].stderr))
    r = len(SEEDS)
    for qid, value in exact.items():
        p, own = np.array(got[qid]).T
        se = max(float(p.std(ddof=1)), float(own.mean())) / math.sqrt(r)
        assert abs(p.mean() - value) < K_SE * se, (
            f"{qid}: mean of {r} seeds {p.mean():.4f} (each {np.round(p, 3).tolist()}) against exact {value:.4f}; "
            f"standard error {se:.4f}")


def test_observing_the_day_of_all_matches_exact_bayes_by_quadrature(write):
    # c = max(a, b) + gamma(2, 5) seen on day 60: P(a by day 30 | c on day 60).  With m = max(a, b),
    # P(a <= D, m <= x) = F_a(min(D, x)) F_b(x), so both terms are one integral over x of the
    # likelihood L(x) = G(60 - x) - G(59 - x) against that joint law's density
    text = HEADER + """
nodes:
  a: {event: {chance_per_month: 0.15}}
  b: {event: {chance_per_month: 0.25}}
  c: {event: {after: {all: [a, b]}, delay: {gamma: {shape: 2, scale: 5}}}}
questions:
  - {id: a_early, resolve: {event: a, by: 2023-10-05}}
  - {id: b_early, resolve: {event: b, by: 2023-10-05}}
"""
    model, questions = load_model(write("m.yaml", text))
    ra, rb = rate(0.15), rate(0.25)
    fa, fb = stats.expon(scale=1 / ra), stats.expon(scale=1 / rb)
    g = stats.gamma(2, scale=5).cdf
    d, big_d = 60, day(dt.date(2023, 10, 5))

    def lik(x):
        return g(d - x) - g(d - 1 - x)

    def density(x):  # of m = max(a, b) (both within the horizon: d < 360)
        return fa.pdf(x) * fb.cdf(x) + fa.cdf(x) * fb.pdf(x)

    total = integrate.quad(lambda x: lik(x) * density(x), 0, d, points=[d - 1], epsabs=1e-13)[0]

    def early(f_this, f_other):  # P(this <= D, m in dx): the density of F_this(min(D, x)) F_other(x)
        below = integrate.quad(lambda x: lik(x) * (f_this.pdf(x) * f_other.cdf(x) + f_this.cdf(x) * f_other.pdf(x)),
                               0, big_d, epsabs=1e-13)[0]
        above = integrate.quad(lambda x: lik(x) * f_this.cdf(big_d) * f_other.pdf(x), big_d, d, points=[d - 1],
                               epsabs=1e-13)[0]
        return (below + above) / total

    exact = {"a_early": early(fa, fb), "b_early": early(fb, fa)}
    assert 0.25 < exact["a_early"] < 0.35 and exact["b_early"] > exact["a_early"]  # informative: prior 0.15, 0.25
    evidence = parse_evidence(model, [item("2023-11-10", observe={"c": "2023-11-04"})])
    _check_against_exact(model, questions, evidence, dt.date(2023, 11, 10), exact, resampled=True)


def test_watching_any_matches_exact_bayes_through_an_uncertain_hazard(write):
    # c = min(a, b) watched from as_of: as of day 60 neither has happened.  a's monthly chance r ~
    # U(0.05, 0.5), so P(a > 60 | r) = (1 - r)^2 and P(60 < a <= 90 | r) = (1 - r)^2 - (1 - r)^3; b's
    # factor P(b > 60) is the same in every world and cancels
    text = HEADER + """
nodes:
  r: {uniform: [0.05, 0.5]}
  a: {event: {chance_per_month: r}}
  b: {event: {chance_per_month: 0.2}}
  c: {event: {after: {any: [a, b]}}}
questions:
  - {id: a_next_month, resolve: {event: a, by: 2023-12-04}}
  - {id: r_high, resolve: {quantity: r, at_least: 0.25}}
  - {id: c_next_month, resolve: {event: c, by: 2023-12-04}}
"""
    model, questions = load_model(write("m.yaml", text))
    total = integrate.quad(lambda r: (1 - r) ** 2, 0.05, 0.5)[0]
    a_next = integrate.quad(lambda r: (1 - r) ** 2 - (1 - r) ** 3, 0.05, 0.5)[0] / total
    r_high = integrate.quad(lambda r: (1 - r) ** 2, 0.25, 0.5)[0] / total
    # c in (60, 90]: 1 - P(a > 90 | a > 60) P(b > 90 | b > 60) = 1 - E[(1 - r) | ev] * 0.8
    c_next = 1 - 0.8 * integrate.quad(lambda r: (1 - r) ** 3, 0.05, 0.5)[0] / total
    exact = {"a_next_month": a_next, "r_high": r_high, "c_next_month": c_next}
    evidence = parse_evidence(model, [item("2023-09-05", watch=["c"])])
    _check_against_exact(model, questions, evidence, dt.date(2023, 11, 4), exact, resampled=True)


def test_knowing_all_happened_by_a_date_matches_exact_bayes(write):
    # c = max(a, b) by day 60 means a <= 60 and b <= 60: P(a by day 30 | ev) = F_a(30) / F_a(60)
    text = HEADER + """
nodes:
  a: {event: {chance_per_month: 0.15}}
  b: {event: {chance_per_month: 0.25}}
  c: {event: {after: {all: [a, b]}}}
questions:
  - {id: a_early, resolve: {event: a, by: 2023-10-05}}
"""
    model, questions = load_model(write("m.yaml", text))
    exact = {"a_early": (1 - 0.85) / (1 - 0.85**2)}
    evidence = parse_evidence(model, [item("2023-11-10", observe={"c": {"by": "2023-11-04"}})])
    # a and b are drawn given a, b <= 60 (implied by all): every world then weighs the same
    _check_against_exact(model, questions, evidence, dt.date(2023, 11, 10), exact, resampled=False, samples=2000)


# =========================================================================== the report


def test_the_report_charts_it_as_an_event_and_a_tree_level(write):
    model, _ = load_model(write("d.yaml", TWO))
    assert {"both", "either", "both_later", "either_hazard"} <= set(report_spec(model).events)  # by default
    text = TWO + "report:\n  tree: [{node: both, label: in force, bins: [2023-10-31, 2024-01-31]}]\n  events: [both, either]\n"
    model, _ = load_model(write("r.yaml", text))
    spec = report_spec(model)
    assert spec.events == ("both", "either")
    assert spec.tree == (TreeLevel("both", "in force", (dt.date(2023, 10, 31), dt.date(2024, 1, 31))),)
    w = simulate(model, 5000, seed=9)
    m = np.maximum(w["a"], w["b"])
    curve = event_curve(w, "both")
    assert curve.probability[90] == pytest.approx(np.mean(np.ceil(m) <= 90), abs=1e-12)
    assert curve.p_never == pytest.approx(np.mean(np.isinf(m)), abs=1e-12)
    probs = {b.path[-1]: b.probability for b in scenario_tree(w, spec.tree_levels).branches}
    assert probs["never"] == pytest.approx(np.mean(np.isinf(m)), abs=1e-12)
    assert probs["by 31 Oct 2023"] == pytest.approx(np.mean(m <= day(dt.date(2023, 10, 31))), abs=1e-12)


def test_the_report_refusing_max_of_events_says_how_to_write_the_event(write):
    text = HEADER + """
nodes:
  a: {event: {chance_per_month: 0.2}}
  b: {event: {chance_per_month: 0.2}}
  later: {expr: "max(a, b)"}
report: {events: [later]}
"""
    with pytest.raises(ParamsError, match=r"report\.events\.0: expected an event node, 'later' is a number node .*"
                       r"after: \{all: \[a, b\]\}"):
        load_model(write("m.yaml", text))


# =========================================================================== bad forms


EVENTS = "ratified_a: {event: {chance_per_month: 0.2}}\n  ratified_b: {event: {chance_per_month: 0.2}}\n  x: 3\n  "

BAD = [
    ("c: {event: {after: {all: [ratified_a, ratified_bb]}}}", "nodes.c.event.after.all.1",
     r"unknown node 'ratified_bb' \(did you mean 'ratified_b'\?\)"),
    ("c: {event: {after: {all: [ratified_a, x]}}}", "nodes.c.event.after.all.1",
     r"expected an event node, 'x' is a number node"),
    ("c: {event: {after: {any: []}}}", "nodes.c.event.after.any",
     r"expected a non-empty list of event node names, got an empty list"),
    ("c: {event: {after: {all: ratified_a}}}", "nodes.c.event.after.all",
     r"expected a non-empty list of event node names, got a string \('ratified_a'\)"),
    ("c: {event: {after: {all: [ratified_a], any: [ratified_b]}}}", "nodes.c.event.after",
     r"expected one of all \(the latest of the events\) and any \(the earliest\), got both"),
    ("c: {event: {after: {}}}", "nodes.c.event.after", r"expected one of all .* got an empty mapping"),
    ("c: {event: {after: {alll: [ratified_a]}}}", "nodes.c.event.after.alll",
     r"unknown key 'alll'; expected one of \['all', 'any'\] \(did you mean 'all'\?\)"),
    ("c: {event: {after: [ratified_a, ratified_b]}}", "nodes.c.event.after",
     r"got a list \(\['ratified_a', 'ratified_b'\]\); write after: \{all: \[\.\.\.\]\} for the latest"),
    ("c: {event: {after: {all: [ratified_a, ratified_a]}}}", "nodes.c.event.after.all.1", r"'ratified_a' is listed twice"),
    ("c: {event: {after: {all: [ratified_a, 3]}}}", "nodes.c.event.after.all.1",
     r"expected the name of an event node, got int \(3\)"),
    ("c: {event: {after: {all: [ratified_a, c]}}}", "nodes.c", r"cycle in node references: c -> c"),
    ("c: {event: {after: {all: [ratified_a, d]}}}\n  d: {event: {after: {any: [c, ratified_b]}}}", "nodes.d",
     r"cycle in node references: c -> d -> c"),
    ("c: {event: {after: {all: [ratified_a]}, delay: 3, chance_per_month: 0.1}}", "nodes.c.event",
     r"expected exactly one of 'delay' and 'chance_per_month'"),
    ("c: {event: {after: ratified_a}}", "nodes.c.event",
     r"expected exactly one of 'delay' and 'chance_per_month' \(both may be left out only with after: \{all"),
]


@pytest.mark.parametrize("nodes, where, match", BAD)
def test_bad_forms_name_the_file_key_path_value_and_what_was_expected(write, nodes, where, match):
    path = write("m.yaml", HEADER + "nodes:\n  " + EVENTS + nodes + "\n")
    with pytest.raises(ParamsError, match=match) as info:
        load_model(path)
    assert info.value.file == path and info.value.path == where
    assert str(info.value).startswith(path)
