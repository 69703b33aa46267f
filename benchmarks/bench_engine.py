"""Benchmark: the engine on the reference model against the hand-vectorised numpy floor.

Run from anywhere (paths are found from this file's location), e.g. from the repo root::

    .venv/bin/python benchmarks/bench_engine.py [--samples 1000000] [--repeat 3]

Reports

* time of ``run_forecast`` on ``params/reference.yaml`` (best of ``--repeat``; model loading is
  timed separately) and of ``simulate_reference`` (the floor), measured in this same process,
  interleaved, with ``time.perf_counter``; their ratio engine/floor against the target <= 1.2;
* peak resident memory (``ru_maxrss``) of each in its own child process (this script re-run with
  ``--child engine|floor``) against the 1 GiB target, and of a child that only imports
  (``--child baseline``) for context;
* start-up time of ``python -m scenarios --help`` (best of 5 subprocess runs; target well under 0.5 s);
* the 9 outputs side by side with their difference in units of the combined Monte Carlo
  standard error (probabilities: sqrt(p(1-p)/N) each; quantiles: the order-statistic standard
  error, half the distance between the quantiles at q +- sqrt(q(1-q)/N), each).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
PARAMS = REPO / "params" / "reference.yaml"
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

TARGET_RATIO = 1.2
TARGET_RSS_MIB = 1024.0
TARGET_HELP_S = 0.5
SEED = 1


def _maxrss_mib() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _vmhwm_mib() -> float | None:
    """Peak RSS of this process's own address space (VmHWM, Linux), or None.

    Unlike ru_maxrss it does not inherit the parent's high-water mark across fork + exec, so
    it cross-checks ru_maxrss (which the parent keeps small by starting the children first).
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _engine():
    from scenarios.engine.forecast import run_forecast
    from scenarios.model.load import load_model

    return load_model, run_forecast


def _child(which: str, samples: int) -> None:
    """Run one workload once and print a JSON line with its peak RSS."""
    if which == "baseline":
        import numpy  # noqa: F401

        import reference_numpy  # noqa: F401

        _engine()
        print(json.dumps({"which": which, "maxrss_mib": _maxrss_mib(), "vmhwm_mib": _vmhwm_mib()}))
        return
    if which == "engine":
        load_model, run_forecast = _engine()
        model, questions = load_model(str(PARAMS))
        before = _maxrss_mib()
        t = time.perf_counter()
        run_forecast(model, questions, samples=samples, seed=SEED)
    elif which == "floor":
        from reference_numpy import simulate_reference

        before = _maxrss_mib()
        t = time.perf_counter()
        simulate_reference(samples, SEED)
    else:
        raise SystemExit(f"unknown --child {which!r}")
    elapsed = time.perf_counter() - t
    print(json.dumps({"which": which, "maxrss_before_mib": before, "maxrss_mib": _maxrss_mib(),
                      "vmhwm_mib": _vmhwm_mib(), "seconds": elapsed}))


def _run_child(which: str, samples: int) -> dict:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", which, "--samples", str(samples)],
        capture_output=True, text=True, cwd=str(REPO), check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {which} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _help_startup(runs: int = 5) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "scenarios", "--help"], capture_output=True, cwd=str(REPO), check=False)
        times.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise RuntimeError(f"scenarios --help failed ({proc.returncode}):\n{proc.stderr.decode()}")
    return min(times), times


def _quantile_se(values, n: int, q: float) -> float:
    import numpy as np

    half = math.sqrt(q * (1 - q) / n)
    lo, hi = np.quantile(values, [max(0.0, q - half), min(1.0, q + half)], method="inverted_cdf")
    return float(hi - lo) / 2.0


