"""Evidence: likelihoods against exact answers, conditioning by Bayes, no look-ahead, validation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os

import numpy as np
import pytest
from scipy import stats

from conftest import HEADER, REPO
from scenarios.cli import main
from scenarios.engine.asof import Plan, forecast_as_of, run_plans
from scenarios.engine.conditional import node_likelihood
from scenarios.engine.evidence import Evidence, EvidenceError, Noise, load_evidence, parse_evidence
from scenarios.engine.forecast import run_forecast
from scenarios.engine.simulate import simulate
from scenarios.errors import ParamsError, ScenarioError
from scenarios.model.load import load_model
from scenarios.model.scenario import Context

BASE = os.path.join(REPO, "params", "base.yaml")
URL = "https://example.org/report"

TINY = HEADER + """
nodes:
  a: {bernoulli: {p: 0.3}}
  b:
    by: a
    cases:
      true: {categorical: {x: 0.8, y: 0.2}}
      false: {categorical: {x: 0.1, y: 0.9}}
  timing: {categorical: {early: 0.6, late: 0.4}}
  e:
    event:
      when: a
      delay:
        by: timing
        cases:
          early: {uniform: [0, 20], round: ceil}
          late: {uniform: [10, 60], round: ceil}
  h:
    event:
      when: a
      chance_per_month: 0.2
questions:
  - {id: qa, resolve: {is: {a: true}}}
  - {id: qearly, resolve: {is: {timing: early}}}
