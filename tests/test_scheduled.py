"""Announcements (``scheduled:``): an event announced for given days weighs worlds exactly by Bayes.

Behaviours:

* the likelihood is the mixture pmf (1 - s) U_S + s U_slip over the event's day in W, if_off / |W|
  after W or never, 0 before the announced days; the event is drawn inside its support (a bound
  with the others);
* forecasts equal Bayes' rule on small models, computed by quadrature over a hazard and exact sums
  over days, within 5 Monte Carlo standard errors, with plain weighting and with resample-move:
  a hazard event, the issue's visit under ``when: go`` announced a day ahead for two days, a
  discrete delay (enumeration), the event observed later, a watch that passes announced days,
  no slip, an announcement that may be of an event that will not take place (``if_off``);
* bad announcements are refused naming the file, key path, value and what was expected; the
  command line exits 2 and writes nothing; an observation the announcement rules out is refused;
* a kept chain gives the same numbers, bit for bit, with an announcement in the evidence.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import integrate, stats

from conftest import HEADER
from scenarios.engine import asof
from scenarios.engine.asof import Plan, factor_ess, run_plans
from scenarios.engine.checkpoint import ChainStore, fingerprint
from scenarios.engine.evidence import Evidence, Schedule, parse_evidence
from scenarios.engine.trial import trial_problems
from scenarios.errors import ParamsError
from scenarios.model.load import load_model

URL = "https://example.org/announcement"
AS_OF = dt.date(2023, 9, 5)  # HEADER's
HORIZON = 360  # HEADER's 12 months of 30 days
P_LOW, P_HIGH = 0.05, 0.5  # the hazard's prior, uniform
P_GO, P_SLOW = 0.4, 0.5
SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")

# a monthly chance p ~ U(0.05, 0.5): the visit happens when go is true, the trip whatever; the
# launch's delay is a whole number of days (gamma, rounded up), slower when slow is true
MODEL = HEADER + """
nodes:
  p: {uniform: [0.05, 0.5]}
  go: {bernoulli: {p: 0.4}}
  visit: {event: {when: go, chance_per_month: p}}
  trip: {event: {chance_per_month: p}}
  slow: {bernoulli: {p: 0.5}}
  launch: {event: {delay: {gamma: {shape: 2, scale: "30 if slow else 10"}, round: ceil}}}
questions:
  - {id: visit_in_s, resolve: {event: visit, between: [2023-10-11, 2023-10-12]}}
  - {id: visit_by_oct31, resolve: {event: visit, by: 2023-10-31}}
  - {id: visit_by_nov30, resolve: {event: visit, by: 2023-11-30}}
  - {id: go, resolve: {is: {go: true}}}
  - {id: fast, resolve: {quantity: p, at_least: 0.3}}
  - {id: trip_in_s, resolve: {event: trip, between: [2023-10-11, 2023-10-13]}}
  - {id: trip_by_oct12, resolve: {event: trip, by: 2023-10-12}}
  - {id: trip_by_oct31, resolve: {event: trip, by: 2023-10-31}}
  - {id: slow, resolve: {is: {slow: true}}}
  - {id: launch_by_nov15, resolve: {event: launch, by: 2023-11-15}}
  - {id: launch_by_dec05, resolve: {event: launch, by: 2023-12-05}}
