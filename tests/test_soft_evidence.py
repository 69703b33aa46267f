"""Soft evidence (``suggests:``): a source's claim weighs worlds by its reliability, exactly by Bayes."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from scipy import integrate

from conftest import HEADER
from scenarios.cli import main
from scenarios.engine.asof import Plan, factor_ess, forecast_as_of, run_plans
from scenarios.engine.evidence import Evidence, Suggestion, parse_evidence
from scenarios.errors import ParamsError
from scenarios.model.load import load_model

URL = "https://example.org/rumour"
AS_OF = dt.date(2023, 9, 5)  # HEADER's
HORIZON = 360  # HEADER's 12 months of 30 days
P_LOW, P_HIGH = 0.05, 0.5  # the hazard's prior, uniform

BOOL = HEADER + """
nodes:
  b: {bernoulli: {p: 0.3}}
questions:
  - {id: qb, resolve: {is: {b: true}}}
"""

# a monthly chance p ~ U(0.05, 0.5) that the visit happens (when go is true, go ~ Bernoulli(0.4))
HAZARD = HEADER + """
nodes:
  p: {uniform: [0.05, 0.5]}
  go: {bernoulli: {p: 0.4}}
  visit: {event: {when: go, chance_per_month: p}}
questions:
  - {id: in_window, resolve: {event: visit, between: [2023-10-15, 2023-11-30]}}
  - {id: by_oct10, resolve: {event: visit, by: 2023-10-10}}
  - {id: by_oct31, resolve: {event: visit, by: 2023-10-31}}
  - {id: by_dec31, resolve: {event: visit, by: 2023-12-31}}
  - {id: go, resolve: {is: {go: true}}}
  - {id: fast, resolve: {quantity: p, at_least: 0.3}}
"""


def day(date: str) -> float:
    return float((dt.date.fromisoformat(date) - AS_OF).days)


def window(first: str, last: str) -> tuple:
    """A claim's window as model days lo < X <= hi (the days first to last)."""
    return day(first) - 1, day(last)


# what each question of HAZARD asks, as a function of (visit day, p, go)
ANSWERS = {
    "in_window": lambda x, p, go: window("2023-10-15", "2023-11-30")[0] < x <= day("2023-11-30"),
    "by_oct10": lambda x, p, go: x <= day("2023-10-10"),
    "by_oct31": lambda x, p, go: x <= day("2023-10-31"),
    "by_dec31": lambda x, p, go: x <= day("2023-12-31"),
    "go": lambda x, p, go: go,
    "fast": lambda x, p, go: p >= 0.3,
}
CUTS = [day("2023-10-10"), day("2023-10-31"), day("2023-12-31"), *window("2023-10-15", "2023-11-30")]


def exact(question: str, windows=(), values=()) -> float:
    """P(question | evidence) in HAZARD, exactly (by quadrature over p, exact sums over days).

    ``windows``: (lo, hi, if_true, if_false) claims about the visit's day (a watch's
    ``never_by: D`` is (D, inf, 1, 0)); ``values``: (value, if_true, if_false) claims about go.
    Given p and go, the visit's day is exponential with daily rate -log(1 - p) / 30, never past
    the horizon; the claims' likelihood is constant between the cuts, so each piece counts its
    exact probability times the likelihood at its middle.
    """
    edges = sorted({0.0, float(HORIZON), *(c for w in windows for c in w[:2] if 0 < c < HORIZON), *CUTS})

    def likelihood(x, go):
        out = 1.0
        for lo, hi, a, b in windows:
            out *= a if lo < x <= hi else b
        for value, a, b in values:
            out *= a if go == value else b
        return out

    def joint(p, answered):
        rate = -math.log1p(-p) / 30
        total = 0.0
        for go, prior in ((True, 0.4), (False, 0.6)):
            pieces = [((u + v) / 2, math.exp(-rate * u) - math.exp(-rate * v)) for u, v in zip(edges, edges[1:])] if go else []
            pieces.append((math.inf, math.exp(-rate * HORIZON) if go else 1.0))  # never, or past the horizon
            for x, mass in pieces:
                if not answered or ANSWERS[question](x, p, go):
                    total += prior * mass * likelihood(x, go)
        return total

    num = integrate.quad(lambda p: joint(p, True), P_LOW, P_HIGH, points=[0.3], epsabs=1e-12)[0]
    den = integrate.quad(lambda p: joint(p, False), P_LOW, P_HIGH, epsabs=1e-12)[0]
    return num / den


def claim(public_on, node, *, window=None, value=None, if_true, if_false, **extra):
    body = {"node": node, "if_true": if_true, "if_false": if_false}
    body.update({"window": window} if window is not None else {"value": value})
    return {"public_on": public_on, "source": URL, "suggests": body, **extra}