"""


def item(public_on, **what):
    return {"public_on": public_on, "source": URL, **what}


def p_of(forecast, qid):
    return forecast.by_id()[qid].probability


def close_to(estimate, exact, ess, k=5.0):
    """Within k standard errors of a proportion with effective sample size ess."""
    se = math.sqrt(max(exact * (1 - exact), 1e-4) / ess)
    return abs(estimate - exact) < k * se


@pytest.fixture
def tiny(write):
    return load_model(write("tiny.yaml", TINY))


# --------------------------------------------------------------------------- exact conditioning


def test_categorical_observation_matches_bayes(tiny):
    model, questions = tiny
    ev = parse_evidence(model, [item("2023-09-06", observe={"b": "x"})])
    f = forecast_as_of(model, questions, ev, dt.date(2023, 9, 6), samples=100_000)
    exact = 0.3 * 0.8 / (0.3 * 0.8 + 0.7 * 0.1)
    assert close_to(p_of(f, "qa"), exact, f.ess)
    assert f.ess < 100_000  # weighted, not rejected: every world keeps a weight


def test_event_day_observation_informs_its_parents_exactly(tiny):
    # e on day 15: P(day 15 | early) = 1/20, P(day 15 | late) = 1/50; and e happening means a is true
    model, questions = tiny
    ev = parse_evidence(model, [item("2023-09-25", observe={"e": "2023-09-20"})])
    f = forecast_as_of(model, questions, ev, dt.date(2023, 9, 25), samples=60_000)
    exact = 0.6 / 20 / (0.6 / 20 + 0.4 / 50)
    assert p_of(f, "qa") == 1.0  # implied: when: a is observed true
    assert close_to(p_of(f, "qearly"), exact, f.ess)


def test_never_by_constraint_matches_bayes_and_draws_within(tiny):
    # not by day 10: P = 1 - P(a) P(e <= 10) with P(e <= 10 | a) = 0.6 * 10/20
    model, questions = tiny
    ev = parse_evidence(model, [item("2023-09-15", observe={"e": {"never_by": "2023-09-15"}})])
    as_of = dt.date(2023, 9, 15)
    f = forecast_as_of(model, questions, ev, as_of, samples=60_000)
    p_le = 0.6 * 10 / 20
    exact = 0.3 * (1 - p_le) / (0.3 * (1 - p_le) + 0.7)
    assert close_to(p_of(f, "qa"), exact, f.ess)
    assert f.ess > 0.9 * 60_000  # drawn given the constraint: weights vary only through a and timing


def test_watched_hazard_event_is_drawn_after_the_date_and_memoryless(tiny):
    model, _ = tiny
    ev = parse_evidence(model, [item("2023-09-05", watch=["h"])])
    plan = Plan(dt.date(2023, 11, 4), ev.conditioning(model, dt.date(2023, 11, 4)))
    seen = []

    class Sink:
        reads = {"h": None, "a": None}

        def add(self, worlds, weights):
            seen.append((np.array(worlds["h"]), np.array(worlds["a"]), weights))

        def part(self):
            return None  # what it keeps is in seen already

        def merge(self, part):
            pass

    plan.sinks = [Sink()]
    run_plans(model, [plan], samples=40_000, seed=3)
    h, a, w = seen[0]
    assert (h[np.isfinite(h)] > 60).all()
    # weight = P(h > 60 | a) = (1 - 0.2)^2 for a, 1 for not a
    assert np.allclose(w[a], 0.8**2) and np.allclose(w[~a], 1.0)
    # memoryless: h - 60 given a has the unconstrained distribution (monthly chance 0.2)
    finite = h[a & np.isfinite(h)] - 60
    rate = -math.log(0.8) / 30
    assert stats.kstest(finite[finite < 200], stats.truncexpon(b=200 * rate, scale=1 / rate).cdf).pvalue > 1e-3


@pytest.mark.parametrize(
    "spec",
    [
        "{uniform: [3, 17], round: ceil}",
        "{lognormal: {ci90: [5, 80]}, round: floor, shift: -2}",
        "{gamma: {shape: 2, scale: 6}, round: nearest, clip: [0, 30]}",
        "{normal: {mean: 20, sd: 6}, truncate: [5, null], round: ceil}",
        "{beta: {a: 2, b: 5}}",
        "{poisson: {rate: 7}}",
        "{geometric: {p: 0.2}}",
        "{mixture: [{weight: 0.3, dist: {uniform: [0, 5]}}, {weight: 0.7, dist: {poisson: {rate: 12}}}]}",
    ],
)
def test_interval_probabilities_match_simulation(write, spec):
    # the closed-form CDF of every family and option against the engine's own draws
    model, _ = load_model(write("f.yaml", HEADER + f"nodes:\n  x: {spec}\n"))
    n = 200_000
    x = simulate(model, n, seed=11)["x"]
    ctx = Context({}, model.kinds, 1, model)
    from scenarios.engine.conditional import freeze

    frozen = freeze(model.nodes["x"].spec, ctx, np.random.default_rng(0), 1)
    for lo, hi in ((-1, 2), (2, 9), (9, 15.5), (0.1, 0.4), (15, 40)):
        exact = float(frozen.cdf(hi)[0] - frozen.cdf(lo)[0])
        empirical = float(np.mean((x > lo) & (x <= hi)))
        assert abs(exact - empirical) < 5 * math.sqrt(max(exact * (1 - exact), 1e-6) / n) + 1e-9, (lo, hi)


def test_node_likelihood_of_each_kind(tiny):
    model, _ = tiny
    w = simulate(model, 1000, seed=1)
    ctx = Context(dict(w.arrays), model.kinds, 1000, model)
    rng = np.random.default_rng(0)
    a = w["a"]
    lik_b = node_likelihood(model, "b", 0, ctx, rng)  # category x
    assert np.allclose(lik_b[a], 0.8) and np.allclose(lik_b[~a], 0.1)
    assert np.allclose(node_likelihood(model, "a", True, ctx, rng), 0.3)
    lik_e = node_likelihood(model, "e", 15.0, ctx, rng)
    early = w["timing"] == 0
    assert np.allclose(lik_e[a & early], 1 / 20) and np.allclose(lik_e[a & ~early], 1 / 50)
    assert np.allclose(lik_e[~a], 0.0)


# --------------------------------------------------------------------------- reports


def test_noise_models_against_scipy():
    t = np.array([500.0, 1000.0, 4000.0])
    ln = Noise("lognormal", 0.1, 0.4)
    exact = stats.norm.cdf((np.log(t) + 0.1 - math.log(1000)) / 0.4)
    assert np.allclose(ln.interval(t, 1000, math.inf), exact)
    share = Noise("detected_share", 8.0, 2.0)
    exact = stats.beta.sf(1000 / t, 8, 2) - 0.0
    assert np.allclose(share.interval(t, 1000, math.inf), np.where(t > 1000, exact, 0.0))
    r = 450 / t
    assert np.allclose(share.density(t, 450), np.where(r < 1, r * stats.beta.pdf(r, 8, 2), 0.0))
    nm = Noise("normal", 0.0, 300.0)
    assert np.allclose(nm.density(t, 900), np.exp(-0.5 * ((900 - t) / 300) ** 2))
    assert ln.interval(np.array([0.0]), 1000, math.inf)[0] == 0.0  # nothing happened: nothing said


def test_report_on_a_number_matches_the_conjugate_posterior(write):
    # log x ~ N(mu0, s0); said = x e^(sigma Z) => log x | said ~ normal (conjugate)
    mu0, s0, sigma, said = math.log(1000), 0.8, 0.3, 3000.0
    model, questions = load_model(write("n.yaml", HEADER + f"nodes:\n  x: {{lognormal: {{mu: {mu0}, sigma: {s0}}}}}\n"
                                        + "questions:\n  - {id: big, resolve: {quantity: x, at_least: 2500}}\n"))
    ev = parse_evidence(model, [item("2023-10-01", report={
        "quantity": "x", "said": {"value": said}, "likelihood": {"lognormal": {"sigma": sigma}}})])
    f = forecast_as_of(model, questions, ev, dt.date(2023, 10, 1), samples=40_000)
    prec = 1 / s0**2 + 1 / sigma**2
    mean = (mu0 / s0**2 + math.log(said) / sigma**2) / prec
    exact = float(stats.norm.sf(math.log(2500), mean, 1 / math.sqrt(prec)))
    assert close_to(p_of(f, "big"), exact, f.ess)


def test_flow_report_candidates_agree_with_plain_weighting(write):
    # drawing several candidates per world changes the variance, not the answer (the rate is
    # drawn inside the flow, as in params/base.yaml, so candidates differ in rate)
    text = HEADER + """