"""


def day(date: str) -> int:
    return (dt.date.fromisoformat(date) - AS_OF).days


DAYS = np.arange(1, HORIZON + 1, dtype=float)  # every model day; never is inf

# what each question asks of (the evidenced event's day x, p, go or slow)
ANSWERS = {
    "visit_in_s": lambda x, p, b: (x > day("2023-10-11") - 1) & (x <= day("2023-10-12")),
    "visit_by_oct31": lambda x, p, b: x <= day("2023-10-31"),
    "visit_by_nov30": lambda x, p, b: x <= day("2023-11-30"),
    "go": lambda x, p, b: np.full(np.shape(x), b),
    "fast": lambda x, p, b: np.full(np.shape(x), p >= 0.3),
    "trip_in_s": lambda x, p, b: (x > day("2023-10-11") - 1) & (x <= day("2023-10-13")),
    "trip_by_oct12": lambda x, p, b: x <= day("2023-10-12"),
    "trip_by_oct31": lambda x, p, b: x <= day("2023-10-31"),
    "slow": lambda x, p, b: np.full(np.shape(x), b),
    "launch_by_nov15": lambda x, p, b: x <= day("2023-11-15"),
    "launch_by_dec05": lambda x, p, b: x <= day("2023-12-05"),
}


def exact_hazard(question: str, likelihood, *, p_when: float) -> float:
    """P(question | evidence) for an event with a monthly hazard p ~ U(0.05, 0.5) and P(when) =
    ``p_when``: quadrature over p, exact sums over the model's days.

    ``likelihood(x)`` is the evidence's likelihood given the event's day, vectorised over ``x``
    (days 1..360 and inf); given p the day is exponential with daily rate -log(1 - p) / 30, so
    day d has probability exp(-r (d - 1)) - exp(-r d), and never (not within the horizon, or when
    false) the rest.  Questions and likelihoods are functions of the day, so the sums are exact.
    """
    x = np.append(DAYS, math.inf)
    lik = np.asarray(likelihood(x), dtype=float)

    def joint(p, answered):
        rate = -math.log1p(-p) / 30
        total = 0.0
        for when, prior in ((True, p_when), (False, 1.0 - p_when)):
            if prior == 0:
                continue
            mass = np.zeros(len(x))
            if when:
                mass[:-1] = np.exp(-rate * (DAYS - 1)) - np.exp(-rate * DAYS)
                mass[-1] = math.exp(-rate * HORIZON)
            else:
                mass[-1] = 1.0
            keep = ANSWERS[question](x, p, when) if answered else True
            total += prior * float(np.sum(mass * lik * keep))
        return total

    num = integrate.quad(lambda p: joint(p, True), P_LOW, P_HIGH, points=[0.3], epsabs=1e-13, limit=200)[0]
    den = integrate.quad(lambda p: joint(p, False), P_LOW, P_HIGH, points=[0.3], epsabs=1e-13, limit=200)[0]
    return num / den


def exact_launch(question: str, likelihood) -> float:
    """P(question | evidence) for the launch: a gamma(2, 30 or 10) delay rounded up, enumerated
    day by day given slow (P 0.5): day d has probability G(d) - G(d - 1), never 1 - G(360)."""
    x = np.append(DAYS, math.inf)
    lik = np.asarray(likelihood(x), dtype=float)
    num = den = 0.0
    for slow, prior in ((True, P_SLOW), (False, 1.0 - P_SLOW)):
        cdf = stats.gamma(2, scale=30 if slow else 10).cdf(np.append(0.0, DAYS))
        mass = np.append(np.diff(cdf), 1.0 - cdf[-1])
        joint = prior * mass * lik
        den += joint.sum()
        num += (joint * ANSWERS[question](x, None, slow)).sum()
    return float(num / den)


def announcement(public_on, event, on, *, chance, days=None, if_off=None, **extra):
    slip = {"chance": chance} if days is None else {"chance": chance, "days": days}
    body = {"event": event, "on": on, "slip": slip}
    if if_off is not None:
        body["if_off"] = if_off
    return {"public_on": public_on, "source": URL, "scheduled": body, **extra}


WATCH = {"public_on": "2023-09-05", "source": URL, "watch": ["visit"]}  # only the visit: the trip's days tell p too


def as_likelihood(schedule: Schedule, *, after: str | None = None):
    """The schedule's likelihood, times the watch's [x > day(after)] when given."""
    if after is None:
        return schedule.likelihood
    return lambda x: schedule.likelihood(x) * (np.asarray(x) > day(after))


def answers(model, questions, evidence, as_of, *, samples, seed, resample_below):
    """The engine's probabilities with their Monte Carlo standard errors: qid -> (p, mcse), and the plan.

    ``resample_below=0`` is plain likelihood weighting; None the engine's resample-move."""
    plan = Plan(as_of, evidence.conditioning(model, as_of), questions)
    run_plans(model, [plan], samples=samples, seed=seed, evidence=evidence, resample_below=resample_below)
    return {acc.q.id: (acc.result(model.as_of).probability, acc.mcse()) for acc in plan.accs}, plan


def within(answered, qid, exact_value, k=5.0):
    """The engine's answer is within k of its standard errors of the exact one."""
    p, se = answered[qid]
    return abs(p - exact_value) <= k * se + 1e-12, (qid, p, exact_value, se)  # sure answers: se 0


def assert_bayes(got, exact_values: dict):
    for qid, value in exact_values.items():
        ok, info = within(got, qid, value)
        assert ok, info


METHODS = pytest.mark.parametrize("resample_below", [0.0, None], ids=["weighting", "resample-move"])


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("scheduled") / "m.yaml"
    path.write_text(MODEL)
    return load_model(str(path))


# --------------------------------------------------------------------------- the likelihood


