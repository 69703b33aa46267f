"""Evidence on a repeated event's occurrences (the k-th on a day, counts by a date): exact Bayes.

A repeated event is a Poisson process; what evidence says of it are bounds on its count, and
the engine draws the process given them (forward filtering, backward sampling) and weighs each
world by their probability.  The answers are checked against quadrature over the rate with the
Poisson process's likelihood, under plain weighting and resample-move.
"""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import integrate, stats

from conftest import HEADER
from scenarios.engine.asof import Plan, forecast_as_of, run_plans
from scenarios.engine.evidence import Evidence, parse_evidence
from scenarios.engine.occurrences import draw_given_counts
from scenarios.errors import ParamsError
from scenarios.model.load import load_model

URL = "https://example.org/meetings"
AS_OF = dt.date(2023, 9, 5)  # HEADER's
MD = 30.0  # days in a model month
LOW, HIGH = 0.1, 1.0  # the rate's prior (per month), uniform


def day(date: str) -> int:
    return (dt.date.fromisoformat(date) - AS_OF).days


MEETINGS = HEADER + """
nodes:
  lam: {uniform: [0.1, 1.0]}
  meetings: {repeated: {rate: lam, max: 40}}
questions:
  - {id: second_by_dec, resolve: {event: meetings, occurrence: 2, by: 2023-12-31}}
  - {id: third_by_jun, resolve: {event: meetings, occurrence: 3, by: 2024-06-30}}
  - {id: five_by_aug, resolve: {quantity: meetings, 'on': 2024-08-15, at_least: 5}}
  - {id: fast, resolve: {quantity: lam, at_least: 0.5}}
"""

# what each question asks given the rate per day a and the count n0 known by day t0 (later
# occurrences are a Poisson process from t0 on)
QUESTIONS = {
    "second_by_dec": (2, "2023-12-31"),
    "third_by_jun": (3, "2024-06-30"),
    "five_by_aug": (5, "2024-08-15"),
}


def exact(question: str, likelihood, known: int, t0: int) -> float:
    """P(question | evidence) by quadrature over the rate: ``likelihood(a)`` is the evidence's
    probability given a daily rate a, ``known`` occurrences by day ``t0`` and none unknown."""
    def answer(lam):
        if question == "fast":
            return float(lam >= 0.5)
        k, date = QUESTIONS[question]
        need = k - known
        if need <= 0:
            return 1.0
        return float(stats.poisson.sf(need - 1, lam / MD * (day(date) - t0)))

    num = integrate.quad(lambda lam: likelihood(lam / MD) * answer(lam), LOW, HIGH, points=[0.5], epsabs=1e-14)[0]
    den = integrate.quad(lambda lam: likelihood(lam / MD), LOW, HIGH, epsabs=1e-14)[0]
    return num / den


def item(public_on, **body):
    return {"public_on": public_on, "source": URL, **body}


def answers(model, questions, evidence, as_of, *, samples, seed, **run):
    """Each question's probability and its Monte Carlo standard error: qid -> (p, mcse)."""
    plan = Plan(as_of, evidence.conditioning(model, as_of), questions)
    run_plans(model, [plan], samples=samples, seed=seed, evidence=evidence, **run)
    return {acc.q.id: (acc.result(model.as_of).probability, acc.mcse()) for acc in plan.accs}, plan


def assert_exact(got, expected: dict, k: float = 5.0):
    for qid, value in expected.items():
        p, se = got[qid]
        assert abs(p - value) <= k * se + 1e-12, (qid, p, value, se)


@pytest.fixture
def meetings(write):
    return load_model(write("meetings.yaml", MEETINGS))


# --------------------------------------------------------------------------- the process given counts