def answers(model, questions, evidence, as_of, *, samples, seed):
    """``forecast_as_of``'s probabilities, each with its Monte Carlo standard error: qid -> (p, mcse).

    The error is the delta-method one (by island once resampled) of the same run's accumulators:
    ``stderr``, sqrt(p (1 - p) / ESS), understates it when the weights depend on the answer, as a
    claim's do (1.3 times for ``in_window`` below).
    """
    f = forecast_as_of(model, questions, evidence, as_of, samples=samples, seed=seed)
    plan = Plan(as_of, evidence.conditioning(model, as_of), questions)
    run_plans(model, [plan], samples=samples, seed=seed, evidence=evidence)
    out = {acc.q.id: (acc.result(model.as_of).probability, acc.mcse()) for acc in plan.accs}
    assert {q.id: q.probability for q in f.questions} == {k: v[0] for k, v in out.items()}  # the same run
    return out, plan


def within(answered, qid, exact_value, k=5.0):
    """The engine's answer is within k of its standard errors of the exact one."""
    p, se = answered[qid]
    return abs(p - exact_value) <= k * se + 1e-12, (qid, p, exact_value, se)  # sure answers: se 0


@pytest.fixture
def boolean(write):
    return load_model(write("bool.yaml", BOOL))


@pytest.fixture
def hazard(write):
    return load_model(write("hazard.yaml", HAZARD))


# --------------------------------------------------------------------------- the likelihood


def test_the_likelihood_is_if_true_inside_the_window_and_if_false_outside():
    s = Suggestion("visit", (39.0, 86.0), 0.9, 0.3, "visit from 2023-10-15 to 2023-11-30")
    assert s.likelihood([39.0, 39.5, 86.0, 86.5, math.inf]).tolist() == [0.3, 0.9, 0.9, 0.3, 0.3]
    b = Suggestion("b", False, 0.8, 0.2, "b is false")
    assert b.likelihood([True, False]).tolist() == [0.2, 0.8]


def test_a_window_is_the_days_from_its_first_to_its_last_date(hazard):
    model, _ = hazard
    ev = parse_evidence(model, [claim("2023-10-01", "visit", window=["2023-10-15", "2023-11-30"], if_true=0.9, if_false=0.3)])
    (s,) = ev.conditioning(model, dt.date(2023, 10, 1)).suggestions
    assert s.claim == (day("2023-10-15") - 1, day("2023-11-30"))  # as a question's between: [D1, D2]
    assert (s.if_true, s.if_false, s.item) == (0.9, 0.3, "item0")


# --------------------------------------------------------------------------- exact Bayes


@pytest.mark.parametrize("value, exact_value", [(True, 0.3 * 0.8 / (0.3 * 0.8 + 0.7 * 0.2)),
                                                (False, 0.3 * 0.2 / (0.3 * 0.2 + 0.7 * 0.8))])
def test_a_claim_about_a_boolean_is_bayes(boolean, value, exact_value):
    model, questions = boolean
    ev = parse_evidence(model, [claim("2023-10-01", "b", value=value, if_true=0.8, if_false=0.2)])
    got, _ = answers(model, questions, ev, dt.date(2023, 10, 1), samples=100_000, seed=1)
    ok, info = within(got, "qb", exact_value)
    assert ok, info


def test_only_the_ratio_of_if_true_to_if_false_matters(boolean):
    model, questions = boolean
    as_of = dt.date(2023, 10, 1)

    def p(if_true, if_false):
        ev = parse_evidence(model, [claim("2023-10-01", "b", value=True, if_true=if_true, if_false=if_false)])
        return forecast_as_of(model, questions, ev, as_of, samples=20_000, seed=2).by_id()["qb"].probability

    assert math.isclose(p(0.8, 0.2), p(0.4, 0.1), rel_tol=1e-12)
    no_news = forecast_as_of(model, questions, Evidence(), as_of, samples=20_000, seed=2).by_id()["qb"].probability
    assert math.isclose(p(0.6, 0.6), no_news, rel_tol=1e-12)  # a source as likely to say it either way says nothing


def test_a_window_claim_about_an_event_is_bayes(hazard):
    model, questions = hazard
    claims = [window("2023-10-15", "2023-11-30") + (0.9, 0.3)]
    ev = parse_evidence(model, [claim("2023-10-01", "visit", window=["2023-10-15", "2023-11-30"], if_true=0.9, if_false=0.3)])
    got, _ = answers(model, questions, ev, dt.date(2023, 10, 1), samples=100_000, seed=3)
    for qid in ANSWERS:
        ok, info = within(got, qid, exact(qid, claims))
        assert ok, info
    # the claim moves what it is about: the visit in the window is likelier than the prior says
    assert exact("in_window", claims) > exact("in_window") + 0.05


