"""Statement reports that give a range or a bound (``said: {low, high}``, ``{at_least}``, ...).

The source's figure F = x * bias * exp(noise Z) lies in [low, high]: the likelihood is
P(low <= F <= high | x), and the statement node reads the figure published (value, else the
bound named).  Checked against exact Bayes by quadrature over x (scipy), within a few Monte Carlo
standard errors of the engine's own run, under plain weighting and under resample-move.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy import integrate, stats

from scenarios.engine.asof import Plan, forecast_as_of, run_plans
from scenarios.engine.evidence import parse_evidence
from scenarios.errors import ParamsError
from scenarios.model.load import load_model

URL = "https://example.org/s"
MEDIAN, SIGMA = 1000.0, 0.5  # x ~ lognormal: median 1,000, sd of log x 0.5
BIAS, NOISE = 1.2, 0.3  # both statements' error model
THRESHOLDS = (800, 1000, 1200, 1500)
HEADER = "as_of: 2023-09-05\nhorizon_months: 12\nseed: 11\nsamples: 1000\n"
NODES = f"""\
nodes:
  x: {{lognormal: {{mu: {math.log(MEDIAN)!r}, sigma: {SIGMA}}}}}
  s1: {{statement: {{about: x, lag: 0, bias: {BIAS}, noise: {NOISE}, round_to: 100, rounding: down}}}}
  s2: {{statement: {{about: x, lag: 0, bias: {BIAS}, noise: {NOISE}, round_to: 100, rounding: down}}}}
  s3: {{statement: {{about: x, lag: 0, bias: {BIAS}, noise: {NOISE}, round_to: 100, rounding: down}}}}
"""
AS_OF = dt.date(2023, 10, 5)


def questions():
    qs = [{"id": f"a{t}", "resolve": {"quantity": "x", "at_least": t}} for t in THRESHOLDS]
    for s in ("s1", "s2", "s3"):  # what each statement has said by the end of the year
        qs += [{"id": f"{s}_{t}", "resolve": {"quantity": s, "on": "2023-12-31", "at_least": t}}
               for t in (900, 1000, 1100, 1300, 1400, 1500, 1600, 2000, 2100)]
    return qs


@pytest.fixture
def model(write):
    path = write("m.yaml", HEADER + NODES)
    return load_model(path, questions=questions())


def report(statement, said, public_on="2023-10-01"):
    return {"public_on": public_on, "source": URL, "report": {"quantity": statement, "said": said}}


def interval(low=0.0, high=math.inf):
    """P(low <= F <= high | x) for F = x * BIAS * exp(NOISE Z)."""
    def lik(x):
        centre = math.log(BIAS * x)
        up = 1.0 if math.isinf(high) else stats.norm.cdf((math.log(high) - centre) / NOISE)
        lo = 0.0 if low <= 0 else stats.norm.cdf((math.log(low) - centre) / NOISE)
        return up - lo
    return lik


def exact_tails(likelihoods) -> dict:
    """P(x >= t | evidence) for each threshold, by quadrature of prior density times likelihood."""
    prior = stats.lognorm(SIGMA, scale=MEDIAN)

    def mass(lo):
        f = lambda x: prior.pdf(x) * math.prod(lik(x) for lik in likelihoods)  # noqa: E731
        return integrate.quad(f, lo, np.inf, limit=400, epsabs=1e-14)[0]

    total = mass(0.0)
    return {f"a{t}": mass(t) / total for t in THRESHOLDS}


def run(model, evidence, *, resample_below):
    """The engine's answers with their Monte Carlo standard errors: qid -> (p, mcse), and the plan."""
    plan = Plan(AS_OF, evidence.conditioning(model[0], AS_OF), model[1])
    run_plans(model[0], [plan], samples=40_000, seed=3, evidence=evidence, resample_below=resample_below)
    return {acc.q.id: (acc.result(model[0].as_of).probability, acc.mcse()) for acc in plan.accs}, plan


CASES = {
    "range": ([("s1", {"low": 1000, "high": 1500})], [interval(1000, 1500)]),
    "at_least": ([("s1", {"at_least": 2000})], [interval(2000)]),
    "at_most": ([("s1", {"at_most": 700})], [interval(0, 700)]),
    "value in a range, a bound, a value": (
        [("s1", {"value": 1300, "low": 1000, "high": 1500}), ("s2", {"at_least": 1500}), ("s3", {"value": 1400})],
        [interval(1000, 1500), interval(1500), interval(1400, 1500)],  # s3: rounded down to the hundred
    ),
}