def test_the_likelihood_is_a_mixture_over_the_day():
    # announced for days 42-43; slips w.p. 0.2 to 1..4 days later; days before and after weigh 0
    s = Schedule("visit", (41.0, 43.0), 0.2, (1, 4), 0.0, "visit announced for 2023-10-17 to 2023-10-18")
    assert s.likelihood([41.0, 41.5, 43.0, 43.5, 47.0, 47.5, math.inf]).tolist() == [0, 0.4, 0.4, 0.05, 0.05, 0, 0]
    assert (s.window, s.support) == ((41.0, 47.0), (41.0, 47.0))
    # slipped 3 to 4 days: the first two days after weigh 0; if_off 0.5: after W and never weigh
    # half of L's mean over W's six days
    g = Schedule("visit", (41.0, 43.0), 0.2, (3, 4), 0.5, "")
    assert np.allclose(g.likelihood([42.0, 44.0, 45.0, 46.0, 47.0, 48.0, math.inf]),
                       [0.4, 0, 0, 0.1, 0.1, 0.5 / 6, 0.5 / 6])
    assert g.support == (41.0, math.inf)
    days = np.arange(42.0, 48.0)  # a pmf over the days of W
    assert math.isclose(g.likelihood(days).sum(), 1.0) and math.isclose(g.likelihood([48.0])[0] / g.likelihood(days).mean(), 0.5)
    assert Schedule("visit", (41.0, 42.0), 0.0, (), 0.0, "").likelihood([41.0, 42.0, 43.0]).tolist() == [0, 1, 0]


def test_on_and_slip_days_are_model_days(model):
    m, _ = model
    ev = parse_evidence(m, [{**announcement("2023-10-10", "visit", ["2023-10-11", "2023-10-12"], chance=0.1, days=[1, 30]),
                             "id": "host"}])
    cond = ev.conditioning(m, dt.date(2023, 10, 10))
    (s,) = cond.schedules
    assert s.days == (day("2023-10-11") - 1, day("2023-10-12"))  # as a question's between: [FIRST, LAST]
    assert (s.slip, s.slip_days, s.if_off, s.item) == (0.1, (1, 30), 0.0, "host")
    assert s.text == "visit announced for 2023-10-11 to 2023-10-12"
    assert cond.within["visit"] == (day("2023-10-11") - 1, day("2023-10-12") + 30)  # drawn where L > 0
    assert parse_evidence(m, [announcement("2023-10-10", "visit", "2023-10-11", chance=0)]).items[0].schedules[0].days == (
        day("2023-10-11") - 1, day("2023-10-11"))


def test_the_bound_meets_the_others_and_the_events_before_it(write):
    m, _ = load_model(write("after.yaml", HEADER + """
nodes:
  announce: {event: {chance_per_month: 0.5}}
  visit: {event: {after: announce, delay: {uniform: [1, 40]}}}
"""))
    ev = parse_evidence(m, [
        {"public_on": "2023-09-05", "source": URL, "watch": ["visit"]},
        announcement("2023-10-10", "visit", "2023-10-20", chance=0.2, days=[1, 10]),
    ])
    cond = ev.conditioning(m, dt.date(2023, 10, 25))
    assert cond.within["visit"] == (day("2023-10-25"), day("2023-10-30"))  # not by the as-of date, by the slip's end
    assert cond.within["announce"] == (-math.inf, day("2023-10-30"))  # what it comes after had happened by then
    off = parse_evidence(m, [announcement("2023-10-10", "visit", "2023-10-20", chance=0.2, days=[1, 10], if_off=0.1)])
    assert off.conditioning(m, dt.date(2023, 10, 10)).within == {"visit": (day("2023-10-20") - 1, math.inf)}


# --------------------------------------------------------------------------- exact Bayes


@METHODS
def test_a_hazard_event_announced_is_bayes(model, resample_below):
    # (a) the trip (no when:), announced on 2023-10-01 for 10-11 to 10-13, slips w.p. 0.15 by 1-60 days
    m, questions = model
    item = announcement("2023-10-01", "trip", ["2023-10-11", "2023-10-13"], chance=0.15, days=[1, 60])
    ev = parse_evidence(m, [item])
    (s,) = ev.items[0].schedules
    got, plan = answers(m, questions, ev, dt.date(2023, 10, 1), samples=40_000, seed=1, resample_below=resample_below)
    exact = {q: exact_hazard(q, s.likelihood, p_when=1.0) for q in ("trip_in_s", "trip_by_oct12", "trip_by_oct31", "fast")}
    assert_bayes(got, exact)
    assert exact["trip_in_s"] > 0.8 and exact["fast"] > 0.3  # the announcement moves the day and the hazard
    assert (plan.smc["resamples"] > 0) == (resample_below is None)