def _fmt(x: float) -> str:
    if abs(x) >= 1e4:
        return f"{x:,.0f}"
    return f"{x:.6f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", "-n", type=lambda s: int(s.replace("_", "").replace(",", "")), default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", choices=("engine", "floor", "baseline"), help=argparse.SUPPRESS)
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-RSS child processes")
    args = ap.parse_args(argv)
    n = args.samples
    if args.child:
        _child(args.child, n)
        return 0

    # ---- peak memory, each workload in a fresh child process ----
    # Done first, while this process is still small: on Linux a child's ru_maxrss starts from
    # the parent's high-water mark at fork/exec, which would mask the child's own peak.
    mem = None
    if not args.no_memory:
        mem = [_run_child(w, n) for w in ("baseline", "engine", "floor")]

    import numpy as np

    from reference_numpy import (
        PROBABILITY_OUTPUTS,
        QUANTILE_LEVELS,
        reference_worlds,
        simulate_reference,
        summarise,
    )

    load_model, run_forecast = _engine()
    print(f"reference model benchmark: {n:,} worlds, seed {SEED}, best of {args.repeat}")
    print(f"python {sys.version.split()[0]}  numpy {np.__version__}  cpus {os.cpu_count()}  params {PARAMS.relative_to(REPO)}")
    print()

    # ---- load time (best of repeat) ----
    load_times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        model, questions = load_model(str(PARAMS))
        load_times.append(time.perf_counter() - t)

    # ---- run times, interleaved so drift affects both alike ----
    eng_times, floor_times = [], []
    forecast = floor = None
    for _ in range(args.repeat):
        t = time.perf_counter()
        forecast = run_forecast(model, questions, samples=n, seed=SEED)
        eng_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        floor = simulate_reference(n, SEED)
        floor_times.append(time.perf_counter() - t)
    te, tf = min(eng_times), min(floor_times)
    ratio = te / tf

    print("time (s)           best      all runs")
    print(f"  engine load     {min(load_times):8.4f}   {', '.join(f'{x:.4f}' for x in load_times)}")
    print(f"  engine forecast {te:8.3f}   {', '.join(f'{x:.3f}' for x in eng_times)}")
    print(f"  numpy floor     {tf:8.3f}   {', '.join(f'{x:.3f}' for x in floor_times)}")
    print(f"  ratio engine/floor = {ratio:.3f}   (target <= {TARGET_RATIO})  {'OK' if ratio <= TARGET_RATIO else 'MISSED'}")
    print(f"  throughput: engine {n / te / 1e6:.3f} M worlds/s, floor {n / tf / 1e6:.3f} M worlds/s")
    print()

    if mem is not None:
        base, eng, flo = mem
        print("peak RSS (MiB, ru_maxrss of a fresh child process; VmHWM in brackets)")
        print(f"  baseline (imports only)   {base['maxrss_mib']:8.1f}   [{base['vmhwm_mib']:.1f}]")
        for r, label in ((eng, "engine (load + forecast)"), (flo, "numpy floor")):
            ok = "OK" if r["maxrss_mib"] <= TARGET_RSS_MIB else "MISSED"
            print(f"  {label:<25} {r['maxrss_mib']:8.1f}   [{r['vmhwm_mib']:.1f}]  (before run {r['maxrss_before_mib']:.1f}; "
                  f"run {r['seconds']:.3f} s)  target <= {TARGET_RSS_MIB:.0f}  {ok}")
        print()

    # ---- CLI start-up ----
    best, runs = _help_startup(5)
    print(f"`python -m scenarios --help` start-up: best {best:.3f} s of 5 ({', '.join(f'{x:.3f}' for x in runs)})"
          f"  target < {TARGET_HELP_S}  {'OK' if best < TARGET_HELP_S else 'MISSED'}")
    print()

    # ---- outputs side by side ----
    # The floor again (untimed, same seed, same numbers) to keep its per-world shells for the
    # quantiles' order-statistic standard errors.
    counts, shells_m12 = reference_worlds(n, SEED)
    again = summarise(n, counts, shells_m12)
    assert again == floor, "floor is not reproducible for a fixed seed"
    fc = forecast.by_id()
    print(f"outputs ({n:,} worlds each; z = (engine - floor) / combined MC standard error)")
    head = f"  {'output':<24} {'engine':>14} {'floor':>14} {'diff':>12} {'comb. SE':>10} {'z':>7}"
    print(head)
    print("  " + "-" * (len(head) - 2))
    worst = 0.0
    for name in PROBABILITY_OUTPUTS:
        pe, pf = fc[name].probability, floor[name]
        se = math.sqrt(pe * (1 - pe) / n + pf * (1 - pf) / n)
        z = (pe - pf) / se if se > 0 else 0.0
        worst = max(worst, abs(z))
        print(f"  {name:<24} {pe:14.6f} {pf:14.6f} {pe - pf:+12.6f} {se:10.6f} {z:+7.2f}")
    qf = fc["shells_m12_quantiles"]
    for q in QUANTILE_LEVELS:
        ve, vf = qf.quantiles[q], floor["shells_m12_quantiles"][q]
        se = math.sqrt(qf.quantile_stderr[q] ** 2 + _quantile_se(shells_m12, n, q) ** 2)
        z = (ve - vf) / se if se > 0 else 0.0
        worst = max(worst, abs(z))
        label = f"shells_m12 q{q:g}"
        print(f"  {label:<24} {_fmt(ve):>14} {_fmt(vf):>14} {ve - vf:+12,.0f} {se:10,.0f} {z:+7.2f}")
    print(f"  max |z| = {worst:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
