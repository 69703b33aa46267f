"""Time a backtest over 24 monthly as-of dates against one plain forecast, at 100,000 worlds.

Run from the repository root:

    .venv/bin/python benchmarks/bench_backtest.py [--samples N] [--dates K]

The target: the backtest takes at most 24 x the single forecast (no per-date overhead beyond
re-simulation).  The backtest shares one simulation between dates (a date re-draws only what its
new evidence changes), so it should do better than 24 separate forecasts.  Both figures are the
best of ``--repeats`` runs of the whole call (simulation, weighting, scoring), measured with
``time.perf_counter`` after loading the model once.  Timings depend on the machine.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import time

from scenarios.backtest import load_resolutions, monthly_dates, run_backtest
from scenarios.engine.asof import forecast_as_of
from scenarios.engine.evidence import load_evidence
from scenarios.engine.forecast import run_forecast
from scenarios.model.load import load_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARAMS = os.path.join(ROOT, "params", "base.yaml")
RESOLUTIONS = os.path.join(ROOT, "data", "resolutions.yaml")
TARGET_RATIO = 24.0


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--dates", type=int, default=24, help="monthly as-of dates from the model's as_of")
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args(argv)

    model, questions = load_model(PARAMS)
    evidence = load_evidence(model)
    resolutions = load_resolutions(RESOLUTIONS)
    start = model.as_of
    end = _dt.date(start.year + (start.month - 1 + args.dates - 1) // 12, (start.month - 1 + args.dates - 1) % 12 + 1, start.day)
    dates = monthly_dates(start, end)
    assert len(dates) == args.dates, dates

    single, _ = best_of(lambda: run_forecast(model, questions, samples=args.samples, seed=model.seed), args.repeats)
    mid = dates[len(dates) // 2]
    as_of_one, f = best_of(lambda: forecast_as_of(model, questions, evidence, mid, samples=args.samples), args.repeats)
    backtest, result = best_of(
        lambda: run_backtest(model, questions, resolutions, evidence, as_of_dates=dates, samples=args.samples),
        args.repeats,
    )
    ratio = backtest / single
    print(f"model {model.name}: {len(questions)} questions, {len(evidence)} evidence items, {args.samples:,} worlds")
    print(f"  single forecast (no evidence)        {single:8.2f} s")
    print(f"  one forecast as of {mid} (ESS {f.ess:,.0f}) {as_of_one:8.2f} s")
    print(f"  backtest, {len(dates)} monthly as-of dates      {backtest:8.2f} s  "
          f"({backtest / len(dates):.2f} s per date; lowest ESS {min(result.summary['ess'].values()):,.0f})")
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    print(f"  ratio backtest / single forecast     {ratio:8.1f}   target <= {TARGET_RATIO:g}: {verdict}")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