@METHODS
def test_the_issues_visit_announced_a_day_ahead_for_two_days_is_bayes(model, resample_below):
    # (b) the visit happens only if go; watched from the start; on 2023-10-10 the host announces it
    # for the next two days.  Observing go and watching the visit made P(by the month's end) fall;
    # the announcement makes it what Bayes says
    m, questions = model
    ev = parse_evidence(m, [WATCH, announcement("2023-10-10", "visit", ["2023-10-11", "2023-10-12"], chance=0.1, days=[1, 30])])
    (s,) = ev.items[1].schedules
    as_of = dt.date(2023, 10, 10)
    got, plan = answers(m, questions, ev, as_of, samples=40_000, seed=2, resample_below=resample_below)
    lik = as_likelihood(s, after="2023-10-10")
    exact = {q: exact_hazard(q, lik, p_when=P_GO) for q in ("visit_in_s", "visit_by_oct31", "visit_by_nov30", "go", "fast")}
    assert_bayes(got, exact)
    assert exact["visit_in_s"] > 0.85 and exact["visit_by_oct31"] > 0.9 and exact["go"] == 1.0
    before, _ = answers(m, questions, ev, as_of - dt.timedelta(days=1), samples=40_000, seed=2, resample_below=resample_below)
    assert before["visit_by_oct31"][0] < 0.1  # the day before, watching alone says little


@METHODS
def test_an_announcement_of_an_event_that_may_not_take_place_is_bayes(model, resample_below):
    m, questions = model
    ev = parse_evidence(m, [WATCH, announcement("2023-10-10", "visit", ["2023-10-11", "2023-10-12"], chance=0.1, days=[1, 30],
                                                if_off=0.2)])
    (s,) = ev.items[1].schedules
    got, _ = answers(m, questions, ev, dt.date(2023, 10, 10), samples=40_000, seed=3, resample_below=resample_below)
    lik = as_likelihood(s, after="2023-10-10")
    exact = {q: exact_hazard(q, lik, p_when=P_GO) for q in ("visit_in_s", "visit_by_oct31", "go", "fast")}
    assert_bayes(got, exact)
    watched = exact_hazard("go", lambda x: np.asarray(x) > day("2023-10-10"), p_when=P_GO)
    assert watched + 0.1 < exact["go"] < 0.99  # worlds where the visit never happens keep some weight


@METHODS
def test_a_discrete_delay_enumerated_day_by_day_is_bayes(model, resample_below):
    # (c) the launch on a whole day: announced on 10-01 for 11-15; slipped 3 to 20 days later
    m, questions = model
    ev = parse_evidence(m, [announcement("2023-10-01", "launch", "2023-11-15", chance=0.25, days=[3, 20])])
    (s,) = ev.items[0].schedules
    got, _ = answers(m, questions, ev, dt.date(2023, 10, 1), samples=40_000, seed=4, resample_below=resample_below)
    exact = {q: exact_launch(q, s.likelihood) for q in ("slow", "launch_by_nov15", "launch_by_dec05")}
    assert_bayes(got, exact)
    assert abs(exact["slow"] - P_SLOW) > 0.05  # the day announced tells which delay


@METHODS
@pytest.mark.parametrize("observed", ["2023-10-12", "2023-10-16"], ids=["as announced", "slipped"])
def test_once_observed_the_parents_are_bayes(model, observed, resample_below):
    # (d) the visit observed on an announced or a slipped day: the announcement's factor is the same
    # in every world, so the parents' forecasts are those of the observation alone
    m, questions = model
    ev = parse_evidence(m, [WATCH, announcement("2023-10-10", "visit", ["2023-10-11", "2023-10-12"], chance=0.2, days=[1, 30]),
                            {"public_on": observed, "source": URL, "observe": {"visit": observed}}])
    as_of = dt.date.fromisoformat(observed)
    assert "visit" not in ev.conditioning(m, as_of).within  # clamped, not bounded
    got, _ = answers(m, questions, ev, as_of, samples=40_000, seed=5, resample_below=resample_below)
    d = day(observed)
    exact = exact_hazard("fast", lambda x: np.asarray(x) == d, p_when=P_GO)
    assert_bayes(got, {"fast": exact, "go": 1.0, "visit_by_oct31": 1.0})


@METHODS
def test_a_watch_that_passes_the_announced_days_is_bayes(model, resample_below):
    # (e) as of 10-20 the visit announced for 10-11/12 has not happened: it slipped, or will not take place
    m, questions = model
    for if_off in (None, 0.1):
        ev = parse_evidence(m, [WATCH, announcement("2023-10-10", "visit", ["2023-10-11", "2023-10-12"], chance=0.3,
                                                    days=[1, 25], if_off=if_off)])
        (s,) = ev.items[1].schedules
        got, _ = answers(m, questions, ev, dt.date(2023, 10, 20), samples=40_000, seed=6, resample_below=resample_below)
        lik = as_likelihood(s, after="2023-10-20")
        exact = {q: exact_hazard(q, lik, p_when=P_GO) for q in ("visit_by_oct31", "visit_by_nov30", "go", "fast")}
        assert_bayes(got, exact)
        assert (exact["go"] < 0.95) == (if_off is not None), exact["go"]