def test_the_probability_of_count_bounds_is_the_poisson_one():
    rng = np.random.default_rng(1)
    points = np.array([[1.0, 2.5, 2.5, 4.0], [0.5, 1.0, 1.0, 3.0]])  # zero-length intervals too
    bounds = np.array([[1, 1], [2, np.inf], [0, np.inf], [0, 3]], dtype=float)
    _, prob, _ = draw_given_counts(points, bounds, 10, rng)
    pois = stats.poisson.pmf
    # world 0: N(1) = 1, N(2.5) >= 2, N(4) <= 3 -> increments 1, j >= 1, then up to 3 - 1 - j more
    p0 = pois(1, 1.0) * sum(pois(j, 1.5) * stats.poisson.cdf(2 - j, 1.5) for j in (1, 2))
    # world 1: N(0.5) = 1, N(1) >= 2, N(3) <= 3 -> 1, then j >= 1 in half a unit, up to 2 - j more in 2
    p1 = pois(1, 0.5) * sum(pois(j, 0.5) * stats.poisson.cdf(2 - j, 2.0) for j in (1, 2))
    assert np.allclose(prob, [p0, p1], rtol=1e-12)


def test_occurrences_are_drawn_from_the_process_given_the_bounds():
    rng = np.random.default_rng(2)
    n = 200_000
    points = np.tile([1.0, 2.5], (n, 1))
    times, prob, overflow = draw_given_counts(points, np.array([[1, 1], [2, np.inf]], dtype=float), 25, rng)
    assert not overflow.any() and np.all(np.diff(times, axis=1) > 0)
    assert np.all((times[:, 0] <= 1) & (times[:, 1] > 1) & (times[:, 1] <= 2.5))
    # the count in (1, 2.5] is Poisson(1.5) given >= 1; after 2.5 the process goes on unbounded
    inside = ((times > 1) & (times <= 2.5)).sum(axis=1)
    mean = 1.5 / (1 - math.exp(-1.5))
    second = sum(k * k * stats.poisson.pmf(k, 1.5) for k in range(1, 60)) / (1 - math.exp(-1.5))
    var = second - mean**2
    assert abs(inside.mean() - mean) <= 5 * math.sqrt(var / n)
    later = ((times > 2.5) & (times <= 4.0)).sum(axis=1)
    assert abs(later.mean() - 1.5) <= 5 * math.sqrt(1.5 / n)
    # the one occurrence in [0, 1] is uniform there
    assert abs(times[:, 0].mean() - 0.5) <= 5 * math.sqrt(1 / 12 / n)


def test_counts_above_every_bound_are_drawn_exactly():
    # only lower bounds: the count at the first point can exceed every bound ("more than K")
    rng = np.random.default_rng(3)
    n = 200_000
    points = np.tile([1.0, 2.5], (n, 1))
    times, prob, _ = draw_given_counts(points, np.array([[0, np.inf], [3, np.inf]], dtype=float), 30, rng)
    assert np.allclose(prob, stats.poisson.sf(2, 2.5))
    first = (times <= 1).sum(axis=1)
    pmf = np.array([stats.poisson.pmf(j, 1.0) * stats.poisson.sf(2 - j, 1.5) for j in range(40)]) / stats.poisson.sf(2, 2.5)
    mean = (np.arange(40) * pmf).sum()
    sd = math.sqrt((np.arange(40) ** 2 * pmf).sum() - mean**2)
    assert abs(first.mean() - mean) <= 5 * sd / math.sqrt(n)
    assert abs((first >= 4).mean() - pmf[4:].sum()) <= 5 * math.sqrt(pmf[4:].sum() / n)


def test_impossible_bounds_have_probability_zero():
    rng = np.random.default_rng(4)
    points = np.array([[1.0, 2.0], [0.0, 0.0]])  # the second world's process has not started
    _, prob, _ = draw_given_counts(points, np.array([[2, np.inf], [1, 1]], dtype=float), 10, rng)
    assert prob[1] == 0.0 and prob[0] == 0.0  # N(2) >= 2 but N(2) = 1 contradicts in world 0 too
    _, prob, _ = draw_given_counts(points, np.array([[0, 0], [1, 1]], dtype=float), 10, rng)
    assert prob[0] > 0 and prob[1] == 0.0


