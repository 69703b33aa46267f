"""params/reference.yaml against analytic values of reference_model.md (scipy), within MC error."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from scipy import integrate, stats

from conftest import REPO
from scenarios.engine.forecast import run_forecast
from scenarios.model.families.lognormal import lognormal_ci90
from scenarios.model.load import load_model

N = 400_000
Z = 5.0
REFERENCE = os.path.join(REPO, "params", "reference.yaml")

P_SUMMIT = 9 / 11
P_OUTCOME = {  # with a summit E[Dirichlet(3, 6, 1)] = (0.3, 0.6, 0.1); without: 0.7 / 0.3 / 0
    "no_deal": P_SUMMIT * 0.3 + (1 - P_SUMMIT) * 0.7,
    "covert_deal": P_SUMMIT * 0.6 + (1 - P_SUMMIT) * 0.3,
    "public_deal": P_SUMMIT * 0.1,
}
RATE_CI90 = {"no_deal": (5, 50), "covert_deal": (200, 800), "public_deal": (300, 1200)}


def lognormal(lo, hi):
    mu, sigma = lognormal_ci90(lo, hi)
    return stats.lognorm(sigma, scale=math.exp(mu))


def ramp_factor_sum(months: int) -> float:
    """E[sum_{m<=months} min(1, m / ramp)] for ramp ~ Uniform(1, 6)."""
    return sum(integrate.quad(lambda r, m=m: min(1.0, m / r) / 5.0, 1, 6, points=[m] if 1 < m < 6 else None)[0] for m in range(1, months + 1))


def p_missiles_by_month4() -> float:
    """P(deal) * E[1 - exp(-lambda * active months)] with S ~ Geometric(0.12)."""
    lam = lognormal(2, 10)
    total = 0.0
    for s in range(1, 5):
        p_s = 0.12 * 0.88 ** (s - 1)
        active = 5 - s
        e_none = integrate.quad(lambda x, a=active: math.exp(-x * a) * lam.pdf(x), 0, np.inf)[0]
        total += p_s * (1 - e_none)
    return (P_OUTCOME["covert_deal"] + P_OUTCOME["public_deal"]) * total


@pytest.fixture(scope="module")
def reference_forecast():
    extra = [
        {"id": "mean_containers_m6", "type": "numeric", "resolve": {"quantity": "containers.cumulative", "month": 6}},
        {"id": "mean_missiles_m4", "type": "numeric", "resolve": {"quantity": "missiles.cumulative", "month": 4}},
        {"id": "mean_shells_per_container", "type": "numeric", "resolve": {"quantity": "shells_per_container"}},
    ]
    model, questions = load_model(REFERENCE)
    _, more = load_model(REFERENCE, questions=extra)
    return run_forecast(model, questions + more, samples=N, seed=2024).by_id()


def analytic_probabilities():
    return {
        "q_summit_30d": P_SUMMIT * stats.gamma(2, scale=6).cdf(30),
        "q_deal": P_OUTCOME["covert_deal"] + P_OUTCOME["public_deal"],
        "q_public": P_OUTCOME["public_deal"],
        "q_missiles_m4": p_missiles_by_month4(),
    }


@pytest.mark.parametrize("qid", ["q_summit_30d", "q_deal", "q_public", "q_missiles_m4"])
def test_probabilities_match_analytic(reference_forecast, qid):
    p = analytic_probabilities()[qid]
    f = reference_forecast[qid]
    se = math.sqrt(p * (1 - p) / N)
    assert abs(f.probability - p) < Z * se, (qid, f.probability, p, se)


def test_mean_containers_through_month_6(reference_forecast):
    e_rate = sum(P_OUTCOME[o] * lognormal(*RATE_CI90[o]).mean() for o in P_OUTCOME)
    expected = e_rate * ramp_factor_sum(6)
    f = reference_forecast["mean_containers_m6"]
    assert abs(f.mean - expected) < Z * f.stderr, (f.mean, expected, f.stderr)


def test_mean_missiles_through_month_4(reference_forecast):
    p_deal = P_OUTCOME["covert_deal"] + P_OUTCOME["public_deal"]
    active = sum(0.12 * 0.88 ** (s - 1) * (5 - s) for s in range(1, 5))
    expected = p_deal * lognormal(2, 10).mean() * active
    f = reference_forecast["mean_missiles_m4"]
    assert abs(f.mean - expected) < Z * f.stderr, (f.mean, expected, f.stderr)


def test_shells_per_container_quantiles(reference_forecast):
    f = reference_forecast["mean_shells_per_container"]
    dist = lognormal(300, 600)
    for q in (0.05, 0.5, 0.95):
        lo, hi = dist.ppf([q - Z * math.sqrt(q * (1 - q) / N), q + Z * math.sqrt(q * (1 - q) / N)])
        assert lo <= f.quantiles[q] <= hi


def test_every_spec_output_is_a_question():
    model, questions = load_model(REFERENCE)
    assert [q.id for q in questions] == [
        "q_summit_30d", "q_deal", "q_public", "q_cont_1000_m2", "q_cont_6700_m6",
        "q_cont_13000_m14", "q_shells_3m_m6", "q_missiles_m4", "shells_m12_quantiles",
    ]
    assert model.horizon_months == 24 and model.month_days == 30
