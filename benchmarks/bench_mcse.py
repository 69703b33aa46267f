"""Is the reported Monte Carlo standard error honest?  The spread of as-of forecasts over seeds
against the MCSE each run reports.

Run from the repository root:

    .venv/bin/python benchmarks/bench_mcse.py [--seeds 16] [--samples 20000] [--jobs 2] [--shown 12]

Every binary question of params/base.yaml is forecast at every default as-of date (the backtest's
dates) with ``--seeds`` seeds of ``--samples`` worlds each.  For each (question, date) the spread
of the forecasts over the seeds (their standard deviation) is set against the root mean square of
the MCSEs the runs reported: an honest MCSE gives a ratio near 1 (with 16 seeds, a ratio's own
sampling error is about 1 / sqrt(2 x 15) = 0.18).  Printed: the ratio at the (question, date)
pairs with the largest MCSE, the pooled ratio over all pairs whose forecasts vary, and the share
of standardised errors (forecast - mean over seeds) / MCSE beyond 2 and 3 in absolute value (a
normal: 4.6% and 0.27%).  Slow: 16 backtests' worth of simulation.
"""

from __future__ import annotations

import argparse
import math
import os

import numpy as np

from scenarios.backtest import default_as_of_dates
from scenarios.backtest.data import load_model_data
from scenarios.engine.asof import Plan, is_open, run_plans
from scenarios.engine.parallel import executor
from scenarios.model.data_files import data_files
from scenarios.model.load import load_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARAMS = os.path.join(ROOT, "params", "base.yaml")


def forecasts(model, binary, evidence, resolutions, dates, samples, seed, pool) -> dict:
    """(question, date) -> (probability, reported MCSE) for one seed."""
    plans = []
    for d in dates:
        open_qs = [q for q in binary if (q.open or model.as_of) <= d
                   and is_open(q, d, getattr(resolutions.get(q.id), "resolved_on", None))]
        plans.append(Plan(d, evidence.conditioning(model, d), open_qs))
    run_plans(model, plans, samples=samples, seed=seed, evidence=evidence, pool=pool)
    out = {}
    for plan in plans:
        for acc in plan.accs:
            r = acc.result(plan.as_of)
            out[(r.id, plan.as_of)] = (r.probability, acc.mcse())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--samples", type=int, default=20_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--shown", type=int, default=12)
    args = ap.parse_args()
    model, questions = load_model(PARAMS)
    data = load_model_data(model, data_files(model))
    binary = [q for q in questions if q.type == "binary"]
    dates = default_as_of_dates(model, questions, data.resolutions, data.evidence)
    runs = []
    with executor(args.jobs) as pool:
        for seed in range(1, args.seeds + 1):
            runs.append(forecasts(model, binary, data.evidence, data.resolutions, dates, args.samples, seed, pool))
            print(f"seed {seed}/{args.seeds} done", flush=True)
    keys = sorted(set.intersection(*(set(r) for r in runs)), key=lambda k: (k[1], k[0]))
    rows = []
    for k in keys:
        p = np.array([r[k][0] for r in runs])
        se = np.array([r[k][1] for r in runs])
        if not np.all(np.isfinite(p)) or not np.all(np.isfinite(se)):
            continue
        rms_se = math.sqrt(float(np.mean(se**2)))
        rows.append((k, float(p.mean()), float(p.std(ddof=1)), rms_se, (p - p.mean()) / np.where(se > 0, se, np.nan)))
    print(f"\n{len(runs)} seeds x {args.samples:,} worlds, {len(rows)} (question, as-of date) forecasts of base.yaml")
    print(f"\nlargest reported MCSE ({args.shown} shown): spread over seeds / reported MCSE (honest: about 1 +- 0.18)")
    print(f"{'question':38s} {'as of':10s} {'mean p':>7s} {'spread':>8s} {'MCSE':>8s} {'ratio':>6s}")
    for k, mean, sd, se, _ in sorted(rows, key=lambda r: -r[3])[: args.shown]:
        print(f"{k[0][:38]:38s} {k[1]!s:10s} {mean:7.3f} {sd:8.4f} {se:8.4f} {sd / se:6.2f}")
    varying = [r for r in rows if r[3] > 1e-4]
    pooled = math.sqrt(sum(r[2] ** 2 for r in varying) / sum(r[3] ** 2 for r in varying))
    z = np.concatenate([r[4] for r in varying])
    z = z[np.isfinite(z)] * math.sqrt(len(runs) / (len(runs) - 1))  # deviations from the seeds' mean, rescaled
    print(f"\npooled spread / MCSE over {len(varying)} forecasts with MCSE > 1e-4: {pooled:.2f}")
    print(f"|z| > 2: {np.mean(np.abs(z) > 2):.1%} (normal 4.6%); |z| > 3: {np.mean(np.abs(z) > 3):.2%} (normal 0.27%)")


if __name__ == "__main__":
    main()
