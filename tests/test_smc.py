"""As-of inference by resample-move sequential Monte Carlo (issue 11 item 5).

Behaviours tested, each on small models whose exact answer is known (enumeration, conjugacy or
quadrature), never on numbers copied from a run:

* agreement with exact Bayes where plain likelihood weighting collapses, so that resampling and
  moves really happen (a categorical parent with many sequential observations; a gamma rate with
  exactly observed Poisson counts; a gamma rate behind a Poisson flow with dated noisy reports; an
  event hazard under a watch and a later observation; several parents at once);
* no look-ahead: evidence after D never changes a forecast as of D, nor the backtest's rows at D;
* the backtest's forecast at every as-of date equals ``forecast_as_of`` at that date, bit for bit;
* reproducibility, and an honest effective sample size (ESS <= distinct worlds <= worlds);
* without evidence, or with evidence too mild to resample, the numbers are plain weighting's.

Monte Carlo tolerances: the mean forecast over ``len(SEEDS)`` independent seeds is checked against
the exact value within ``K_SE`` standard errors of that mean, the standard error being the larger
of the spread between the seeds and the forecasts' own reported standard error, over sqrt(seeds).
The spread between seeds is the honest measure (a resampled sample's own standard error can
understate it); since it is itself estimated from 16 values, the mean's error in its units is
Student t with 15 degrees of freedom, and 6 of them are exceeded with probability about 2e-5.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import signal, special, stats

from conftest import HEADER
from scenarios.backtest import load_resolutions, run_backtest
from scenarios.engine.asof import (
    MOVE_ROUNDS,
    RESAMPLE_BELOW,
    Plan,
    forecast_as_of,
    run_plans,
)
from scenarios.engine.evidence import Evidence, parse_evidence
from scenarios.engine.forecast import run_forecast
from scenarios.engine.simulate import simulate
from scenarios.model.load import load_model

URL = "https://example.org/smc-test"
AS_OF = dt.date(2023, 9, 5)  # HEADER's as_of: model day 0
SEEDS = tuple(range(101, 117))  # independent replicates for the Monte Carlo error
SAMPLES = 2000
K_SE = 6.0


def day(date: dt.date) -> int:
    """Model day of a calendar date (days after HEADER's as_of)."""
    return (date - AS_OF).days


def item(public_on, **what) -> dict:
    return {"public_on": str(public_on), "source": URL, **what}


def weekly(start: dt.date, n: int) -> list[dt.date]:
    return [start + dt.timedelta(days=7 * i) for i in range(n)]


# =========================================================================== running and checking


def run_dates(model, questions, evidence, dates, *, samples=SAMPLES, seed=SEEDS[0], chunk_size=None) -> list:
    """One shared run of resample-move over ``dates``: a finished :class:`Plan` per date."""
    plans = [Plan(d, evidence.conditioning(model, d), list(questions)) for d in dates]
    extra = {} if chunk_size is None else {"chunk_size": chunk_size}
    run_plans(model, plans, samples=samples, seed=seed, evidence=evidence, **extra)
    return plans


def answers(model, plan) -> dict:
    """Question id -> QuestionForecast of a finished plan."""
    return {acc.q.id: acc.result(model.as_of) for acc in plan.accs}


@dataclass
class Case:
    """A small model, its evidence, as-of dates and the exact posterior answer at each date."""

    text: str
    items: list
    exact: dict  # as-of date -> {question id: exact probability (binary) or mean (numeric)}
    chunk_size: int | None = None


def check_against_exact(write, case: Case, *, samples=SAMPLES, seeds=SEEDS) -> list:
    """Run every seed over the case's dates and compare the mean forecast with the exact one.

    Every evidence date is run too (the chain of steps is the same whatever dates are asked for),
    so that each step's resampling and moves show in some plan's ``smc``.  Returns the plans of
    every seed (a list per seed, in date order) for further checks.
    """
    model, questions = load_model(write("model.yaml", case.text))
    evidence = parse_evidence(model, case.items)
    dates = sorted(set(case.exact) | set(evidence.dates()))
    runs = [run_dates(model, questions, evidence, dates, samples=samples, seed=s, chunk_size=case.chunk_size)
            for s in seeds]
    r = len(seeds)
    for i, d in enumerate(dates):
        for qid, exact in case.exact.get(d, {}).items():
            got = [answers(model, plans[i])[qid] for plans in runs]
            p = np.array([g.probability if g.type == "binary" else g.mean for g in got])  # numeric: the mean
            own = float(np.mean([g.stderr for g in got]))  # each forecast's own standard error
            se = max(float(p.std(ddof=1)), own) / math.sqrt(r)
            assert abs(p.mean() - exact) < K_SE * se + 1e-9, (
                f"{qid} as of {d}: mean of {r} seeds {p.mean():.4f} (each {np.round(p, 3).tolist()}) against exact "
                f"{exact:.4f}; standard error {se:.4f}")
    return runs


def assert_resampled_and_moved(runs) -> None:
    """Resampling happened in every replicate, and some moves were accepted (and none above 1)."""
    for plans in runs:
        assert plans[-1].smc["resamples"] > 0, [p.smc for p in plans]
        rates = [p.smc["acceptance"] for p in plans if p.smc["acceptance"] is not None]
        assert rates and all(0.0 <= a <= 1.0 for a in rates), [p.smc for p in plans]
        assert max(rates) > 0, [p.smc for p in plans]


# =========================================================================== the models and their exact answers

# ---- a categorical parent and many sequential observations (exact by enumeration)

PRIOR_K = {"a": 0.6, "b": 0.3, "c": 0.1}
P_X = {"a": 0.2, "b": 0.5, "c": 0.9}  # P(x_i true | k)
X_SEEN = [True, True, False, True, True, True, True, True, False, True, True, True]
X_DATES = weekly(dt.date(2023, 9, 12), len(X_SEEN))


def categorical_text(n_children: int = len(X_SEEN) + 1, *, questions: str = "") -> str:
    """k ~ categorical; x1..xN independent given k, x_i ~ Bernoulli(P_X[k]); questions on k and xN."""
    cases = ", ".join(f"{c}: {{bernoulli: {{p: {p}}}}}" for c, p in P_X.items())
    children = "".join(f"  x{i}: {{by: k, cases: {{{cases}}}}}\n" for i in range(1, n_children + 1))
    prior = ", ".join(f"{c}: {p}" for c, p in PRIOR_K.items())
    return HEADER + f"nodes:\n  k: {{categorical: {{{prior}}}}}\n" + children + (questions or f"""questions:
  - {{id: k_is_c, resolve: {{is: {{k: c}}}}}}
  - {{id: k_is_b, resolve: {{is: {{k: b}}}}}}
  - {{id: next_true, resolve: {{is: {{x{n_children}: true}}}}}}
  - {{id: next_if_not_a, resolve: {{is: {{x{n_children}: true}}}}, given: {{is: {{k: [b, c]}}}}}}
""")


def categorical_items(seen=X_SEEN, dates=X_DATES) -> list:
    return [item(d, observe={f"x{i}": x}) for i, (x, d) in enumerate(zip(seen, dates), start=1)]


def categorical_posterior(seen) -> dict:
    """P(k | x_1..x_j) by enumeration."""
    w = {c: PRIOR_K[c] * math.prod(P_X[c] if x else 1 - P_X[c] for x in seen) for c in PRIOR_K}
    total = sum(w.values())
    return {c: v / total for c, v in w.items()}


def categorical_plain_share(seen) -> float:
    """ESS share of plain likelihood weighting: (E w)^2 / E w^2, w = P(x_1..x_j | k), k from the prior."""
    w = {c: math.prod(P_X[c] if x else 1 - P_X[c] for x in seen) for c in PRIOR_K}
    return sum(PRIOR_K[c] * w[c] for c in w) ** 2 / sum(PRIOR_K[c] * w[c] ** 2 for c in w)


def categorical_exact(as_of: dt.date) -> dict:
    post = categorical_posterior([x for x, d in zip(X_SEEN, X_DATES) if d <= as_of])
    return {"k_is_c": post["c"], "k_is_b": post["b"], "next_true": sum(post[c] * P_X[c] for c in post),
            "next_if_not_a": (post["b"] * P_X["b"] + post["c"] * P_X["c"]) / (post["b"] + post["c"])}


def categorical_case(chunk_size=None) -> Case:
    dates = [X_DATES[1], X_DATES[4] + dt.timedelta(days=3), X_DATES[7], X_DATES[11], dt.date(2023, 12, 20)]
    return Case(categorical_text(), categorical_items(), {d: categorical_exact(d) for d in dates}, chunk_size)


# ---- a gamma rate and exactly observed Poisson counts (conjugate)

GP_SHAPE, GP_SCALE = 2.0, 5.0
GP_COUNTS = [22, 27, 19, 25, 30, 24]
GP_DATES = [dt.date(2023, 9, 20) + dt.timedelta(days=14 * i) for i in range(len(GP_COUNTS))]
GP_TEXT = HEADER + f"""
nodes:
  lam: {{gamma: {{shape: {GP_SHAPE}, scale: {GP_SCALE}}}}}
""" + "".join(f"  n{i}: {{poisson: {{rate: lam}}}}\n" for i in range(1, len(GP_COUNTS) + 2)) + f"""
questions:
  - {{id: lam_20, resolve: {{quantity: lam, at_least: 20}}}}
  - {{id: lam_24, resolve: {{quantity: lam, at_least: 24}}}}
  - {{id: next_25, resolve: {{quantity: n{len(GP_COUNTS) + 1}, at_least: 25}}}}
  - {{id: lam_mean, type: numeric, resolve: {{quantity: lam}}}}
"""


def gamma_poisson_posterior(counts, shape=GP_SHAPE, scale=GP_SCALE):
    """lam | counts ~ Gamma(shape + sum, rate 1/scale + number of counts)."""
    return shape + sum(counts), 1 / scale + len(counts)


def gamma_poisson_exact(as_of: dt.date) -> dict:
    a, b = gamma_poisson_posterior([n for n, d in zip(GP_COUNTS, GP_DATES) if d <= as_of])
    return {
        "lam_20": float(stats.gamma.sf(20, a, scale=1 / b)),
        "lam_24": float(stats.gamma.sf(24, a, scale=1 / b)),
        # a new count given the counts: negative binomial (the gamma-Poisson mixture)
        "next_25": float(stats.nbinom.sf(24, a, b / (b + 1))),
        "lam_mean": a / b,
    }


def gamma_poisson_plain_share(counts, shape=GP_SHAPE, scale=GP_SCALE) -> float:
    """(E w)^2 / E w^2 for w = prod Poisson(n_i; lam), lam ~ Gamma(shape, scale).

    With S = sum n_i and k counts, w is lam^S e^(-k lam) up to a constant, and
    E[lam^S e^(-k lam)] = Gamma(shape + S) scale^S / (Gamma(shape) (1 + k scale)^(shape + S)).
    """
    s, k = sum(counts), len(counts)

    def log_moment(s, k):
        return special.gammaln(shape + s) - special.gammaln(shape) + s * math.log(scale) - (shape + s) * math.log1p(k * scale)

    return math.exp(2 * log_moment(s, k) - log_moment(2 * s, 2 * k))


def gamma_poisson_case() -> Case:
    items = [item(d, observe={f"n{i}": n}) for i, (n, d) in enumerate(zip(GP_COUNTS, GP_DATES), start=1)]
    dates = [GP_DATES[1], GP_DATES[3] + dt.timedelta(days=5), GP_DATES[5]]
    return Case(GP_TEXT, items, {d: gamma_poisson_exact(d) for d in dates})


# ---- a gamma rate behind a Poisson flow, with dated noisy reports of its running total (quadrature)

FLOW_SHAPE, FLOW_SCALE, FLOW_SIGMA = 3.0, 4.0, 0.25
# (end of model month m, said): a value (the density of said = value) or {low: x} ("at least x")
FLOW_REPORTS = [(1, {"value": 20}), (2, {"value": 55}), (3, {"low": 80})]
FLOW_PUBLIC = [dt.date(2023, 10, 10), dt.date(2023, 11, 10), dt.date(2023, 12, 10)]
FLOW_MONTH, FLOW_AT_LEAST = 6, 170  # question: running total at the end of month 6 at least 170


def flow_text(named_rate: bool) -> str:
    rate = f"{{gamma: {{shape: {FLOW_SHAPE}, scale: {FLOW_SCALE}}}}}"
    nodes = f"  lam: {rate}\n  f: {{flow: {{rate: lam}}}}\n" if named_rate else f"  f: {{flow: {{rate: {rate}}}}}\n"
    questions = f"  - {{id: total_6, resolve: {{quantity: f.cumulative, month: {FLOW_MONTH}, at_least: {FLOW_AT_LEAST}}}}}\n"
    if named_rate:
        questions += "  - {id: lam_25, resolve: {quantity: lam, at_least: 25}}\n"
    return HEADER + "nodes:\n" + nodes + "questions:\n" + questions


def flow_items() -> list:
    out = []
    for (m, said), public in zip(FLOW_REPORTS, FLOW_PUBLIC):
        on = AS_OF + dt.timedelta(days=30 * m)  # end of model month m: the total of whole months
        out.append(item(public, report={"quantity": "f.cumulative", "on": str(on), "said": said,
                                        "likelihood": {"lognormal": {"sigma": FLOW_SIGMA}}}))
    return out


def flow_report_likelihood(said: dict, totals: np.ndarray) -> np.ndarray:
    """The report's likelihood of each true total (lognormal noise; a total of 0 says 0)."""
    with np.errstate(divide="ignore"):
        log_t = np.log(totals.astype(float))
    if "value" in said:
        return np.exp(-0.5 * ((math.log(said["value"]) - log_t) / FLOW_SIGMA) ** 2)
    return stats.norm.cdf((log_t - math.log(said["low"])) / FLOW_SIGMA)


def flow_forward(as_of: dt.date, power: int = 1):
    """Forward algorithm over the running total on a grid of rates, with the reports public by ``as_of``.

    With rate lam per month and no ramp, the month counts are independent Poisson(lam), so the
    total's increment between two month ends is Poisson(lam * months).  Returns the grid of rates,
    its spacing, the totals, ``alpha`` and the last reported month: alpha[g, n] is the prior
    density of lam_g times P(total = n at that month and the reports | lam_g), each report's
    likelihood raised to ``power`` (2 gives the second moment of plain weighting's weight).
    """
    step = 0.05  # rates at mid-points, so that no grid point sits on a threshold
    grid = (np.arange(2000) + 0.5) * step
    counts = np.arange(500)
    alpha = stats.gamma.pdf(grid, FLOW_SHAPE, scale=FLOW_SCALE)[:, None] * (counts == 0)[None, :]
    month = 0
    for (m, said), public in zip(FLOW_REPORTS, FLOW_PUBLIC):
        if public > as_of:
            break
        increment = stats.poisson.pmf(counts[None, :], grid[:, None] * (m - month))
        alpha = np.clip(signal.fftconvolve(alpha, increment, axes=1)[:, : len(counts)], 0.0, None)
        alpha *= flow_report_likelihood(said, counts)[None, :] ** power
        month = m
    return grid, step, counts, alpha, month


def flow_exact(as_of: dt.date) -> dict:
    """The posterior of (lam, total at the last reported month); the future total adds
    Poisson(lam * remaining months)."""
    grid, _, counts, alpha, month = flow_forward(as_of)
    alpha = alpha / alpha.sum()
    future = stats.poisson.sf(FLOW_AT_LEAST - 1 - counts[None, :], grid[:, None] * (FLOW_MONTH - month))
    return {"total_6": float((alpha * future).sum()), "lam_25": float(alpha[grid >= 25].sum())}


def flow_plain_share(as_of: dt.date) -> float:
    """(E L)^2 / E L^2 for L the product of the reports' likelihoods, over the prior of rate and counts."""
    _, step, _, first, _ = flow_forward(as_of)
    _, _, _, second, _ = flow_forward(as_of, power=2)
    return float(step * first.sum() ** 2 / second.sum())


def flow_case(named_rate: bool) -> Case:
    dates = [FLOW_PUBLIC[0], FLOW_PUBLIC[1] + dt.timedelta(days=10), FLOW_PUBLIC[2]]
    keep = ("total_6", "lam_25") if named_rate else ("total_6",)
    exact = {d: {k: v for k, v in flow_exact(d).items() if k in keep} for d in dates}
    return Case(flow_text(named_rate), flow_items(), exact)


# ---- an event hazard under a watch, observed later (quadrature)

HZ_A, HZ_B = 2.0, 1.0  # chance per month ~ Beta(HZ_A, HZ_B)
HZ_SEEN = dt.date(2024, 4, 20)  # the watched event happens (and is public) that day
HZ_BY = dt.date(2024, 6, 30)
HZ_TEXT = HEADER + f"""
nodes:
  h: {{beta: {{a: {HZ_A}, b: {HZ_B}}}}}
  e: {{event: {{chance_per_month: h}}}}
  e2: {{event: {{chance_per_month: h}}}}
questions:
  - {{id: h_low, resolve: {{quantity: h, at_most: 0.1}}}}
  - {{id: e_by, resolve: {{event: e, by: {HZ_BY}}}}}
  - {{id: e2_by, resolve: {{event: e2, by: {HZ_BY}}}}}
"""
HZ_ITEMS = [item(AS_OF, watch=["e"]), item(HZ_SEEN, observe={"e": str(HZ_SEEN)})]


def hazard_exact(as_of: dt.date) -> dict:
    """Posterior of the monthly chance h on a grid.

    A constant monthly chance h is a daily rate -log(1 - h) / 30, so P(e > t | h) = (1 - h)^(t / 30)
    within the horizon.  Watched and not seen by day D: the factor is P(e > D); seen on day d (the
    day interval (d - 1, d]): P(e > d - 1) - P(e > d).
    """
    h = np.linspace(0.0, 1.0, 200_001)[1:-1]
    prior = stats.beta.pdf(h, HZ_A, HZ_B)

    def surv(t):
        return (1 - h) ** (t / 30)

    t_by = day(HZ_BY)
    if as_of < HZ_SEEN:
        post = prior * surv(day(as_of))
        e_by = 1 - surv(t_by) / surv(day(as_of))  # given it has not happened by as_of
    else:
        d = day(HZ_SEEN)
        post = prior * (surv(d - 1) - surv(d))
        e_by = np.ones_like(h)
    post /= post.sum()
    return {"h_low": float(post[h <= 0.1].sum()), "e_by": float(post @ e_by), "e2_by": float(post @ (1 - surv(t_by)))}


def hazard_plain_share(as_of: dt.date) -> float:
    """(E w)^2 / E w^2 of the watch factor w = (1 - h)^(D / 30) before the event is seen."""
    h = np.linspace(0.0, 1.0, 200_001)[1:-1]
    prior = stats.beta.pdf(h, HZ_A, HZ_B)
    w = (1 - h) ** (day(as_of) / 30)
    return float((prior @ w) ** 2 / ((prior @ (w * w)) * prior.sum()))


def hazard_case() -> Case:
    dates = [dt.date(2023, 12, 4), dt.date(2024, 3, 3), HZ_SEEN, dt.date(2024, 5, 15)]
    return Case(HZ_TEXT, HZ_ITEMS, {d: hazard_exact(d) for d in dates})


# ---- several independent parents at once: plain weighting's share is the product of theirs

MP_SHAPE, MP_SCALE = 3.0, 3.0
MP_COUNTS = [[14, 16, 12], [4, 2, 5], [13, 15, 17], [3, 9, 4], [16, 11, 14]]  # parent j's counts, date by date
MP_DATES = [dt.date(2023, 10, 1), dt.date(2023, 11, 1), dt.date(2023, 12, 1)]
MP_TEXT = HEADER + "nodes:\n" + "".join(
    f"  g{j}: {{gamma: {{shape: {MP_SHAPE}, scale: {MP_SCALE}}}}}\n"
    + "".join(f"  c{j}_{t}: {{poisson: {{rate: g{j}}}}}\n" for t in range(len(MP_DATES)))
    for j in range(len(MP_COUNTS))
) + """questions:
  - {id: g0_13, resolve: {quantity: g0, at_least: 13}}
  - {id: g1_4, resolve: {quantity: g1, at_least: 4}}
  - {id: g3_5, resolve: {quantity: g3, at_least: 5}}
"""
MP_ITEMS = [item(d, observe={f"c{j}_{t}": counts[t] for j, counts in enumerate(MP_COUNTS)})
            for t, d in enumerate(MP_DATES)]


def multi_parent_exact(as_of: dt.date) -> dict:
    seen = sum(d <= as_of for d in MP_DATES)
    out = {}
    for qid, j, x in (("g0_13", 0, 13), ("g1_4", 1, 4), ("g3_5", 3, 5)):
        a, b = gamma_poisson_posterior(MP_COUNTS[j][:seen], MP_SHAPE, MP_SCALE)
        out[qid] = float(stats.gamma.sf(x, a, scale=1 / b))
    return out


def multi_parent_plain_share(as_of: dt.date) -> float:
    """Independent parents with a factor each: E and E^2 of the product factorise, so the share
    (E w)^2 / E w^2 is the product of the parents' shares."""
    seen = sum(d <= as_of for d in MP_DATES)
    return math.prod(gamma_poisson_plain_share(c[:seen], MP_SHAPE, MP_SCALE) for c in MP_COUNTS)


# =========================================================================== 1. agreement with exact Bayes


def test_the_exact_answers_are_what_the_tests_assume():
    """Preconditions, from the exact formulas: plain weighting falls below the resampling
    threshold on every model below (so resample-move must act), and the exact answers move."""
    assert categorical_plain_share(X_SEEN[:2]) < RESAMPLE_BELOW < categorical_plain_share(X_SEEN[:1])
    assert categorical_plain_share(X_SEEN) < 0.2
    assert gamma_poisson_plain_share(GP_COUNTS) < 0.06
    assert flow_plain_share(FLOW_PUBLIC[-1]) < RESAMPLE_BELOW
    assert hazard_plain_share(dt.date(2024, 4, 1)) < RESAMPLE_BELOW
    assert multi_parent_plain_share(MP_DATES[-1]) < 0.01
    assert MOVE_ROUNDS >= 1
    # the forward algorithm before any report is the prior: the rate's gamma law, and the total of
    # six months a gamma mixture of Poisson(6 lam) laws (summed over rates here)
    prior = flow_exact(AS_OF)
    lam = stats.gamma(FLOW_SHAPE, scale=FLOW_SCALE)
    assert prior["lam_25"] == pytest.approx(lam.sf(25), abs=1e-4)
    rates = np.arange(0.005, 100, 0.01)
    mixture = stats.poisson.sf(FLOW_AT_LEAST - 1, 6 * rates) @ lam.pdf(rates) * 0.01
    assert prior["total_6"] == pytest.approx(float(mixture), abs=1e-4)
    assert categorical_exact(X_DATES[-1])["k_is_c"] > 0.8 > categorical_exact(X_DATES[1])["k_is_c"]


def test_categorical_parent_with_many_sequential_observations_matches_enumeration(write):
    runs = check_against_exact(write, categorical_case())
    assert_resampled_and_moved(runs)


def test_categorical_parent_over_several_chunks_matches_enumeration(write):
    # resampling and moves are per chunk; the last chunk is partial
    runs = check_against_exact(write, categorical_case(chunk_size=700))
    assert_resampled_and_moved(runs)


def test_gamma_rate_with_observed_poisson_counts_matches_the_conjugate_posterior(write):
    runs = check_against_exact(write, gamma_poisson_case())
    assert_resampled_and_moved(runs)


@pytest.mark.parametrize("named_rate", [True, False], ids=["rate_node", "inline_rate"])
def test_poisson_flow_with_dated_noisy_reports_matches_quadrature(write, named_rate):
    runs = check_against_exact(write, flow_case(named_rate))
    assert_resampled_and_moved(runs)


def test_event_hazard_under_a_watch_then_observed_matches_quadrature(write):
    runs = check_against_exact(write, hazard_case())
    assert_resampled_and_moved(runs)


def test_several_parents_at_once_match_their_conjugate_posteriors(write):
    case = Case(MP_TEXT, MP_ITEMS, {d: multi_parent_exact(d) for d in MP_DATES})
    runs = check_against_exact(write, case)
    assert_resampled_and_moved(runs)


def test_resampling_starts_when_the_ess_falls_below_the_threshold(write):
    # one observation leaves plain weighting 72% of the worlds (no resampling), two leave 38%
    model, questions = load_model(write("m.yaml", categorical_text()))
    evidence = parse_evidence(model, categorical_items())
    first, second = run_dates(model, questions, evidence, X_DATES[:2])
    assert first.smc["resamples"] == 0 and first.smc["acceptance"] is None
    assert first.smc["distinct"] == SAMPLES
    assert second.smc["resamples"] >= 1 and second.smc["acceptance"] is not None
    assert second.smc["distinct"] <= SAMPLES


# =========================================================================== 2. no look-ahead


def lookahead_variants(model) -> tuple[dt.date, dict]:
    """The categorical evidence with the items after D removed, changed, or with more added."""
    d = X_DATES[4] + dt.timedelta(days=3)
    full = categorical_items()
    before = [it for it in full if dt.date.fromisoformat(it["public_on"]) <= d]
    after = [it for it in full if dt.date.fromisoformat(it["public_on"]) > d]
    flipped = [{**it, "observe": {k: not v for k, v in it["observe"].items()}} for it in after]
    extra = [item(d + dt.timedelta(days=1), observe={"x13": False}),  # the day after D
             item(dt.date(2024, 1, 10), observe={"x14": True})]
    return d, {
        "full": parse_evidence(model, full),
        "removed": parse_evidence(model, before),
        "changed": parse_evidence(model, before + flipped),
        "added": parse_evidence(model, full + extra),
        "only_added": parse_evidence(model, before + extra),
    }


def test_evidence_after_the_date_never_changes_a_forecast_as_of_it(write):
    model, questions = load_model(write("m.yaml", categorical_text(14)))
    d, variants = lookahead_variants(model)
    out = {}
    for name, evidence in variants.items():
        plan = run_dates(model, questions, evidence, [d])[0]
        out[name] = (forecast_as_of(model, questions, evidence, d, samples=SAMPLES, seed=SEEDS[0]).to_dict(),
                     plan.ess, dict(plan.smc), {k: (v.probability, v.n_eff) for k, v in answers(model, plan).items()})
    assert out["full"][2]["resamples"] > 0  # resampling happened before D
    for name, got in out.items():
        assert got == out["full"], name



# questions whose sets differ between dates: one closes, one opens later
BACKTEST_QUESTIONS = """questions:
  - {id: k_is_c, resolve: {is: {k: c}}}
  - {id: k_is_b, resolve: {is: {k: b}}}
  - {id: next_true, resolve: {is: {x14: true}}}
  - {id: c_early, close: 2023-10-15, resolve: {is: {k: c}}}
  - {id: b_late, open: 2023-10-20, resolve: {is: {k: b}}}
"""
CATEGORICAL_RESOLVED = """
questions:
  - {id: k_is_c, outcome: true, resolved_on: 2024-03-01}
  - {id: k_is_b, outcome: false, resolved_on: 2024-03-01}
  - {id: next_true, outcome: true, resolved_on: 2024-03-01}
  - {id: c_early, outcome: true, resolved_on: 2023-10-15}
  - {id: b_late, outcome: false, resolved_on: 2024-03-01}
"""


def test_evidence_after_the_date_never_changes_the_backtests_rows_at_it(write):
    model, questions = load_model(write("m.yaml", categorical_text(14, questions=BACKTEST_QUESTIONS)))
    resolutions = load_resolutions(write("r.yaml", CATEGORICAL_RESOLVED))
    d, variants = lookahead_variants(model)
    late = X_DATES[8]
    dates = [X_DATES[1], d, late, dt.date(2024, 1, 15)]
    results = {name: run_backtest(model, questions, resolutions, evidence, as_of_dates=dates, samples=SAMPLES,
                                  seed=SEEDS[0])
               for name, evidence in variants.items()}
    full = results["full"]
    at_d = [r for r in full.rows if r["as_of"] <= d]
    assert {r["as_of"] for r in at_d} == {X_DATES[1], d}
    for name, result in results.items():
        assert [r for r in result.rows if r["as_of"] <= d] == at_d, name
        assert result.summary["ess"][str(d)] == full.summary["ess"][str(d)], name
    # and the later rows do read the later evidence (the comparison above is not vacuous)
    assert ([r["forecast"] for r in results["changed"].rows if r["as_of"] == late]
            != [r["forecast"] for r in full.rows if r["as_of"] == late])


# =========================================================================== 3. the backtest equals forecast_as_of


def hazard_backtest_model(write):
    text = HZ_TEXT.replace("  - {id: h_low,", "  - {id: h_early, close: 2024-01-31, resolve: {quantity: h, at_most: 0.2}}\n  - {id: h_low,")
    model, questions = load_model(write("h.yaml", text))
    resolutions = load_resolutions(write("r.yaml", """
questions:
  - {id: h_early, outcome: false, resolved_on: 2024-02-01}
  - {id: h_low, outcome: false, resolved_on: 2024-08-01}
  - {id: e_by, outcome: true, resolved_on: 2024-04-20}
  - {id: e2_by, outcome: false, resolved_on: 2024-07-01}
"""))
    return model, questions, resolutions, parse_evidence(model, HZ_ITEMS)


def categorical_backtest_model(write):
    model, questions = load_model(write("m.yaml", categorical_text(14, questions=BACKTEST_QUESTIONS)))
    resolutions = load_resolutions(write("r.yaml", CATEGORICAL_RESOLVED))
    return model, questions, resolutions, parse_evidence(model, categorical_items())


@pytest.mark.parametrize(
    "build, dates",
    [
        (categorical_backtest_model, None),  # the default dates: open dates and every evidence date
        # dates between evidence dates, skipping some, and after the last item
        (categorical_backtest_model, [dt.date(2023, 9, 15), X_DATES[3] + dt.timedelta(days=2), X_DATES[6],
                                      X_DATES[11], X_DATES[11] + dt.timedelta(days=9)]),
        # a watch: every as-of date is a step of its own (time without news is information)
        (hazard_backtest_model, [AS_OF, dt.date(2023, 12, 1), dt.date(2024, 1, 31), dt.date(2024, 3, 20),
                                 HZ_SEEN, dt.date(2024, 6, 1)]),
    ],
    ids=["categorical_default_dates", "categorical_other_dates", "hazard_watch"],
)
def test_the_backtest_forecast_at_every_date_is_forecast_as_of_that_date(write, build, dates):
    model, questions, resolutions, evidence = build(write)
    chunk = 800  # three chunks, the last partial: resampling is per chunk
    result = run_backtest(model, questions, resolutions, evidence, as_of_dates=dates, samples=SAMPLES,
                          seed=SEEDS[1], chunk_size=chunk)
    resolved_on = {k: r.resolved_on for k, r in resolutions.items()}
    seen = sorted({r["as_of"] for r in result.rows})
    assert len(seen) >= 4
    resampled = 0
    for d in seen:
        f = forecast_as_of(model, questions, evidence, d, samples=SAMPLES, seed=SEEDS[1], resolved_on=resolved_on,
                           chunk_size=chunk)
        by_id = f.by_id()
        rows = [r for r in result.rows if r["as_of"] == d]
        assert rows and {r["question"] for r in rows} <= set(by_id), d  # the backtest also skips unopened ones
        for r in rows:
            assert r["forecast"] == by_id[r["question"]].probability, (d, r["question"])
            assert r["ess"] == by_id[r["question"]].n_eff, (d, r["question"])
        assert result.summary["ess"][str(d)] == f.ess, d
        plan = run_dates(model, questions, evidence, [d], seed=SEEDS[1], chunk_size=chunk)[0]
        resampled = max(resampled, plan.smc["resamples"])
    assert resampled > 0  # the equality covers resampled chains, not only plain weighting


def test_without_news_between_two_dates_the_forecast_stays_the_same(write):
    # common random numbers: after the last item, and with no watch, a later date adds no
    # information, so it must neither resample again nor draw the worlds' other nodes afresh
    model, questions = load_model(write("m.yaml", categorical_text()))
    evidence = parse_evidence(model, categorical_items())
    last = X_DATES[-1]
    plans = run_dates(model, questions, evidence, [last, last + dt.timedelta(days=20)])
    assert plans[0].smc["resamples"] > 0
    a, b = (answers(model, p) for p in plans)
    assert {k: v.probability for k, v in a.items()} == {k: v.probability for k, v in b.items()}
    assert plans[0].ess == plans[1].ess
    f = [forecast_as_of(model, questions, evidence, d, samples=SAMPLES, seed=SEEDS[0]).to_dict()["questions"]
         for d in (last, last + dt.timedelta(days=20))]
    assert f[0] == f[1]


# =========================================================================== 4. reproducible, and an honest ESS


def test_same_seed_same_numbers_other_seed_other_numbers(write):
    model, questions = load_model(write("mp.yaml", MP_TEXT))
    evidence = parse_evidence(model, MP_ITEMS)

    def numbers(seed):
        plans = run_dates(model, questions, evidence, MP_DATES, seed=seed)
        return [(p.ess, dict(p.smc), {k: (v.probability, v.n_eff) for k, v in answers(model, p).items()}) for p in plans]

    first = numbers(SEEDS[0])
    assert first[-1][1]["resamples"] > 0
    assert numbers(SEEDS[0]) == first
    assert numbers(SEEDS[1]) != first
    f = [forecast_as_of(model, questions, evidence, MP_DATES[-1], samples=SAMPLES, seed=SEEDS[0]).to_dict()
         for _ in range(2)]
    assert f[0] == f[1]


def test_ess_never_exceeds_distinct_worlds_and_keeps_a_tenth_where_plain_weighting_keeps_a_hundredth(write):
    """Five independent gamma rates, each with three observed counts: plain weighting keeps
    prod_j (E w_j)^2 / E w_j^2 < 1% of the worlds (exact, see multi_parent_plain_share); moves on one
    rate at a time keep at least 10% at every date."""
    model, questions = load_model(write("mp.yaml", MP_TEXT))
    evidence = parse_evidence(model, MP_ITEMS)
    assert multi_parent_plain_share(MP_DATES[-1]) < 0.01
    for seed in SEEDS[:3]:
        plans = run_dates(model, questions, evidence, MP_DATES, seed=seed)
        for p in plans:
            distinct = p.smc["distinct"]
            assert p.ess <= distinct * (1 + 1e-12) and distinct <= SAMPLES, (p.as_of, p.ess, p.smc)
            assert p.ess / SAMPLES > 0.10, (p.as_of, p.ess, p.smc)
            for qid, a in answers(model, p).items():
                assert a.n_eff <= distinct * (1 + 1e-12), (p.as_of, qid, a.n_eff, distinct)
        assert plans[-1].smc["resamples"] > 0


def test_plain_weighting_on_the_same_model_really_collapses(write):
    """The analytic share of plain weighting checked by hand-weighting prior worlds: with every
    world's weight the product of its Poisson likelihoods, the share of 200,000 prior worlds is
    near the analytic product (and far below 10%)."""
    model, _ = load_model(write("mp.yaml", MP_TEXT))
    n = 200_000
    worlds = simulate(model, n, seed=SEEDS[0], nodes=[f"g{j}" for j in range(len(MP_COUNTS))])
    log_w = np.zeros(n)
    for j, counts in enumerate(MP_COUNTS):
        g = np.asarray(worlds[f"g{j}"])
        log_w += sum(stats.poisson.logpmf(c, g) for c in counts)
    w = np.exp(log_w - log_w.max())
    share = w.sum() ** 2 / (w * w).sum() / n
    exact = multi_parent_plain_share(MP_DATES[-1])
    assert share < 0.02 and exact < 0.01
    assert abs(math.log(share / exact)) < math.log(2)  # a ratio estimate from ~250 effective worlds


def test_backtest_mcse_is_not_far_below_the_spread_between_seeds(write):
    """After resampling, worlds that share an ancestor are not independent draws: the MCSE the
    backtest reports must not understate the real spread of a forecast between independent seeds
    by much.  Counting every copy as a world would understate it; so would counting as distinct two
    copies that differ only in nodes the question does not read (a move of another parent)."""
    model, questions = load_model(write("mp.yaml", MP_TEXT))
    evidence = parse_evidence(model, MP_ITEMS)
    resolutions = load_resolutions(write("r.yaml", """
questions:
  - {id: g0_13, outcome: true, resolved_on: 2024-03-01}
  - {id: g1_4, outcome: false, resolved_on: 2024-03-01}
  - {id: g3_5, outcome: true, resolved_on: 2024-03-01}
"""))
    d = MP_DATES[-1]
    seeds = tuple(range(201, 213))
    by_q: dict = {}
    for seed in seeds:
        result = run_backtest(model, questions, resolutions, evidence, as_of_dates=[d], samples=SAMPLES, seed=seed)
        for r in result.rows:
            by_q.setdefault(r["question"], []).append((r["forecast"], r["mcse"]))
    for qid, pairs in by_q.items():
        p, mcse = np.array(pairs).T
        spread = float(p.std(ddof=1))
        # 12 seeds: the sample standard deviation is within a factor 1.6 of the truth with
        # probability > 0.99 (chi-square with 11 degrees of freedom), so 3x leaves room for both
        assert spread < 3 * float(np.median(mcse)), (qid, spread, np.median(mcse))


# =========================================================================== 5. without evidence, or too little to resample


def test_no_evidence_is_the_plain_forecast(write):
    model, questions = load_model(write("m.yaml", categorical_text()))
    plain = run_forecast(model, questions, samples=SAMPLES, seed=SEEDS[0])
    as_of = forecast_as_of(model, questions, Evidence(), dt.date(2023, 11, 1), samples=SAMPLES, seed=SEEDS[0])
    assert as_of.to_dict()["questions"] == plain.to_dict()["questions"]
    assert as_of.ess == plain.ess == SAMPLES
    plan = run_dates(model, questions, Evidence(), [dt.date(2023, 11, 1)])[0]
    assert plan.smc == {"resamples": 0, "acceptance": None, "distinct": SAMPLES}


MILD_TEXT = HEADER + """
nodes:
  p: {uniform: [0, 1]}
  x1: {bernoulli: {p: p}}
  x2: {bernoulli: {p: p}}
questions:
  - {id: p_half, resolve: {quantity: p, at_least: 0.5}}
"""


def test_mild_evidence_is_plain_likelihood_weighting_unchanged(write):
    """p ~ U(0, 1), then x1 and x2 seen true: weights p and p^2 keep 3/4 and 5/9 of the worlds, above
    the threshold, so nothing is resampled and every number is plain weighting's, computed here by
    hand from the same prior worlds."""
    model, questions = load_model(write("mild.yaml", MILD_TEXT))
    dates = [dt.date(2023, 10, 1), dt.date(2023, 11, 1)]
    evidence = parse_evidence(model, [item(dates[0], observe={"x1": True}), item(dates[1], observe={"x2": True})])
    assert 5 / 9 > RESAMPLE_BELOW
    p = np.asarray(simulate(model, SAMPLES, seed=SEEDS[0], nodes=["p"])["p"])
    plans = run_dates(model, questions, evidence, dates)
    for plan, w in zip(plans, (p, p * p)):
        assert plan.smc == {"resamples": 0, "acceptance": None, "distinct": SAMPLES}
        assert plan.ess == pytest.approx(w.sum() ** 2 / (w * w).sum(), rel=1e-12)
        got = answers(model, plan)["p_half"]
        assert got.probability == pytest.approx(w[p >= 0.5].sum() / w.sum(), rel=1e-12)
        assert got.n_eff == pytest.approx(plan.ess, rel=1e-12)
    # and it is Bayes: p | two successes ~ Beta(3, 1), P(p >= 1/2) = 1 - 1/8
    got = answers(model, plans[1])["p_half"]
    assert abs(got.probability - 7 / 8) < K_SE * got.stderr


def test_the_backtest_summary_records_resample_move_by_date(write):
    model, questions = load_model(write("s.yaml", categorical_text()))
    evidence = parse_evidence(model, categorical_items())
    res = load_resolutions(write("r.yaml", "questions:\n  - {id: k_is_c, outcome: true, resolved_on: 2024-06-01}\n"))
    result = run_backtest(model, questions, res, evidence, samples=SAMPLES, seed=SEEDS[0])
    smc = result.summary["smc"]
    assert set(smc) == set(result.summary["ess"])
    last = max(smc)
    assert smc[last]["resamples"] > 0 and 0 < smc[last]["distinct"] <= SAMPLES
    assert result.summary["ess"][last] <= smc[last]["distinct"] * (1 + 1e-12)