# --------------------------------------------------------------------------- exact Bayes on a model


def observed(meetings_on: list, *, watched=True) -> list:
    items = [item("2023-09-05", watch=["meetings"])] if watched else []
    for k, date in enumerate(meetings_on, start=1):
        items.append(item(date, id=f"m{k}", observe={"meetings": {"occurrence": k, "on": date}}))
    return items


def occurrences_likelihood(days: list, t0: int):
    """P(occurrences on exactly these days (one each), none else by day t0 | daily rate a)."""
    def lik(a):
        out = math.exp(-a * t0)
        for _ in days:
            out *= a  # each occurrence's day has probability a e^{-a} within it, its e^{-a} counted in t0
        return out
    return lik


@pytest.mark.parametrize("resample_below", [0.0, None])  # plain weighting; resample-move (default)
def test_observed_occurrences_and_a_watch_are_bayes(meetings, resample_below):
    model, questions = meetings
    dates = ["2023-10-20", "2023-11-02"]
    ev = parse_evidence(model, observed(dates))
    as_of = dt.date(2023, 11, 15)
    got, plan = answers(model, questions, ev, as_of, samples=60_000, seed=5, resample_below=resample_below)
    lik = occurrences_likelihood([day(d) for d in dates], day("2023-11-15"))
    assert_exact(got, {q: exact(q, lik, 2, day("2023-11-15")) for q in ("second_by_dec", "third_by_jun", "five_by_aug", "fast")})


def test_resample_move_is_exact_under_many_occurrences(meetings):
    # seven meetings in two months pull the rate far up its prior: the weights degenerate, the
    # chain resamples and moves the rate, and stays exact
    model, questions = meetings
    dates = ["2023-09-10", "2023-09-18", "2023-09-25", "2023-10-03", "2023-10-12", "2023-10-20", "2023-10-29"]
    ev = parse_evidence(model, observed(dates))
    as_of = dt.date(2023, 10, 29)  # an evidence date: the plan's worlds are the chain's own
    got, plan = answers(model, questions, ev, as_of, samples=40_000, seed=6)
    assert plan.smc["resamples"] > 0 and plan.smc["distinct"] > 0.9 * 40_000  # resampled, and moved
    lik = occurrences_likelihood([day(d) for d in dates], day("2023-10-29"))
    assert_exact(got, {q: exact(q, lik, 7, day("2023-10-29")) for q in ("fast", "five_by_aug")})
    assert got["fast"][0] > 0.9  # the rate is pulled far up


@pytest.mark.parametrize("fact, count_lik", [
    ({"count": 2, "by": "2023-12-01"}, lambda m: stats.poisson.pmf(2, m)),
    ({"at_least": 2, "by": "2023-12-01"}, lambda m: stats.poisson.sf(1, m)),
    ({"at_most": 1, "by": "2023-12-01"}, lambda m: stats.poisson.cdf(1, m)),
])
def test_counts_by_a_date_are_bayes(meetings, fact, count_lik):
    model, questions = meetings
    ev = parse_evidence(model, [item("2023-12-01", observe={"meetings": fact})])
    got, _ = answers(model, questions, ev, dt.date(2023, 12, 1), samples=60_000, seed=7)
    t0 = day("2023-12-01")

    def lik(a):
        return count_lik(a * t0)

    # P(k-th by D) needs the count at t0: sum over it, given the bound
    def exact_k(question):
        if question == "fast":
            return exact("fast", lik, 0, t0)
        k, date = QUESTIONS[question]

        def joint(lam):
            a = lam / MD
            total = 0.0
            for c in range(0, 40):
                p_c = stats.poisson.pmf(c, a * t0)
                keep = {"count": c == 2, "at_least": c >= 2, "at_most": c <= 1}[next(iter(fact))]
                if keep:
                    total += p_c * (1.0 if c >= k else stats.poisson.sf(k - c - 1, a * (day(date) - t0)))
            return total

        num = integrate.quad(joint, LOW, HIGH, epsabs=1e-14)[0]
        den = integrate.quad(lambda lam: lik(lam / MD), LOW, HIGH, epsabs=1e-14)[0]
        return num / den

    assert_exact(got, {q: exact_k(q) for q in ("second_by_dec", "third_by_jun", "five_by_aug", "fast")})


