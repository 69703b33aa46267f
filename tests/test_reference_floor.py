"""The engine's answers on params/reference.yaml agree with an independent numpy implementation.

``benchmarks/reference_numpy.py`` (the "floor") implements ../shared/reference_model.md
directly in numpy with its own random stream.  Both estimate the same distribution, so the
differences must be within Monte Carlo error:

* each probability within 4.5 combined standard errors sqrt(p1(1-p1)/N + p2(1-p2)/N);
* each shells_m12 quantile (5/50/95%) inside the floor's order-statistic interval, the floor's
  quantiles at levels q +- 4.5 sqrt(q(1-q) (1/N + 1/N)) (distribution-free: the engine's
  empirical quantile lies there unless the two disagree by more than 4.5 sigma in level).

Seeds are fixed, so the test is deterministic.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from reference_numpy import (  # noqa: E402
    PROBABILITY_OUTPUTS,
    QUANTILE_LEVELS,
    reference_worlds,
    summarise,
)
from scenarios.engine.forecast import run_forecast  # noqa: E402
from scenarios.model.load import load_model  # noqa: E402

N = 200_000
K = 4.5
EPS = 1e-9


@pytest.fixture(scope="module")
def engine():
    model, questions = load_model(str(REPO / "params" / "reference.yaml"))
    return run_forecast(model, questions, samples=N, seed=1).by_id()


@pytest.fixture(scope="module")
def floor():
    counts, shells_m12 = reference_worlds(N, 12345)
    return summarise(N, counts, shells_m12), shells_m12


def test_engine_answers_every_reference_output(engine):
    assert set(engine) == set(PROBABILITY_OUTPUTS) | {"shells_m12_quantiles"}
    for name in PROBABILITY_OUTPUTS:
        assert engine[name].type == "binary"
        assert engine[name].n_eff == pytest.approx(N)
    assert engine["shells_m12_quantiles"].type == "numeric"


@pytest.mark.parametrize("name", PROBABILITY_OUTPUTS)
def test_probability_matches_floor(engine, floor, name):
    pe = engine[name].probability
    pf = floor[0][name]
    se = max(math.sqrt(pe * (1 - pe) / N + pf * (1 - pf) / N), EPS)
    z = (pe - pf) / se
    assert abs(z) <= K, f"{name}: engine {pe:.6f} vs floor {pf:.6f}, z = {z:+.2f}"


@pytest.mark.parametrize("q", QUANTILE_LEVELS)
def test_shells_m12_quantile_matches_floor(engine, floor, q):
    ve = engine["shells_m12_quantiles"].quantiles[q]
    summary, shells_m12 = floor
    half = K * math.sqrt(q * (1 - q) * (2.0 / N))
    lo, hi = np.quantile(shells_m12, [max(0.0, q - half), min(1.0, q + half)], method="inverted_cdf")
    assert lo <= ve <= hi, (
        f"shells_m12 q{q:g}: engine {ve:,.0f} outside floor interval [{lo:,.0f}, {hi:,.0f}] "
        f"(floor {summary['shells_m12_quantiles'][q]:,.0f})"
    )


def test_floor_is_reproducible_and_chunk_invariant_in_distribution():
    a = reference_worlds(1_000, 3)
    b = reference_worlds(1_000, 3)
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])
    # A different chunking changes the numbers but keeps every output a valid probability.
    c = summarise(1_000, *reference_worlds(1_000, 3, chunk_size=128))
    assert all(0.0 <= c[name] <= 1.0 for name in PROBABILITY_OUTPUTS)
    qs = c["shells_m12_quantiles"]
    assert qs[0.05] <= qs[0.5] <= qs[0.95]
