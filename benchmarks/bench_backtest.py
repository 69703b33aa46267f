"""Time the backtest of params/base.yaml over every as-of date against one plain forecast, same run.

Run from the repository root:

    .venv/bin/python benchmarks/bench_backtest.py [--samples N] [--repeats R] [--monthly K] [--ess-samples N ...]

The target: the backtest at ``--samples`` worlds (100,000) over every as-of date of
:func:`scenarios.backtest.default_as_of_dates` (or ``--monthly K`` monthly dates from the model's
as_of), in one process, takes at most 30 x the CPU time of one forecast with no evidence at the
same number of worlds.  Both are timed ``--repeats`` times in this run with ``time.process_time``
(CPU time, so a shared machine's load matters less) after loading the model once (simulation,
weighting, scoring); min / median / max are printed and the ratio uses the medians.  The
backtest is also timed in wall-clock time with ``--jobs`` worker processes (default 2), against
the forecast's wall-clock time.  Timings depend on the machine: only the ratios mean anything.
The largest Monte Carlo standard error of a binary forecast over the dates is printed with its
target (at most 0.02).

It also prints the lowest effective sample size over the as-of dates as a share of the worlds
at each of ``--ess-samples`` (20,000 and 100,000; target at least 10%), with the inference the
engine uses (resample-move sequential Monte Carlo: copies of a world count once) beside plain
likelihood weighting (``resample_below=0``), and, at plain weighting's worst date, the weight
factors that leave the smallest share alone (:func:`scenarios.engine.asof.factor_ess`).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import statistics
import time

from scenarios.backtest import default_as_of_dates, monthly_dates, run_backtest
from scenarios.backtest.data import load_model_data
from scenarios.engine.asof import Plan, factor_ess, run_plans
from scenarios.engine.forecast import run_forecast
from scenarios.model.data_files import data_files
from scenarios.model.load import load_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARAMS = os.path.join(ROOT, "params", "base.yaml")
TARGET_RATIO = 30.0
TARGET_MCSE = 0.02
TARGET_ESS_SHARE = 0.10
SHOWN_FACTORS = 8


def timed(fn, repeats: int, clock=time.process_time) -> tuple[list, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = clock()
        out = fn()
        times.append(clock() - t0)
    return times, out


def spread(times: list) -> str:
    return f"min {min(times):7.2f}  median {statistics.median(times):7.2f}  max {max(times):7.2f} s"


def lowest_ess(model, evidence, dates, samples: int, seed: int, resample_below=None) -> tuple:
    """(lowest ESS share over ``dates``, its date) for ``samples`` worlds, in one shared simulation."""
    plans = [Plan(d, evidence.conditioning(model, d)) for d in dates]
    run_plans(model, plans, samples=samples, seed=seed, evidence=evidence, resample_below=resample_below)
    worst = min(plans, key=lambda p: p.ess)
    return worst.ess / samples, worst.as_of


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--monthly", type=int, default=0, help="K monthly as-of dates from the model's as_of instead of the default dates")
    ap.add_argument("--ess-samples", type=int, nargs="*", default=[20_000, 100_000])
    ap.add_argument("--jobs", type=int, default=2, help="worker processes for the wall-clock run (0: skip it)")
    args = ap.parse_args(argv)

    model, questions = load_model(PARAMS)
    data = load_model_data(model, data_files(model))
    evidence, resolutions = data.evidence, data.resolutions
    if args.monthly:
        start, k = model.as_of, args.monthly - 1
        end = _dt.date(start.year + (start.month - 1 + k) // 12, (start.month - 1 + k) % 12 + 1, start.day)
        dates = monthly_dates(start, end)
    else:
        dates = default_as_of_dates(model, questions, resolutions, evidence)

    def forecast():
        return run_forecast(model, questions, samples=args.samples, seed=model.seed)

    def backtest_in(pool=None):
        return run_backtest(model, questions, resolutions, evidence, as_of_dates=dates, samples=args.samples, pool=pool)

    single, _ = timed(forecast, args.repeats)
    backtest, result = timed(backtest_in, args.repeats)
    ratio = statistics.median(backtest) / statistics.median(single)
    print(f"model {model.name}: {len(questions)} questions, {len(evidence)} evidence items, {args.samples:,} worlds, "
          f"{args.repeats} repeats")
    print(f"  single forecast (no evidence), CPU     {spread(single)}")
    print(f"  backtest, {len(dates)} as-of dates, CPU     {spread(backtest)}")
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    print(f"  CPU ratio of medians backtest / forecast {ratio:7.1f}   target <= {TARGET_RATIO:g}: {verdict}")
    mcse = max((d.get("mcse_max") or 0.0) for d in result.summary["by_date"])
    print(f"  largest MCSE of a binary forecast: {mcse:.4f}   target <= {TARGET_MCSE:g}")
    if args.jobs:
        from scenarios.engine.parallel import executor

        single_wall, _ = timed(forecast, args.repeats, time.perf_counter)
        with executor(args.jobs) as pool:
            wall, _ = timed(lambda: backtest_in(pool), args.repeats, time.perf_counter)
        print(f"  backtest with --jobs {args.jobs}, wall        {spread(wall)}")
        print(f"  wall ratio backtest (--jobs {args.jobs}) / forecast {statistics.median(wall) / statistics.median(single_wall):7.1f}")
    shares = []
    for n in args.ess_samples:
        share, when = lowest_ess(model, evidence, dates, n, model.seed)
        shares.append(share)
        print(f"  lowest ESS at {n:,} worlds: {share:.2%} of the worlds ({share * n:,.0f}) as of {when}  target >= 10%")
        share, when = lowest_ess(model, evidence, dates, n, model.seed, resample_below=0.0)
        print(f"    (plain likelihood weighting: {share:.2%} ({share * n:,.0f}) as of {when})")
        if n == args.ess_samples[-1]:
            out = factor_ess(model, evidence, when, samples=n, seed=model.seed)
            shown = ", ".join(f"{label} {s:.0%}" for label, s in list(out["factors"].items())[:SHOWN_FACTORS])
            print(f"    factors with the smallest share alone there ({len(out['factors'])} in all): {shown}")
    return 0 if ratio <= TARGET_RATIO and min(shares, default=1.0) >= TARGET_ESS_SHARE else 1


if __name__ == "__main__":
    raise SystemExit(main())
