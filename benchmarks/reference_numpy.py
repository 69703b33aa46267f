"""The "floor": a hand-vectorised plain-numpy implementation of the reference model.

Implements ``../shared/reference_model.md`` ("summit-arms-ref", the same model as
``params/reference.yaml``) directly in numpy, independently of the ``scenarios`` engine.  It is
the straightforward fast code a competent person would write: vectorised over worlds, chunked
so memory stays bounded, drawing exactly what the spec says (one Beta, one Bernoulli, ... and 24
monthly Poisson draws for containers and 24 for missiles per world).  It is used

* as the speed floor the engine is compared with (``benchmarks/bench_engine.py``), and
* as an independent cross-check of the engine's answers (``tests/test_reference_floor.py``).

It has its own random stream (``numpy.random.Generator(PCG64(seed))``): its numbers do not match
the engine's, only their distribution.

Memory: per chunk O(chunk_size * 24) temporaries; across the run only the per-world cumulative
shells through month 12 are kept (8 bytes per world), for the quantiles.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "PROBABILITY_OUTPUTS",
    "QUANTILE_LEVELS",
    "OUTPUTS",
    "reference_worlds",
    "summarise",
    "simulate_reference",
]

HORIZON_MONTHS = 24
Z95 = 1.6448536269514722  # standard normal 95th percentile: ci90 [a, b] has a, b at 5% and 95%

PROBABILITY_OUTPUTS = (
    "q_summit_30d",
    "q_deal",
    "q_public",
    "q_cont_1000_m2",
    "q_cont_6700_m6",
    "q_cont_13000_m14",
    "q_shells_3m_m6",
    "q_missiles_m4",
)
QUANTILE_LEVELS = (0.05, 0.5, 0.95)
OUTPUTS = PROBABILITY_OUTPUTS + ("shells_m12_quantiles",)

# Outcome codes.
NO_DEAL, COVERT_DEAL, PUBLIC_DEAL = 0, 1, 2


def _ci90(a: float, b: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal whose 5th and 95th percentiles are a and b."""
    la, lb = math.log(a), math.log(b)
    return (la + lb) / 2.0, (lb - la) / (2.0 * Z95)


# Container rate R by outcome (index = outcome code).
_R_MU, _R_SIGMA = (np.array(v) for v in zip(_ci90(5, 50), _ci90(200, 800), _ci90(300, 1200), strict=True))
_SPC_MU, _SPC_SIGMA = _ci90(300, 600)
_LAMBDA_MU, _LAMBDA_SIGMA = _ci90(2, 10)