def test_a_claim_on_a_watched_event_nothing_else_reads_is_bayes(hazard):
    # the watch draws the visit after 2023-10-20; the claim weighs that constrained draw, though
    # the questions asked read only p and go
    model, questions = hazard
    ev = parse_evidence(model, [
        {"public_on": "2023-09-05", "source": URL, "watch": ["visit"]},
        claim("2023-10-01", "visit", window=["2023-10-15", "2023-11-30"], if_true=0.9, if_false=0.1),
    ])
    as_of = dt.date(2023, 10, 20)
    asked = [q for q in questions if q.id in ("go", "fast")]
    got, _ = answers(model, asked, ev, as_of, samples=60_000, seed=4)
    claims = [(day("2023-10-20"), math.inf, 1.0, 0.0), window("2023-10-15", "2023-11-30") + (0.9, 0.1)]
    for qid in ("go", "fast"):
        ok, info = within(got, qid, exact(qid, claims))
        assert ok, info


def test_exact_with_resample_move_under_several_strong_claims(hazard):
    model, questions = hazard
    items = [
        {"public_on": "2023-09-05", "source": URL, "watch": ["visit"]},
        claim("2023-09-20", "go", value=True, if_true=0.9, if_false=0.1),
        claim("2023-10-01", "visit", window=["2023-10-15", "2023-11-30"], if_true=0.95, if_false=0.05),
        claim("2023-10-10", "visit", window=["2023-11-01", "2023-12-15"], if_true=0.9, if_false=0.1),
        claim("2023-10-20", "go", value=True, if_true=0.85, if_false=0.15),
    ]
    ev = parse_evidence(model, items)
    as_of, n, seed = dt.date(2023, 10, 25), 40_000, 5  # weighting alone would keep 11% of the worlds
    claims = [
        (day("2023-10-25"), math.inf, 1.0, 0.0),  # the watch: not by the as-of date
        window("2023-10-15", "2023-11-30") + (0.95, 0.05),
        window("2023-11-01", "2023-12-15") + (0.9, 0.1),
    ]
    values = [(True, 0.9, 0.1), (True, 0.85, 0.15)]
    got, plan = answers(model, questions, ev, as_of, samples=n, seed=seed)
    assert plan.smc["resamples"] > 0 and plan.smc["acceptance"] > 0  # resampled and moved
    for qid in ANSWERS:
        ok, info = within(got, qid, exact(qid, claims, values))
        assert ok, info


def test_each_claim_is_a_factor_of_its_own(boolean):
    model, _ = boolean
    ev = parse_evidence(model, [{**claim("2023-10-01", "b", value=True, if_true=0.8, if_false=0.2), "id": "rumour"}])
    out = factor_ess(model, ev, dt.date(2023, 10, 1), samples=50_000, seed=6)
    # weights 0.8 (P 0.3) and 0.2 (P 0.7): (E f)^2 / E f^2 = 0.38^2 / 0.22
    assert abs(out["factors"]["suggestion rumour on b"] - 0.38**2 / 0.22) < 0.01


# --------------------------------------------------------------------------- as of a date


def test_a_claim_not_yet_public_is_not_used(boolean):
    model, questions = boolean
    ev = parse_evidence(model, [claim("2023-10-01", "b", value=True, if_true=0.9, if_false=0.1)])
    before = dt.date(2023, 9, 30)
    assert ev.conditioning(model, before).suggestions == ()
    assert (forecast_as_of(model, questions, ev, before, samples=20_000, seed=7).to_dict()
            == forecast_as_of(model, questions, Evidence(), before, samples=20_000, seed=7).to_dict())
    after = forecast_as_of(model, questions, ev, dt.date(2023, 10, 1), samples=20_000, seed=7)
    assert after.by_id()["qb"].probability > 0.7  # 0.3 * 9 / (0.3 * 9 + 0.7) = 0.79 once public


# --------------------------------------------------------------------------- validation


GOOD = {"node": "visit", "window": ["2023-10-15", "2023-11-30"], "if_true": 0.9, "if_false": 0.3}