@METHODS
def test_no_slip_puts_the_event_on_the_announced_days(model, resample_below):
    # (f) slip chance 0: the trip is on 10-11 to 10-13, which day as the hazard says
    m, questions = model
    ev = parse_evidence(m, [announcement("2023-10-01", "trip", ["2023-10-11", "2023-10-13"], chance=0)])
    (s,) = ev.items[0].schedules
    assert ev.conditioning(m, dt.date(2023, 10, 1)).within["trip"] == s.days
    got, _ = answers(m, questions, ev, dt.date(2023, 10, 1), samples=40_000, seed=7, resample_below=resample_below)
    exact = {q: exact_hazard(q, s.likelihood, p_when=1.0) for q in ("trip_in_s", "trip_by_oct12", "fast")}
    assert exact["trip_in_s"] == 1.0
    assert_bayes(got, exact)


def test_two_announcements_multiply(model):
    m, questions = model
    ev = parse_evidence(m, [WATCH, announcement("2023-10-01", "visit", "2023-10-12", chance=0.3, days=[1, 30]),
                            announcement("2023-10-10", "visit", ["2023-10-11", "2023-10-12"], chance=0.1, days=[1, 10])])
    first, second = (it.schedules[0] for it in ev.items[1:])
    got, _ = answers(m, questions, ev, dt.date(2023, 10, 10), samples=40_000, seed=8, resample_below=None)
    lik = lambda x: first.likelihood(x) * second.likelihood(x) * (np.asarray(x) > day("2023-10-10"))  # noqa: E731
    assert_bayes(got, {q: exact_hazard(q, lik, p_when=P_GO) for q in ("visit_in_s", "visit_by_oct31", "fast")})


def test_each_announcement_is_a_factor_of_its_own(model):
    m, _ = model
    ev = parse_evidence(m, [{**announcement("2023-10-01", "trip", "2023-10-11", chance=0.5, days=[1, 9]), "id": "host"}])
    out = factor_ess(m, ev, dt.date(2023, 10, 1), samples=20_000, seed=9)
    assert "schedule host on trip" in out["factors"]
    assert out["factors"]["schedule host on trip"] < 0.6  # the announced day weighs 9 times a slipped one


def test_an_announcement_not_yet_public_is_not_used(model):
    m, questions = model
    ev = parse_evidence(m, [announcement("2023-10-01", "trip", "2023-10-11", chance=0.1, days=[1, 9])])
    before = dt.date(2023, 9, 30)
    assert ev.conditioning(m, before).schedules == () and ev.conditioning(m, before).within == {}
    same = [asof.forecast_as_of(m, questions, e, before, samples=5_000, seed=10).to_dict() for e in (ev, Evidence())]
    assert same[0] == same[1]


# --------------------------------------------------------------------------- validation


GOOD = {"event": "visit", "on": ["2023-10-11", "2023-10-12"], "slip": {"chance": 0.1, "days": [1, 30]}}