STARTED = HEADER + """
nodes:
  lam: {uniform: [0.1, 1.0]}
  first_summit: {event: {chance_per_month: 0.3}}
  meetings: {repeated: {rate: lam, start: first_summit, max: 40}}
questions:
  - {id: summit_by_oct, resolve: {event: first_summit, by: 2023-10-15}}
  - {id: fast, resolve: {quantity: lam, at_least: 0.5}}
"""


@pytest.mark.parametrize("resample_below", [0.0, None])
def test_an_occurrence_says_the_start_had_come_and_stays_exact(write, resample_below):
    # a meeting on day d means first_summit was by d: P(summit day s, meeting on d) integrates the
    # process from s over the summit's exponential day
    model, questions = load_model(write("started.yaml", STARTED))
    ev = parse_evidence(model, [item("2023-10-30", observe={"meetings": {"occurrence": 1, "on": "2023-10-30"}})])
    cond = ev.conditioning(model, dt.date(2023, 10, 30))
    assert cond.within["first_summit"][1] == day("2023-10-30")  # drawn by the meeting's day
    got, _ = answers(model, questions, ev, dt.date(2023, 10, 30), samples=60_000, seed=8, resample_below=resample_below)
    d = day("2023-10-30")
    h = -math.log(1 - 0.3) / MD  # the summit's daily hazard

    def joint(lam, s_hi):
        a = lam / MD
        # summit at s in (0, min(d, s_hi)) (density h e^{-hs}); first meeting in (d-1, d]: no
        # occurrence in (s, d-1], one or more in (d-1, d] (from max(s, d-1))
        def dens(s):
            return h * math.exp(-h * s) * math.exp(-a * max(d - 1 - s, 0.0)) * (1 - math.exp(-a * (d - max(s, d - 1))))
        return integrate.quad(dens, 0, min(d, s_hi), points=[d - 1], epsabs=1e-14)[0]

    total = integrate.quad(lambda lam: joint(lam, d), LOW, HIGH, epsabs=1e-14)[0]
    summit = integrate.quad(lambda lam: joint(lam, day("2023-10-15")), LOW, HIGH, epsabs=1e-14)[0]
    fast = integrate.quad(lambda lam: joint(lam, d), 0.5, HIGH, epsabs=1e-14)[0]
    assert_exact(got, {"summit_by_oct": summit / total, "fast": fast / total})


# --------------------------------------------------------------------------- the watch


def test_a_watch_bounds_the_count_by_the_occurrences_known(meetings):
    model, _ = meetings
    ev = parse_evidence(model, [
        item("2023-09-05", watch={"meetings": 3}),
        item("2023-10-20", observe={"meetings": {"occurrence": 1, "on": "2023-10-18"}}),
    ])
    before = ev.conditioning(model, dt.date(2023, 10, 10)).counts["meetings"]
    assert before == ((day("2023-10-10") - 3, 0.0, 0.0),)  # none by D - lag
    after = ev.conditioning(model, dt.date(2023, 11, 1)).counts["meetings"]
    assert after == ((day("2023-10-18") - 1, 0.0, 0.0), (day("2023-10-18"), 1.0, math.inf), (day("2023-11-01") - 3, 0.0, 1.0))


