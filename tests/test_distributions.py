"""Distributions drawn by the engine against scipy's analytic moments and quantiles.

Tolerances are 5 Monte Carlo standard errors, computed from the analytic variance.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from conftest import HEADER
from scenarios.engine.simulate import simulate
from scenarios.model.families.gamma import gamma_ci90
from scenarios.model.families.lognormal import lognormal_ci90
from scenarios.model.families.normal import normal_ci90
from scenarios.model.load import load_model

N = 200_000
Z = 5.0


def draw(write, spec: str, n: int = N, extra: str = "") -> np.ndarray:
    path = write("d.yaml", HEADER + "nodes:\n  x: " + spec + "\n" + extra)
    model, _ = load_model(path)
    return simulate(model, n, seed=11)["x"]


def assert_mean(x, dist):
    se = dist.std() / math.sqrt(len(x))
    assert abs(x.mean() - dist.mean()) < Z * se, (x.mean(), dist.mean(), se)


def assert_share(flags, p):
    se = math.sqrt(p * (1 - p) / len(flags))
    assert abs(np.mean(flags) - p) < Z * max(se, 1e-12), (np.mean(flags), p)


@pytest.mark.parametrize(
    "spec, dist",
    [
        ("{beta: {a: 9, b: 2}}", stats.beta(9, 2)),
        ("{beta: {mean: 0.3, concentration: 10}}", stats.beta(3, 7)),
        ("{uniform: [1, 6]}", stats.uniform(1, 5)),
        ("{normal: {mean: 3, sd: 2}}", stats.norm(3, 2)),
        ("{lognormal: {mu: 1, sigma: 0.5}}", stats.lognorm(0.5, scale=math.e)),
        ("{gamma: {shape: 2, scale: 6}}", stats.gamma(2, scale=6)),
        ("{gamma: {shape: 2, rate: 0.5}}", stats.gamma(2, scale=2)),
        ("{poisson: {rate: 4.5}}", stats.poisson(4.5)),
        ("{geometric: {p: 0.12}}", stats.geom(0.12)),
        ("{bernoulli: {p: 0.3}}", stats.bernoulli(0.3)),
    ],
)
def test_family_means_match_scipy(write, spec, dist):
    assert_mean(draw(write, spec).astype(float), dist)


@pytest.mark.parametrize("spec, dist", [
    ("{ci90: [5, 50]}", stats.lognorm(lognormal_ci90(5, 50)[1], scale=math.exp(lognormal_ci90(5, 50)[0]))),
    ("{normal: {ci90: [-1, 3]}}", stats.norm(*normal_ci90(-1, 3))),
    ("{gamma: {ci90: [3, 45]}}", stats.gamma(gamma_ci90(3, 45)[0], scale=gamma_ci90(3, 45)[1])),
])
def test_ci90_puts_5_percent_in_each_tail(write, spec, dist):
    x = draw(write, spec)
    lo, hi = dist.ppf([0.05, 0.95])
    assert_share(x < lo, 0.05)
    assert_share(x > hi, 0.05)


def test_per_world_parameter_uncertainty(write):
    # theta ~ Beta(9, 2), x ~ Bernoulli(theta): P(x) = E[theta] = 9/11
    x = draw(write, "{bernoulli: {p: theta}}", extra="  theta: {beta: {a: 9, b: 2}}\n")
    assert_share(x, 9 / 11)


def test_inline_distribution_as_parameter(write):
    x = draw(write, "{poisson: {rate: {gamma: {shape: 3, scale: 2}}}}")
    # Poisson-gamma mixture is negative binomial with n=3, p=1/(1+2)
    assert_mean(x, stats.nbinom(3, 1 / 3))


def test_truncation_matches_scipy_truncated_normal(write):
    x = draw(write, "{normal: {mean: 0, sd: 1}, truncate: [0.5, 2]}")
    assert x.min() >= 0.5 and x.max() <= 2
    assert_mean(x, stats.truncnorm(0.5, 2))


def test_round_shift_clip_in_order(write):
    # 1 + floor(Gamma(2, 6)) capped at 60 (the reference model's summit day)
    x = draw(write, "{gamma: {shape: 2, scale: 6}, round: floor, shift: 1, clip: [null, 60]}")
    assert x.max() == 60 and x.min() >= 1 and np.all(x == np.floor(x))
    assert_share(x <= 30, stats.gamma(2, scale=6).cdf(30))
    assert_share(x == 60, stats.gamma(2, scale=6).sf(59))


def test_categorical_frequencies(write):
    x = draw(write, "{categorical: {a: 0.6, b: 0.15, c: 0.25}}")
    for code, p in enumerate([0.6, 0.15, 0.25]):
        assert_share(x == code, p)


def test_dirichlet_then_categorical(write):
    x = draw(write, "{categorical: {weights: w}}", extra="  w: {dirichlet: {alpha: {a: 3, b: 6, c: 1}}}\n")
    for code, p in enumerate([0.3, 0.6, 0.1]):
        assert_share(x == code, p)


def test_mixture_mean(write):
    x = draw(write, "{mixture: [{weight: 0.25, dist: {normal: {mean: 10, sd: 1}}}, {weight: 0.75, dist: 2}]}")
    mean = 0.25 * 10 + 0.75 * 2
    var = 0.25 * (1 + 100) + 0.75 * 4 - mean**2
    assert abs(x.mean() - mean) < Z * math.sqrt(var / N)


def test_by_draws_each_case_for_its_worlds(write):
    path = write("d.yaml", HEADER + "nodes:\n  x: {by: flag, cases: {true: {normal: {mean: 5, sd: 1}}, false: 0}}\n  flag: {bernoulli: 0.4}\n")
    model, _ = load_model(path)
    w = simulate(model, N, seed=11)
    assert np.all(w["x"][~w["flag"]] == 0)
    assert_mean(w["x"][w["flag"]], stats.norm(5, 1))


def test_event_chance_per_month_is_a_monthly_probability(write):
    x = draw(write, "{event: {chance_per_month: 0.2}}")
    assert_share(x <= 30, 0.2)
    assert_share(x <= 60, 1 - 0.8**2)
    assert np.isinf(x).any()  # beyond the 12-month horizon is never


def test_event_after_another_event_and_when(write):
    path = write("d.yaml", HEADER + """nodes:
  go: {bernoulli: 0.5}
  first: {event: {delay: {uniform: [0, 10]}}}
  second: {event: {after: first, when: go, delay: 5}}