@pytest.mark.parametrize(
    "scheduled, match",
    [
        ({**GOOD, "event": "vist"}, r"ev\.yaml: 0\.scheduled\.event: unknown variable 'vist' \(did you mean 'visit'\?\)"),
        ({**GOOD, "event": "go"}, r"0\.scheduled\.event: 'go' is a bool node; scheduled: takes an event node .*; a claim about a boolean is suggests:"),
        ({**GOOD, "event": "p"}, r"0\.scheduled\.event: 'p' is a number node; scheduled: takes an event node"),
        ({k: v for k, v in GOOD.items() if k != "on"}, r"0\.scheduled: missing key 'on' \(the announced day, or \[FIRST, LAST\]"),
        ({k: v for k, v in GOOD.items() if k != "event"}, r"0\.scheduled: missing key 'event'"),
        ({k: v for k, v in GOOD.items() if k != "slip"}, r"0\.scheduled: missing key 'slip' \(P\(an announced event slips\)"),
        ({**GOOD, "on": "soon"}, r"0\.scheduled\.on: expected a date as YYYY-MM-DD, got a string \('soon'\)"),
        ({**GOOD, "on": "2023-10-32"}, r"0\.scheduled\.on: expected a date as YYYY-MM-DD, got '2023-10-32', which is not a date"),
        ({**GOOD, "on": ["2023-10-11"]}, r"0\.scheduled\.on: expected a date or \[FIRST, LAST\]"),
        ({**GOOD, "on": ["2023-10-12", "2023-10-11"]}, r"0\.scheduled\.on: expected FIRST <= LAST, got \[2023-10-12, 2023-10-11\]"),
        ({**GOOD, "on": ["2023-10-09", "2023-10-11"]},
         r"0\.scheduled\.on\.0: the first announced day 2023-10-09 is before the item became public \(2023-10-10\); an announcement is about days to come"),
        ({**GOOD, "on": "2023-10-09"}, r"0\.scheduled\.on: the first announced day 2023-10-09 is before the item became public"),
        ({**GOOD, "on": ["2023-10-11", "2024-09-01"]}, r"0\.scheduled\.on\.1: 2024-09-01 is beyond the model's horizon \(last day 2024-08-30\)"),
        ({**GOOD, "on": "2024-08-20"},
         r"0\.scheduled\.slip\.days\.1: a slip of 30 days after 2024-08-20 ends after the model's horizon \(last day 2024-08-30\): .* \(at most 10 days"),
        ({**GOOD, "slip": {"chance": 1}}, r"0\.scheduled\.slip\.chance: expected P\(an announced event slips\) in \[0, 1\), got 1"),
        ({**GOOD, "slip": {"chance": -0.1, "days": [1, 2]}}, r"0\.scheduled\.slip\.chance: expected P\(an announced event slips\) in \[0, 1\), got -0\.1"),
        ({**GOOD, "slip": {"chance": "low"}}, r"0\.scheduled\.slip\.chance: expected P\(an announced event slips\) in \[0, 1\), got a string"),
        ({**GOOD, "slip": {"chance": 0.2}}, r"0\.scheduled\.slip: missing key 'days' \(a slipped event happens a to b days after"),
        ({**GOOD, "slip": {"days": [1, 2]}}, r"0\.scheduled\.slip: missing key 'chance'"),
        ({**GOOD, "slip": 0.1}, r"0\.scheduled\.slip: expected \{chance: P\(an announced event slips\), days: \[a, b\]\}, got float"),
        ({**GOOD, "slip": {"chance": 0.1, "days": [0, 5]}}, r"0\.scheduled\.slip\.days\.0: expected a number of days >= 1, got 0"),
        ({**GOOD, "slip": {"chance": 0.1, "days": [1, 2.5]}}, r"0\.scheduled\.slip\.days\.1: expected a number of days >= 1 \(a whole number\), got 2\.5"),
        ({**GOOD, "slip": {"chance": 0.1, "days": [5, 2]}}, r"0\.scheduled\.slip\.days: expected a <= b, got \[5, 2\]"),
        ({**GOOD, "slip": {"chance": 0.1, "days": 5}}, r"0\.scheduled\.slip\.days: expected \[a, b\], whole days with 1 <= a <= b"),
        ({**GOOD, "slip": {"chance": 0.1, "dayz": [1, 2]}}, r"0\.scheduled\.slip\.dayz: unknown key 'dayz'.*did you mean 'days'"),
        ({**GOOD, "sliip": {"chance": 0.1}}, r"0\.scheduled\.sliip: unknown key 'sliip'.*did you mean 'slip'"),
        ({**GOOD, "if_off": -0.1}, r"0\.scheduled\.if_off: expected how likely such an announcement is if the event does not take place .* a number >= 0, got -0\.1"),
        ({**GOOD, "if_off": float("inf")}, r"0\.scheduled\.if_off: expected .*, got inf \(not a finite number\)"),
        ({**GOOD, "if_off": "often"}, r"0\.scheduled\.if_off: expected .*, got a string \('often'\)"),
        ({**GOOD, "off": 0.1}, r"0\.scheduled\.off: unknown key 'off'.*did you mean 'if_off'"),
        ([GOOD, {**GOOD, "event": "vist"}], r"0\.scheduled\.1\.event: unknown variable 'vist'"),
        ([], r"0\.scheduled: expected an announcement \{event, on: .* or a list of them, got an empty list"),
        ("on the 12th", r"0\.scheduled: expected an announcement \{event, on"),
    ],
)
def test_bad_announcements_name_the_file_the_key_and_the_fix(model, scheduled, match):
    m, _ = model
    with pytest.raises(ParamsError, match=match):
        parse_evidence(m, [{"public_on": "2023-10-10", "source": URL, "scheduled": scheduled}], file="ev.yaml")


def test_an_echoed_value_is_cut_short(model):
    m, _ = model
    with pytest.raises(ParamsError) as info:
        parse_evidence(m, [{"public_on": "2023-10-10", "source": URL, "scheduled": {**GOOD, "on": "x" * 500}}], file="ev.yaml")
    assert "x" * 200 not in str(info.value) and "0.scheduled.on" in str(info.value)


