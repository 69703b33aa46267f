"""Time the main scoring functions on a backtest-sized problem and print the results.

Run from the repository root:

    PYTHONPATH=src python3 benchmarks/bench_scoring.py

The target is under 0.1 s for each of Brier and CRPS on 1,000 observations × 1,000 samples.
Each figure is the best of 5 runs, measured with ``time.perf_counter``, and includes input
validation.  This is a sanity check, not a test: timings depend on the machine.
"""

from __future__ import annotations

import time

import numpy as np

from scenarios.scoring import (
    bootstrap_mean_ci,
    brier_score,
    crps_ensemble,
    murphy_decomposition,
    pit_values,
    reliability_curve,
)

N_OBS = 1_000
N_SAMPLES = 1_000
REPEATS = 5
TARGET_S = 0.1


def best_of(fn, repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    rng = np.random.default_rng(0)
    probs = rng.uniform(size=N_OBS)
    outcomes = (rng.uniform(size=N_OBS) < probs).astype(int)
    samples = rng.standard_normal((N_OBS, N_SAMPLES))
    observations = rng.standard_normal(N_OBS)

    cases = [
        (f"brier_score            n={N_OBS}", lambda: brier_score(probs, outcomes), True),
        (
            f"crps_ensemble          {N_OBS} x {N_SAMPLES}",
            lambda: crps_ensemble(samples, observations),
            True,
        ),
        (
            f"crps_ensemble fair     {N_OBS} x {N_SAMPLES}",
            lambda: crps_ensemble(samples, observations, fair=True),
            True,
        ),
        (f"murphy_decomposition   n={N_OBS}", lambda: murphy_decomposition(probs, outcomes), False),
        (f"reliability_curve      n={N_OBS}", lambda: reliability_curve(probs, outcomes), False),
        (
            f"pit_values             {N_OBS} x {N_SAMPLES}",
            lambda: pit_values(samples, observations),
            False,
        ),
        (
            f"bootstrap_mean_ci      n={N_OBS}, 2000 resamples",
            lambda: bootstrap_mean_ci(brier_score(probs, outcomes), rng=np.random.default_rng(1)),
            False,
        ),
    ]
    print(f"best of {REPEATS}, time.perf_counter; target < {TARGET_S} s for the starred rows")
    for label, fn, targeted in cases:
        seconds = best_of(fn)
        flag = ""
        if targeted:
            flag = " *  ok" if seconds < TARGET_S else " *  OVER TARGET"
        print(f"{label:<48} {seconds * 1e3:9.3f} ms{flag}")


if __name__ == "__main__":
    main()
