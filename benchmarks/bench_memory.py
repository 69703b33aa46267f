"""Benchmark: peak resident memory of ``scenarios forecast`` against the number of worlds.

Run from anywhere, e.g. from the repo root::

    .venv/bin/python benchmarks/bench_memory.py [--params params/base.yaml] [--samples 1000000 4000000]

Each run is ``python -m scenarios forecast PARAMS --samples N`` in a child process of its own; its
peak resident memory is the child's ``VmHWM`` (``ru_maxrss`` off Linux).  Reports

* the peak at each ``--samples`` and the engine's own estimate (:mod:`scenarios.engine.memory`),
  which must not be below it;
* bytes per world, the slope between the two largest runs, against the floor of 8 bytes per
  numeric or date question (what the quantiles need) measured in this same run;
* the peak at 10^7 worlds (measured when 10000000 is among ``--samples``, else extrapolated from
  the slope) against the 1 GiB target.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_WORLDS = 10_000_000
TARGET_MIB = 1024.0
MiB = 1024 * 1024

CHILD = """
import resource, sys
from scenarios.cli import main
code = main(sys.argv[1:])
try:  # VmHWM: this process's own peak (ru_maxrss can carry a parent's over exec)
    kib = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")][0]
except OSError:
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == "darwin" else 1)
print(kib, file=sys.stderr)
sys.exit(code)
"""


def peak_rss(params: str, samples: int) -> int:
    """Peak resident bytes of one ``forecast`` run in a fresh process."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, "forecast", params, "--samples", str(samples), "--format", "json",
         "--output", "-"],
        capture_output=True, text=True, cwd=REPO, check=True,
    )
    return int(proc.stderr.strip().splitlines()[-1]) * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default=str(REPO / "params" / "base.yaml"))
    parser.add_argument("--samples", type=int, nargs="+", default=[1_000_000, 4_000_000])
    args = parser.parse_args()

    from scenarios.engine.forecast import flow_months
    from scenarios.engine.memory import estimate_peak_bytes
    from scenarios.engine.simulate import CHUNK_SIZE
    from scenarios.model.load import load_model

    model, questions = load_model(args.params)
    kept = sum(q.type != "binary" for q in questions)
    run = {"nodes": set().union(*(q.refs for q in questions)), "months": flow_months(model, questions),
           "chunk_size": CHUNK_SIZE}
    print(f"bench_memory: {os.path.relpath(args.params, REPO)}, {len(questions)} questions ({kept} numeric or date)")
    peaks = {}
    for n in sorted(set(args.samples)):
        peaks[n] = peak_rss(args.params, n)
        estimate = estimate_peak_bytes(model, questions, n, **run)
        verdict = "ok" if estimate >= peaks[n] else "ESTIMATE TOO LOW"
        print(f"  {n:>12,} worlds: peak {peaks[n] / MiB:8,.0f} MiB   estimate {estimate / MiB:8,.0f} MiB  {verdict}")
    sizes = sorted(peaks)
    if len(sizes) >= 2:
        a, b = sizes[-2], sizes[-1]
        slope = (peaks[b] - peaks[a]) / (b - a)
        floor = 8 * kept
        print(f"  bytes per world: {slope:,.1f} (floor {floor}: 8 per numeric or date question; ratio {slope / max(floor, 1):.2f})")
        at_target = peaks.get(TARGET_WORLDS)
        how = "measured"
        if at_target is None:
            at_target, how = peaks[b] + slope * (TARGET_WORLDS - b), "extrapolated"
        verdict = "ok" if at_target / MiB < TARGET_MIB else "OVER TARGET"
        print(f"  at {TARGET_WORLDS:,} worlds: {at_target / MiB:,.0f} MiB ({how}); target < {TARGET_MIB:,.0f} MiB: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