def test_an_item_with_only_an_announcement_is_an_item_and_other_kinds_are_named(model):
    m, _ = model
    ev = parse_evidence(m, [{"public_on": "2023-10-10", "source": URL, "scheduled": GOOD, "note": "the host government"}])
    assert len(ev.items[0].schedules) == 1
    with pytest.raises(ParamsError, match=r"0: expected at least one of observe, report, watch, suggests, scheduled"):
        parse_evidence(m, [{"public_on": "2023-10-10", "source": URL}], file="ev.yaml")


def test_said_by_and_a_list_of_announcements(model):
    m, _ = model
    ev = parse_evidence(m, [{"public_on": "2023-10-10", "source": URL, "scheduled": [
        {**GOOD, "said_by": "the host government"}, {"event": "trip", "on": "2023-10-20", "slip": {"chance": 0}}]}])
    first, second = ev.items[0].schedules
    assert (first.said_by, second.text, second.slip_days) == ("the host government", "trip announced for 2023-10-20", ())


@pytest.mark.parametrize(
    "observed, match",
    [
        ("2023-10-10", r"1\.scheduled: visit announced for 2023-10-11 to 2023-10-12 contradicts item 'seen' \(2023-11-20\), "
                       r"which observes visit on 2023-10-10: an announced event does not happen before its first announced day"),
        ("2023-11-20", r"contradicts item 'seen' .* visit on 2023-11-20: without if_off an announced event takes place by the end of its slip window"),
    ],
)
def test_an_observation_the_announcement_rules_out_is_refused(model, observed, match):
    m, _ = model
    items = [{"public_on": "2023-09-05", "source": URL, "watch": ["visit"]},
             {"public_on": "2023-10-10", "source": URL, "scheduled": GOOD},
             {"id": "seen", "public_on": "2023-11-20", "source": URL, "observe": {"visit": observed}}]
    with pytest.raises(ParamsError, match=match):
        parse_evidence(m, items, file="ev.yaml")
    called_off = [*items[:1], {**items[1], "scheduled": {**GOOD, "if_off": 0.1}}, items[2]]
    if observed == "2023-11-20":  # with if_off, a day after the slip window is possible
        parse_evidence(m, called_off)


def test_a_watch_that_outlasts_the_slip_window_rules_the_evidence_out(model):
    m, questions = model
    ev = parse_evidence(m, [WATCH, {"id": "host", **announcement("2023-10-10", "visit", "2023-10-11", chance=0.1, days=[1, 5])}])
    with pytest.raises(asof.EvidenceError, match=r"together these are: 'item0' .*'host'"):
        asof.forecast_as_of(m, questions, ev, dt.date(2023, 10, 20), samples=2_000, seed=11)


def test_an_announcement_the_model_rules_out_is_named_by_validate_and_forecast(write):
    # the visit comes within 40 days of as_of, or never; an announcement for day 87, slipping at most 5 days
    m, questions = load_model(write("soon.yaml", HEADER + """
nodes:
  go: {bernoulli: {p: 0.5}}
  visit: {event: {when: go, delay: {uniform: [1, 40]}}}
questions:
  - {id: q, resolve: {event: visit, by: 2023-12-31}}
"""))
    ev = parse_evidence(m, [{"id": "late", **announcement("2023-10-01", "visit", "2023-12-01", chance=0.1, days=[1, 5])}])
    with pytest.raises(asof.EvidenceError, match=r"Item ruled out on its own: 'late' \(public 2023-10-01, key 0\)"):
        asof.forecast_as_of(m, questions, ev, dt.date(2023, 10, 1), samples=2_000, seed=13)
    (problem,) = trial_problems(m, questions, ev, samples=1_000)
    assert "'late' (public 2023-10-01" in problem
    with_off = parse_evidence(m, [announcement("2023-10-01", "visit", "2023-12-01", chance=0.1, days=[1, 5], if_off=0.5)])
    assert trial_problems(m, questions, with_off, samples=1_000) == []  # a visit that never happens is possible then


# --------------------------------------------------------------------------- the command line


@pytest.fixture
def params_with(tmp_path):
    """A params file whose evidence file holds one item with ``scheduled`` (its YAML text)."""

    def make(scheduled_yaml: str) -> str:
        (tmp_path / "ev.yaml").write_text(
            "evidence:\n  - id: host\n    public_on: 2023-10-10\n    source: https://example.org/host\n"
            f"    scheduled: {scheduled_yaml}\n")
        (tmp_path / "m.yaml").write_text(MODEL + "evidence: ev.yaml\n")
        return str(tmp_path / "m.yaml")

    return make