@pytest.mark.parametrize(
    "suggests, match",
    [
        ({**GOOD, "node": "vist"}, r"ev\.yaml: 0\.suggests\.node: unknown variable 'vist' \(did you mean 'visit'\?\)"),
        ({**GOOD, "if_ture": 0.9}, r"0\.suggests\.if_ture: unknown key 'if_ture'.*did you mean 'if_true'"),
        ({k: v for k, v in GOOD.items() if k != "if_false"}, r"0\.suggests: missing key 'if_false' \(P\(the source says this \| the claim is false\)"),
        ({**GOOD, "if_true": 1.5}, r"0\.suggests\.if_true: expected P\(the source says this \| the claim is true\) in \(0, 1\], got 1\.5"),
        ({**GOOD, "if_false": 0}, r"0\.suggests\.if_false: expected .* in \(0, 1\], got 0: a source that is never wrong gives a hard fact \(use observe:\)"),
        ({**GOOD, "if_false": float("nan")}, r"0\.suggests\.if_false: expected .*, got NaN"),
        ({**GOOD, "if_true": "high"}, r"0\.suggests\.if_true: expected .*, got"),
        ({**GOOD, "window": ["2023-11-30", "2023-10-15"]}, r"0\.suggests\.window: expected FROM <= TO, got \[2023-11-30, 2023-10-15\]"),
        ({**GOOD, "window": ["2023-10-15"]}, r"0\.suggests\.window: expected \[FROM, TO\]"),
        ({**GOOD, "window": ["2023-10-15", "2023-11-31"]}, r"0\.suggests\.window\.1: expected a date as YYYY-MM-DD"),
        ({**GOOD, "window": ["2023-09-01", "2023-10-15"]}, r"0\.suggests\.window\.0: 2023-09-01 is not after the model's as_of"),
        ({**GOOD, "window": ["2023-10-15", "2024-12-31"]}, r"0\.suggests\.window\.1: 2024-12-31 is beyond the model's horizon \(last day 2024-08-30\)"),
        ({**GOOD, "value": True}, r"0\.suggests\.value: 'visit' is an event: give the claim as window"),
        ({k: v for k, v in GOOD.items() if k != "window"}, r"0\.suggests: missing key 'window'"),
        ({**GOOD, "node": "go"}, r"0\.suggests\.window: 'go' is boolean: give the claim as value: true"),
        ({"node": "go", "value": "yes", "if_true": 0.9, "if_false": 0.3}, r"0\.suggests\.value: 'go' is boolean; expected true or false"),
        ({**GOOD, "node": "p"}, r"0\.suggests\.node: 'p' is a number node; suggests: takes an event .* or a boolean .*; for a noisy number use report:"),
        ([GOOD, {**GOOD, "node": "vist"}], r"0\.suggests\.1\.node: unknown variable 'vist'"),
        ([], r"0\.suggests: expected a claim .* or a list of them, got an empty list"),
        ("visit soon", r"0\.suggests: expected a claim \{node, window"),
    ],
)
def test_bad_claims_name_the_file_the_key_and_the_fix(hazard, suggests, match):
    model, _ = hazard
    with pytest.raises(ParamsError, match=match):
        parse_evidence(model, [{"public_on": "2023-10-01", "source": URL, "suggests": suggests}], file="ev.yaml")


def test_a_list_of_claims_in_one_item(hazard):
    model, _ = hazard
    ev = parse_evidence(model, [{"public_on": "2023-10-01", "source": URL, "suggests": [
        GOOD, {"node": "go", "value": True, "if_true": 0.7, "if_false": 0.4, "said_by": "Izvestia, citing officials"}]}])
    assert [s.text for s in ev.items[0].suggestions] == ["visit from 2023-10-15 to 2023-11-30", "go is true"]
    assert ev.items[0].suggestions[1].said_by == "Izvestia, citing officials"


@pytest.fixture
def params_with(write):
    """A params file whose evidence file holds one item with ``suggests`` (its YAML text)."""

    def make(suggests_yaml: str) -> str:
        write("ev.yaml", "evidence:\n  - id: rumour\n    public_on: 2023-10-01\n    source: https://example.org/rumour\n"
                         f"    suggests: {suggests_yaml}\n")
        return write("m.yaml", HAZARD + "evidence: ev.yaml\n")

    return make


def test_validate_accepts_a_claim_and_simulates_it(params_with, capsys):
    path = params_with("{node: visit, window: [2023-10-15, 2023-11-30], if_true: 0.9, if_false: 0.3}")
    assert main(["validate", path]) == 0
    assert "1 evidence items" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["validate"], ["forecast", "--as-of", "2023-10-05", "-n", "200"]])
@pytest.mark.parametrize(
    "suggests, message",
    [
        ("{node: vist, window: [2023-10-15, 2023-11-30], if_true: 0.9, if_false: 0.3}",
         "ev.yaml:5: evidence.0.suggests.node: unknown variable 'vist' (did you mean 'visit'?)"),
        ("{node: visit, window: [2023-10-15, 2023-11-30], if_true: 0.9, if_false: 1.2}",
         "evidence.0.suggests.if_false: expected P(the source says this | the claim is false) in (0, 1], got 1.2"),
        ("{node: visit, window: [2023-11-30, 2023-10-15], if_true: 0.9, if_false: 0.3}",
         "evidence.0.suggests.window: expected FROM <= TO, got [2023-11-30, 2023-10-15]"),
    ],
)
def test_bad_claims_exit_2_without_a_traceback(params_with, capsys, command, suggests, message):
    path = params_with(suggests)
    argv = [command[0], path, *command[1:]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