def _chunk(rng: np.random.Generator, k: int, months: np.ndarray) -> tuple[dict, np.ndarray]:
    """Simulate ``k`` worlds. Returns (counts of worlds where each probability output holds,
    cumulative shells through month 12 per world)."""
    # 1. Summit.
    theta = rng.beta(9.0, 2.0, k)
    summit = rng.random(k) < theta
    n_summit = int(np.count_nonzero(summit))
    summit_day = np.full(k, np.inf)  # none: never within the first 60 days
    summit_day[summit] = np.minimum(1.0 + np.floor(rng.gamma(2.0, 6.0, n_summit)), 60.0)

    # 2. Outcome.
    outcome = np.empty(k, dtype=np.int8)
    w = rng.dirichlet((3.0, 6.0, 1.0), n_summit)
    u = rng.random(n_summit)
    outcome[summit] = np.where(u < w[:, 0], NO_DEAL, np.where(u < w[:, 0] + w[:, 1], COVERT_DEAL, PUBLIC_DEAL))
    outcome[~summit] = np.where(rng.random(k - n_summit) < 0.3, COVERT_DEAL, NO_DEAL)
    deal = outcome != NO_DEAL

    # 3. Containers per month: Poisson(R * min(1, m / ramp)), 24 independent draws per world.
    rate = rng.lognormal(_R_MU[outcome], _R_SIGMA[outcome])
    ramp = rng.uniform(1.0, 6.0, k)
    containers = rng.poisson(rate[:, None] * np.minimum(1.0, months[None, :] / ramp[:, None]))
    cum_containers = np.cumsum(containers, axis=1)
    del containers

    # 4. Shells per container, one draw per world; shells_m = containers_m * spc.
    spc = rng.lognormal(_SPC_MU, _SPC_SIGMA, k)
    cum_shells_m6 = cum_containers[:, 5] * spc
    cum_shells_m12 = cum_containers[:, 11] * spc

    # 5. Missiles: Poisson(lambda) in months m >= S, only with a deal (24 draws per world;
    #    a zero rate gives zero).
    start = rng.geometric(0.12, k)
    lam = rng.lognormal(_LAMBDA_MU, _LAMBDA_SIGMA, k)
    active = deal[:, None] & (months[None, :] >= start[:, None])
    missiles = rng.poisson(np.where(active, lam[:, None], 0.0))
    cum_missiles = np.cumsum(missiles, axis=1)
    del missiles, active

    counts = {
        "q_summit_30d": np.count_nonzero(summit_day <= 30),
        "q_deal": np.count_nonzero(deal),
        "q_public": np.count_nonzero(outcome == PUBLIC_DEAL),
        "q_cont_1000_m2": np.count_nonzero(cum_containers[:, 1] >= 1000),
        "q_cont_6700_m6": np.count_nonzero(cum_containers[:, 5] >= 6700),
        "q_cont_13000_m14": np.count_nonzero(cum_containers[:, 13] >= 13000),
        "q_shells_3m_m6": np.count_nonzero(cum_shells_m6 >= 3_000_000),
        "q_missiles_m4": np.count_nonzero(cum_missiles[:, 3] >= 1),
    }
    return {k_: int(v) for k_, v in counts.items()}, cum_shells_m12


def reference_worlds(n: int, seed: int, *, chunk_size: int = 100_000) -> tuple[dict, np.ndarray]:
    """Simulate ``n`` worlds of the reference model.

    Returns
    -------
    counts : dict
        Probability output name -> number of worlds where it holds.
    shells_m12 : ndarray, shape (n,), float64
        Cumulative shells through month 12 per world.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    rng = np.random.Generator(np.random.PCG64(seed))
    months = np.arange(1, HORIZON_MONTHS + 1, dtype=float)
    counts = dict.fromkeys(PROBABILITY_OUTPUTS, 0)
    shells_m12 = np.empty(n, dtype=float)
    for start in range(0, n, chunk_size):
        k = min(chunk_size, n - start)
        c, s12 = _chunk(rng, k, months)
        for name, v in c.items():
            counts[name] += v
        shells_m12[start : start + k] = s12
    return counts, shells_m12


def summarise(n: int, counts: dict, shells_m12: np.ndarray, levels=QUANTILE_LEVELS) -> dict:
    """The 9 outputs from :func:`reference_worlds`' counts and shells."""
    out = {name: counts[name] / n for name in PROBABILITY_OUTPUTS}
    qv = np.quantile(shells_m12, levels, method="inverted_cdf")
    out["shells_m12_quantiles"] = {q: float(v) for q, v in zip(levels, qv, strict=True)}
    return out


def simulate_reference(n: int, seed: int, *, chunk_size: int = 100_000) -> dict:
    """Simulate ``n`` worlds of the reference model and return its 9 outputs.

    Returns
    -------
    dict
        ``q_summit_30d`` .. ``q_missiles_m4``: probabilities (share of the ``n`` worlds);
        ``shells_m12_quantiles``: {0.05: ..., 0.5: ..., 0.95: ...} of cumulative shells through
        month 12 (inverse empirical CDF, the engine's convention).
    """
    counts, shells_m12 = reference_worlds(n, seed, chunk_size=chunk_size)
    return summarise(n, counts, shells_m12)


if __name__ == "__main__":  # pragma: no cover - manual check
    import sys
    import time

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    t = time.perf_counter()
    res = simulate_reference(n, 1)
    dt = time.perf_counter() - t
    for name, v in res.items():
        print(f"{name:<22} {v}")
    print(f"{n:,} worlds in {dt:.3f} s")