def _scenarios(*args, cwd):
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run([sys.executable, "-m", "scenarios", *args], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=300)


def test_validate_accepts_an_announcement_and_simulates_it(params_with, tmp_path):
    path = params_with("{event: visit, 'on': [2023-10-11, 2023-10-12], slip: {chance: 0.1, days: [1, 30]}}")
    done = _scenarios("validate", path, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 evidence items" in done.stdout


@pytest.mark.parametrize("command", [["validate"], ["forecast", "--as-of", "2023-10-12", "-n", "200", "--output", "f.json"]])
@pytest.mark.parametrize(
    "scheduled, message",
    [
        ("{event: vist, on: 2023-10-11, slip: {chance: 0.1, days: [1, 30]}}",
         "ev.yaml:5: evidence.0.scheduled.event: unknown variable 'vist' (did you mean 'visit'?)"),
        ("{event: visit, on: [2023-10-12, 2023-10-11], slip: {chance: 0.1, days: [1, 30]}}",
         "evidence.0.scheduled.on: expected FIRST <= LAST, got [2023-10-12, 2023-10-11]"),
        ("{event: visit, on: 2023-10-11, slip: {chance: 0.1, days: [30, 1]}}",
         "evidence.0.scheduled.slip.days: expected a <= b, got [30, 1]"),
    ],
)
def test_bad_announcements_exit_2_and_write_nothing(params_with, tmp_path, command, scheduled, message):
    path = params_with(scheduled)
    before = sorted(os.listdir(tmp_path))
    done = _scenarios(command[0], path, *command[1:], cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(os.listdir(tmp_path)) == before


# --------------------------------------------------------------------------- a chain kept


def test_fingerprints_see_every_number_of_an_announcement(model):
    m, _ = model
    ev = parse_evidence(m, [WATCH, announcement("2023-10-10", "visit", "2023-10-11", chance=0.1, days=[1, 30])])
    cond = ev.conditioning(m, dt.date(2023, 10, 10))
    assert fingerprint(cond) == fingerprint(ev.conditioning(m, dt.date(2023, 10, 10)))  # deterministic
    (s,) = cond.schedules
    for change in ({"slip": 0.2}, {"slip_days": (1, 29)}, {"if_off": 0.01}, {"days": (s.days[0] - 1, s.days[1])}):
        other = dataclasses.replace(cond, schedules=(dataclasses.replace(s, **change),))
        assert fingerprint(other) != fingerprint(cond), change


def test_a_kept_chain_gives_the_same_numbers_with_an_announcement(model, tmp_path):
    m, questions = model
    ev = parse_evidence(m, [
        WATCH,
        announcement("2023-10-01", "trip", ["2023-10-11", "2023-10-13"], chance=0.15, days=[1, 60]),
        announcement("2023-10-10", "visit", ["2023-10-11", "2023-10-12"], chance=0.1, days=[1, 30], if_off=0.05),
        {"public_on": "2023-10-12", "source": URL, "observe": {"visit": "2023-10-12"}},
    ])
    store = ChainStore(tmp_path / "chain")
    kw = {"samples": 1_600, "seed": 12, "chunk_size": 800}
    asof.forecast_as_of(m, questions, ev, dt.date(2023, 10, 10), store=store, **kw)
    kept = asof.forecast_as_of(m, questions, ev, dt.date(2023, 10, 12), store=store, **kw)
    again = asof.forecast_as_of(m, questions, ev, dt.date(2023, 10, 12), store=store, **kw)
    fresh = asof.forecast_as_of(m, questions, ev, dt.date(2023, 10, 12), **kw)
    assert any(f.name.startswith("s") for f in (tmp_path / "chain").iterdir())
    for run in (kept, again):
        assert json.dumps(run.to_dict(), sort_keys=True, default=str) == json.dumps(fresh.to_dict(), sort_keys=True, default=str)


def test_forecast_with_a_cache_prints_the_same_numbers(params_with, tmp_path):
    path = params_with("{event: visit, 'on': [2023-10-11, 2023-10-12], slip: {chance: 0.1, days: [1, 30]}, if_off: 0.05}")
    args = ("forecast", path, "--as-of", "2023-10-11", "-n", "1600", "--jobs", "1", "--format", "json")
    fresh = _scenarios(*args, cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    for _ in range(2):  # the first run fills the cache, the second reads it
        cached = _scenarios(*args, "--cache", str(tmp_path / "cache"), cwd=tmp_path)
        assert cached.returncode == 0, cached.stderr
        assert cached.stdout == fresh.stdout
    assert os.listdir(tmp_path / "cache")