nodes:
  c:
    flow: {rate: {lognormal: {ci90: [20, 400]}}, ramp_months: {uniform: [1, 3]}}
questions:
  - {id: fast, resolve: {quantity: c.cumulative, 'on': 2024-01-03, at_least: 1500}}
"""
    model, questions = load_model(write("flow.yaml", text))
    ev = parse_evidence(model, [item("2023-11-10", report={
        "quantity": "c.cumulative", "on": "2023-11-04", "said": {"low": 400},
        "likelihood": {"lognormal": {"sigma": 0.3}}})])
    as_of = dt.date(2023, 11, 10)
    out = {}
    for k, n in ((1, 200_000), (16, 30_000)):
        plan = Plan(as_of, ev.conditioning(model, as_of), questions)
        run_plans(model, [plan], samples=n, seed=5, candidates=k)
        out[k] = (plan.accs[0].result(model.as_of).probability, plan.ess)
    (p1, e1), (p16, e16) = out[1], out[16]
    assert e16 / 30_000 > 2 * e1 / 200_000  # candidates keep more of the sample
    se = math.sqrt(p1 * (1 - p1) / e1 + p16 * (1 - p16) / e16)
    assert abs(p1 - p16) < 5 * se


# --------------------------------------------------------------------------- as of a date


def test_no_look_ahead_items_after_the_date_never_change_the_forecast():
    model, questions = load_model(BASE)
    full = load_evidence(model)
    as_of = dt.date(2023, 12, 1)
    base = forecast_as_of(model, questions, full, as_of, samples=3000).to_dict()
    later = [it for it in full.items if it.public_on > as_of]
    earlier = [it for it in full.items if it.public_on <= as_of]
    removed = Evidence(tuple(earlier))
    extra = parse_evidence(model, [
        item("2023-12-02", observe={"lavrov_visit": "2023-11-30"}),  # contradicts nothing public by then
        item("2024-01-15", report={"quantity": "containers.cumulative", "on": "2023-11-01",
                                   "said": {"value": 50}, "likelihood": {"lognormal": {"sigma": 0.1}}}),
        item("2023-12-02", watch={"summit_day": 0, "kim_russia_visit2": 3}),
    ])
    added = Evidence(full.items + extra.items)
    changed = Evidence(tuple(earlier) + tuple(
        dataclasses.replace(it, report=dataclasses.replace(it.report, value=it.report.value * 3, low=None, high=None))
        if it.report is not None and it.report.value else it for it in later))
    for variant in (removed, added, changed):
        assert forecast_as_of(model, questions, variant, as_of, samples=3000).to_dict() == base


def test_forecast_with_no_evidence_is_the_plain_forecast():
    model, questions = load_model(os.path.join(REPO, "params", "reference.yaml"))
    plain = run_forecast(model, questions, samples=30_000, seed=4).to_dict()
    as_of = forecast_as_of(model, questions, Evidence(), model.as_of, samples=30_000, seed=4).to_dict()
    assert as_of["questions"] == plain["questions"]
    assert as_of["effective_sample_size"] == 30_000


def test_no_evidence_is_the_plain_forecast_over_several_chunks():
    # the last chunk is partial: as-of and plain runs share the chunking and per-node draws
    model, questions = load_model(os.path.join(REPO, "params", "reference.yaml"))
    plain = run_forecast(model, questions, samples=10_000, seed=5, chunk_size=3_000).to_dict()
    as_of = forecast_as_of(model, questions, Evidence(), model.as_of, samples=10_000, seed=5, chunk_size=3_000)
    assert as_of.to_dict()["questions"] == plain["questions"]


def test_closed_and_resolved_questions_are_not_forecast(write):
    text = TINY.replace("questions:", "questions:\n  - {id: closed, close: 2023-09-10, resolve: {is: {a: true}}}")
    model, questions = load_model(write("q.yaml", text))
    f = forecast_as_of(model, questions, Evidence(), dt.date(2023, 9, 11), samples=500, resolved_on={"qa": dt.date(2023, 9, 11)})
    assert [q.id for q in f.questions] == ["qearly"]
    f = forecast_as_of(model, questions, Evidence(), dt.date(2023, 9, 10), samples=500, resolved_on={"qa": dt.date(2023, 9, 11)})
    assert [q.id for q in f.questions] == ["closed", "qa", "qearly"]


def test_impossible_evidence_is_a_clear_error(tiny):
    model, questions = tiny
    ev = parse_evidence(model, [item("2023-09-20", observe={"a": False, "e": {"by": "2023-09-20"}})])
    with pytest.raises(EvidenceError, match="probability 0 in all"):
        forecast_as_of(model, questions, ev, dt.date(2023, 9, 20), samples=1000)


def test_as_of_before_the_model_is_refused(tiny):
    model, questions = tiny
    with pytest.raises(ParamsError, match="before the model's as_of"):
        forecast_as_of(model, questions, Evidence(), dt.date(2023, 9, 1), samples=100)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "raw, match",
    [
        ({"public_on": "2023-09-06", "observe": {"a": True}}, r"0: missing key 'source'"),
        ({"public_on": "2023-09-06", "source": "somewhere", "observe": {"a": True}}, r"0\.source: expected a URL"),
        ({"public_on": "2023-09-06", "source": URL, "obsrve": {"a": True}}, r"unknown key 'obsrve'.*did you mean 'observe'"),
        (item("2023-09-06", observe={"aa": True}), r"0\.observe\.aa: unknown variable 'aa'"),
        (item("2023-09-06", observe={"b": "z"}), r"unknown category 'z' of 'b'; expected one of \['x', 'y'\]"),
        (item("2023-09-06", observe={"a": "yes"}), r"'a' is boolean; expected true or false"),
        (item("2023-09-06", observe={"e": "2023-09-20"}), r"event date 2023-09-20 is after the item became public"),
        (item("2023-09-01", observe={"a": True}), r"public_on: 2023-09-01 is before the model's as_of"),
        (item("2023-09-06", observe={"e": {"nevr_by": "2023-09-06"}}), r"did you mean 'never_by'"),
        (item("2023-09-06", watch=["a"]), r"'a' is a bool node; only events, statements and repeated events can be watched"),
        (item("2023-09-06", report={"quantity": "e", "said": {"value": 3}, "likelihood": {"lognormal": {"sigma": 1}}}),
         r"'e' is a event node; a report needs a number, a flow or a stock"),
        (item("2023-09-06", report={"quantity": "x", "said": {"value": 3}, "likelihood": {"lognormal": {"sigma": 1}}}),
         r"unknown variable 'x'"),
        (item("2023-09-06", observe={}), r"expected a mapping of variable: observed value"),
        (item("2023-09-06"), r"expected at least one of observe, report, watch"),
    ],
)
def test_validation_errors_name_file_path_and_fix(tiny, raw, match):
    model, _ = tiny
    with pytest.raises(ParamsError, match=match):
        parse_evidence(model, [raw], file="ev.yaml")


def test_report_validation(write):
    model, _ = load_model(write("r.yaml", HEADER + "nodes:\n  share: {beta: {a: 2, b: 2}}\n  c: {flow: {rate: 10}}\n"))

    def check(report, match):
        with pytest.raises(ParamsError, match=match):
            parse_evidence(model, [item("2023-10-01", report=report)])

    good = {"quantity": "c.cumulative", "on": "2023-09-20", "said": {"value": 5}, "likelihood": {"lognormal": {"sigma": 0.3}}}
    parse_evidence(model, [item("2023-10-01", report=good)])
    check({**good, "on": "2023-10-02"}, "after the item became public")
    check({k: v for k, v in good.items() if k != "on"}, "is a flow: say which date")
    check({**good, "quantity": "c.cumulativ"}, "unknown series 'cumulativ'")
    check({**good, "likelihood": {"lognormal": {"sigma": -1}}}, "expected sigma > 0")
    check({**good, "likelihood": {"lognorml": {"sigma": 1}}}, "did you mean 'lognormal'")
    check({**good, "said": {"value": 5, "low": 6}}, r"said\.value: expected the headline value within the range stated \(low=6\), got 5")
    check({**good, "said": {"at_least": 5, "low": 6}}, "give one of them")
    check({**good, "likelihood": {"detected_share": {"beta": {"mean": 2, "concentration": 3}}}}, "0 < mean < 1")
    with pytest.raises(ParamsError, match="continuous quantity"):
        parse_evidence(model, [item("2023-10-01", observe={"share": 0.5})])


def test_contradictions_between_items_are_errors(tiny):
    model, _ = tiny
    with pytest.raises(ParamsError, match="contradicts item 'first'"):
        parse_evidence(model, [
            {**item("2023-09-20", observe={"e": "2023-09-15"}), "id": "first"},
            item("2023-09-25", observe={"e": "2023-09-16"}),
        ])
    with pytest.raises(ParamsError, match="watch it with a lag of at least 4 days"):
        parse_evidence(model, [item("2023-09-05", watch=["e"]), item("2023-09-19", observe={"e": "2023-09-15"})])


def test_the_real_evidence_file_loads_and_only_uses_its_sources():
    model, _ = load_model(BASE)
    ev = load_evidence(model)
    assert len(ev) >= 30
    assert all(it.source.startswith("http") for it in ev.items)
    assert min(ev.dates()) >= model.as_of


def test_cli_forecast_as_of_prints_ess_and_warns(capsys):
    code = main(["forecast", BASE, "--as-of", "2024-03-01", "-n", "800", "--format", "table"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "as of 2024-03-01" in out and "ESS" in out
    assert "below 1,000" in err
    assert "summit_by_2023_09_30" not in out  # closed before the date


def test_cli_bad_evidence_exits_2_without_traceback(write, capsys):
    path = write("ev.yaml", "evidence:\n  - public_on: 2023-09-20\n    source: https://x.org\n    observe: {sumit_day: 2023-09-13}\n")
    code = main(["forecast", BASE, "--as-of", "2023-10-01", "--evidence", path, "-n", "100"])
    err = capsys.readouterr().err
    assert code == 2
    assert "evidence.0.observe.sumit_day: unknown variable 'sumit_day' (did you mean 'summit_day'?)" in err
    assert "Traceback" not in err
    assert main(["forecast", BASE, "--as-of", "2023-01-01", "-n", "100"]) == 2


def test_scenario_error_hierarchy():
    assert issubclass(EvidenceError, ScenarioError)