""")
    model, _ = load_model(path)
    w = simulate(model, 10_000, seed=3)
    assert np.all(np.isinf(w["second"][~w["go"]]))
    assert np.allclose(w["second"][w["go"]], w["first"][w["go"]] + 5)


def test_flow_poisson_mean_with_ramp_and_start(write):
    path = write("d.yaml", HEADER + """nodes:
  start: {event: {delay: 45}}
  x: {flow: {rate: 100, ramp_months: 2, start: start}}
""")
    model, _ = load_model(path)
    x = simulate(model, 50_000, seed=5)["x"]
    # start on day 45 is in month 2: months 1 zero; month 2 half rate; month 3+ full rate
    expected = np.array([0, 50] + [100] * 10)
    se = np.sqrt(np.maximum(expected, 1e-9) / len(x))
    assert np.all(x[:, 0] == 0)
    assert np.all(np.abs(x.mean(axis=0) - expected) < Z * se + 1e-12)


@settings(max_examples=100, deadline=None)
@given(lo=st.floats(1e-3, 1e4), ratio=st.floats(1.01, 1e3))
def test_lognormal_ci90_round_trip(lo, ratio):
    hi = lo * ratio
    mu, sigma = lognormal_ci90(lo, hi)
    q = stats.lognorm(sigma, scale=math.exp(mu)).ppf([0.05, 0.95])
    assert np.allclose(q, [lo, hi], rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(lo=st.floats(0.01, 1e3), ratio=st.floats(1.05, 500))
def test_gamma_ci90_round_trip(lo, ratio):
    hi = lo * ratio
    k, th = gamma_ci90(lo, hi)
    q = stats.gamma(k, scale=th).ppf([0.05, 0.95])
    assert np.allclose(q, [lo, hi], rtol=1e-6)