@pytest.mark.parametrize("resample_below", [0.0, 1.0], ids=["plain weighting", "resample-move"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_range_on_a_statement_moves_the_truth_as_exact_bayes_says(model, case, resample_below):
    said, likelihoods = CASES[case]
    evidence = parse_evidence(model[0], [report(s, body) for s, body in said])
    got, plan = run(model, evidence, resample_below=resample_below)
    if resample_below:
        assert plan.smc["resamples"] > 0 and plan.smc["acceptance"] > 0  # resampled and moved
    else:
        assert plan.smc["resamples"] == 0
    for qid, p in exact_tails(likelihoods).items():
        est, se = got[qid]
        assert abs(est - p) <= 5 * se + 1e-12, (case, qid, est, p, se)


def test_the_statement_reads_the_figure_published(model):
    # value when given, else the bound the source named: at_least / low, else at_most / high
    evidence = parse_evidence(model[0], [
        report("s1", {"value": 1300, "low": 1000, "high": 1500}),
        report("s2", {"at_least": 2000}),
        report("s3", {"at_most": 1500}),
    ])
    fc = forecast_as_of(model[0], model[1], evidence, AS_OF, samples=2000, seed=3)
    p = {q.id: q.probability for q in fc.questions}
    said = {"s1": 1300, "s2": 2000, "s3": 1500}
    for s, figure in said.items():
        for q, v in p.items():
            if q.startswith(s + "_"):
                assert v == float(figure >= int(q.split("_")[1])), (q, v)
    only_low = parse_evidence(model[0], [report("s1", {"low": 1000, "high": 1500})])
    fc = forecast_as_of(model[0], model[1], only_low, AS_OF, samples=2000, seed=3)
    p = {q.id: q.probability for q in fc.questions}
    assert (p["s1_1000"], p["s1_1100"]) == (1.0, 0.0)


def test_a_range_on_a_statement_about_a_flow_weighs_as_a_plain_report_with_its_error_model(write):
    # the statement's error model is lognormal(log bias, noise): the same likelihood as a plain report
    # on the running total on the day it spoke, so the forecasts of the flow are the same numbers
    nodes = f"""\
nodes:
  rate: {{lognormal: {{ci90: [50, 500]}}}}
  flow: {{flow: {{rate: rate}}}}
  said: {{statement: {{about: flow, lag: 0, bias: {BIAS}, noise: {NOISE}}}}}
"""
    qs = [{"id": f"f{t}", "resolve": {"quantity": "flow.cumulative", "on": "2023-12-31", "at_least": t}}
          for t in (200, 400, 800, 1600)]
    m, questions = load_model(write("f.yaml", HEADER + nodes), questions=qs)
    body = {"low": 300, "high": 900}
    statement = parse_evidence(m, [report("said", body)])
    plain = parse_evidence(m, [{"public_on": "2023-10-01", "source": URL, "report": {
        "quantity": "flow.cumulative", "on": "2023-10-01", "said": body,
        "likelihood": {"lognormal": {"mu": math.log(BIAS), "sigma": NOISE}}}}])
    a = forecast_as_of(m, questions, statement, AS_OF, samples=20_000, seed=3)
    b = forecast_as_of(m, questions, plain, AS_OF, samples=20_000, seed=3)
    pa = {q.id: q.probability for q in a.questions}
    pb = {q.id: q.probability for q in b.questions}
    assert pa.keys() == pb.keys()
    for k in pa:
        assert pa[k] == pytest.approx(pb[k], abs=1e-12), (k, pa[k], pb[k])


@pytest.mark.parametrize(("said", "pattern"), [
    ({"low": 1500, "high": 1000}, r"ev\.yaml: 0\.report\.said: expected low <= high, got low=1500, high=1000"),
    ({"at_least": 1500, "at_most": 1000}, r"report\.said: expected at_least <= at_most, got at_least=1500, at_most=1000"),
    ({"value": 2000, "low": 1000, "high": 1500},
     r"report\.said\.value: expected the headline value within the range stated \(low=1000, high=1500\), got 2000"),
    ({"value": 900, "at_least": 1000}, r"report\.said\.value: expected the headline value within the range stated \(at_least=1000\), got 900"),
    ({"at_least": 0}, r"report\.said\.at_least: expected a figure > 0"),
    ({"low": 0, "high": 500}, r"report\.said\.low: expected a figure > 0"),
    ({"at_most": -5}, r"report\.said\.at_most: expected a figure > 0"),
    ({"low": 10, "at_least": 20}, r"report\.said: at_least is the same as low"),
    ({"hihg": 10}, r"report\.said\.hihg: unknown key"),
    ({}, r"report\.said: expected"),
])
def test_bad_ranges_on_a_statement_are_refused_with_the_key_path(model, said, pattern):
    with pytest.raises(ParamsError, match=pattern):
        parse_evidence(model[0], [report("s1", said)], file="ev.yaml")