def test_without_evidence_on_it_a_watched_repeated_event_is_bayes(meetings):
    model, questions = meetings
    ev = parse_evidence(model, [item("2023-09-05", watch=["meetings"])])
    got, _ = answers(model, questions, ev, dt.date(2023, 12, 1), samples=60_000, seed=9)
    t0 = day("2023-12-01")
    lik = occurrences_likelihood([], t0)
    assert_exact(got, {q: exact(q, lik, 0, t0) for q in ("second_by_dec", "third_by_jun", "fast")})


# --------------------------------------------------------------------------- the file


@pytest.mark.parametrize("fact, message", [
    ("2023-10-20", "repeated event"),
    ({"occurrence": 0, "on": "2023-10-20"}, "occurrence number"),
    ({"occurrence": 41, "on": "2023-10-20"}, "max"),
    ({"occurrence": 1}, "missing key 'on'"),
    ({"occurrence": 1, "on": "2023-11-20"}, "after the item became public"),
    ({"occurrence": 1, "on": "2023-10-20", "by": "2023-10-20"}, "by"),
    ({"count": 2}, "expected {occurrence"),
    ({"count": 2, "at_least": 1, "by": "2023-10-20"}, "expected {occurrence"),
    ({"count": -1, "by": "2023-10-20"}, "whole number"),
    ({"count": 1.5, "by": "2023-10-20"}, "whole number"),
    ({"at_least": 10**9, "by": "2023-10-20"}, "max"),  # would also be a billion count states
    ([], "empty list"),
    ({"never_by": "2023-10-20"}, "never_by"),
])
def test_a_wrong_fact_on_a_repeated_event_names_its_key(meetings, fact, message):
    model, _ = meetings
    with pytest.raises(ParamsError) as err:
        parse_evidence(model, [item("2023-10-25", observe={"meetings": fact})], file="ev.yaml")
    text = str(err.value)
    assert "ev.yaml" in text and "observe.meetings" in text and message in text, text


def test_contradicting_counts_are_refused_with_both_items_named(meetings, write):
    model_path = write("meetings.yaml", MEETINGS)
    ev_path = write("ev.yaml", """
        evidence:
          - {id: second, public_on: 2023-10-20, source: https://example.org/a, observe: {meetings: {occurrence: 2, 'on': 2023-10-20}}}
          - {id: only_one, public_on: 2023-10-25, source: https://example.org/b, observe: {meetings: {count: 1, by: 2023-10-22}}}
        """)
    out = subprocess.run([sys.executable, "-m", "scenarios", "forecast", model_path, "--evidence", ev_path,
                          "--as-of", "2023-10-30", "--samples", "2000", "--allow-outside-project"],
                         capture_output=True, text=True)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "'second'" in out.stderr and "'only_one'" in out.stderr and "evidence.1.observe.meetings" in out.stderr, out.stderr


def test_an_occurrence_made_public_later_than_its_watch_allows_is_refused(meetings):
    model, _ = meetings
    with pytest.raises(ParamsError, match="lag of at least 12 days"):
        parse_evidence(model, [
            item("2023-09-05", watch=["meetings"]),
            item("2023-11-01", observe={"meetings": {"occurrence": 1, "on": "2023-10-20"}}),
        ], file="ev.yaml")
    parse_evidence(model, [  # the same with a watch lag that allows it
        item("2023-09-05", watch={"meetings": 12}),
        item("2023-11-01", observe={"meetings": {"occurrence": 1, "on": "2023-10-20"}}),
    ], file="ev.yaml")


def test_forecasts_with_occurrences_are_reproducible(meetings):
    model, questions = meetings
    ev = parse_evidence(model, observed(["2023-10-20"]))
    runs = [forecast_as_of(model, questions, ev, dt.date(2023, 11, 1), samples=20_000, seed=3) for _ in range(2)]
    assert [q.probability for q in runs[0].questions] == [q.probability for q in runs[1].questions]
    none = forecast_as_of(model, questions, Evidence(), dt.date(2023, 11, 1), samples=20_000, seed=3)
    assert none.by_id()["fast"].probability != runs[0].by_id()["fast"].probability
