"""Benchmark: the memory estimate of each command against its measured peak.

Run from anywhere, e.g. from the repo root::

    .venv/bin/python benchmarks/bench_memory.py [--cases forecast as-of backtest report repeated]
                                                [--scaling 1000000 4000000]

Each case is a command run in a process of its own (``python -m scenarios ...``), at three sizes:

* ``forecast``, ``forecast --as-of`` and ``backtest`` of params/base.yaml at 10,000, 50,000 and
  100,000 worlds (chunks of 10,000: above one chunk, ``--jobs`` workers, by default the cores);
* ``report`` of params/base.yaml (its three notebooks; ``--force``) at 2,000, 10,000 and 20,000,
  and its backtest notebook alone (``papermill notebooks/03_backtest.ipynb -p samples N``, every
  evidence date, with its fans) at 10,000, 20,000 and 50,000, whose estimate is the papermill
  process, the kernel and its backtest (``scenarios.notebook.inputs.backtest_memory``, what the
  notebook checks);
* a model with a repeated event of ``max: 10000`` (:data:`REPEATED`, written to a temporary
  folder with its evidence), ``forecast`` and ``forecast --as-of`` at 500, 1,000 and 2,000.

The **estimate** is the command's own: the same command with ``--memory-budget 1`` is refused
before it starts and says how much it would need (the notebook's: see above).  The **peak** is the most resident memory the
command and every process it started held at once, polled every 20 ms from ``/proc``
(``VmRSS``), and at least the command's own ``VmHWM``; the sum of every process's own peak
(``VmHWM``, an upper bound) is printed beside it.  The target: the estimate within 25% of the
peak, and never below it by more than 10%.

``--scaling N ...`` also runs the forecast at those sizes and prints bytes per world, the slope
between the two largest, against the floor of 8 bytes per numeric or date question, and the
peak at 10^7 worlds (measured, or extrapolated from the slope) against the 1 GiB target.

Linux only (``/proc``).  The full table takes about 15 minutes on two cores.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASE = str(REPO / "params" / "base.yaml")
MiB = 1024 * 1024
TARGET_WORLDS = 10_000_000
TARGET_MIB = 1024.0
WITHIN, NEVER_BELOW = 0.25, 0.10
POLL = 0.02

REPEATED = """\
model: repeated-bench
description: A repeated event of max 10000 occurrences (about 40 a month), watched, its rate reported.
as_of: 2023-09-05
horizon_months: 30
month_days: 30
seed: 5
samples: 2000
evidence: evidence.yaml
nodes:
  meeting_rate: {lognormal: {ci90: [20, 80]}}
  opening: {event: {chance_per_month: 0.05}}
  meetings:
    repeated: {rate: meeting_rate, start: opening, max: 10000}
questions:
  - {id: many_by_2025, resolve: {quantity: meetings, 'on': 2025-06-01, at_least: 200}}
  - {id: count_2025, type: numeric, resolve: {quantity: meetings, 'on': 2025-12-01}}
  - {id: hundredth, type: date, resolve: {event: meetings, occurrence: 100}}
"""
REPEATED_EVIDENCE = """\
evidence:
- id: none_yet
  public_on: 2023-09-05
  source: https://example.org/watch
  watch: [meetings]
- id: rate_said
  public_on: 2023-10-01
  source: https://example.org/rate
  report: {quantity: meeting_rate, said: {value: 30}, likelihood: {lognormal: {sigma: 0.2}}}
"""


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(x) for x in fh.read().split()]
    except OSError:
        pass
    return out


def _status(pid: int) -> dict:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return {k: int(v.split()[0]) * 1024 for k, v in (line.split(":", 1) for line in fh)
                    if k in ("VmRSS", "VmHWM")}
    except (OSError, ValueError):
        return {}


def measure(argv: list[str], cwd: Path) -> dict:
    """Run ``argv``; its peak resident bytes with its processes: ``peak`` (at once, polled),
    ``main`` (the command's VmHWM), ``sum`` (every process's VmHWM), ``procs``, ``seconds``."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks: dict = {}
    together = 0
    while proc.poll() is None:
        tree, stack = [], [proc.pid]
        while stack:
            pid = stack.pop()
            tree.append(pid)
            stack += _children(pid)
        now = 0
        for pid in tree:
            status = _status(pid)
            if status:
                peaks[pid] = max(peaks.get(pid, 0), status.get("VmHWM", 0))
                now += status.get("VmRSS", 0)
        together = max(together, now)
        time.sleep(POLL)
    err = proc.stderr.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {err[-2000:]}")
    main = peaks.get(proc.pid, 0)
    return {"peak": max(together, main), "main": main, "sum": sum(peaks.values()), "procs": len(peaks),
            "seconds": time.perf_counter() - t0}


def estimate(argv: list[str], cwd: Path) -> int:
    """The command's own estimate: what it says it would need when refused under a budget of 1 byte."""
    proc = subprocess.run(argv + ["--memory-budget", "1"], cwd=cwd, capture_output=True, text=True, timeout=600)
    found = re.search(r"would need about ([\d,.]+) (MiB|GiB)", proc.stderr)
    if proc.returncode != 2 or not found:
        raise RuntimeError(f"{' '.join(argv)} was not refused with an estimate: {proc.stderr[-2000:]}")
    return int(float(found.group(1).replace(",", "")) * (MiB if found.group(2) == "MiB" else 1024 * MiB))


def scenarios(*args) -> list[str]:
    return [sys.executable, "-m", "scenarios", *map(str, args)]


def notebook_estimate(samples: int) -> int:
    """The backtest notebook's estimate: the papermill process, the kernel and its backtest (what
    ``backtest_inputs`` checks), with every evidence date (``as_of`` empty)."""
    from scenarios.engine.memory import KERNEL_BYTES, PAPERMILL_BYTES
    from scenarios.notebook.inputs import backtest_memory, notebook_inputs

    run = notebook_inputs(BASE, samples=samples)
    return PAPERMILL_BYTES + KERNEL_BYTES + backtest_memory(run)(samples)


def cases(names: list[str], tmp: Path) -> list[tuple]:
    """(label, worlds, argv, estimate) of every run of the table; ``estimate`` None: the command's own."""
    out = []
    repeated = tmp / "repeated.yaml"
    repeated.write_text(REPEATED)
    (tmp / "evidence.yaml").write_text(REPEATED_EVIDENCE)
    for name in names:
        if name == "forecast":
            out += [("forecast", n, scenarios("forecast", BASE, "-n", n, "--format", "json", "--output", "-"), None)
                    for n in (10_000, 50_000, 100_000)]
        elif name == "as-of":
            out += [("forecast --as-of", n, scenarios("forecast", BASE, "-n", n, "--as-of", "2024-12-31", "--format", "json"),
                     None) for n in (10_000, 50_000, 100_000)]
        elif name == "backtest":
            out += [("backtest", n, scenarios("backtest", BASE, "-n", n, "--out", tmp / f"backtest-{n}"), None)
                    for n in (10_000, 50_000, 100_000)]
        elif name == "report":
            out += [("report", n, scenarios("report", BASE, "-n", n, "--force", "--out", tmp / f"report-{n}"), None)
                    for n in (2_000, 10_000, 20_000)]
        elif name == "notebook":
            papermill = str(Path(sys.executable).parent / "papermill")
            out += [("backtest notebook", n, [papermill, str(REPO / "notebooks" / "03_backtest.ipynb"),
                                              str(tmp / f"03-{n}.ipynb"), "-p", "samples", str(n), "--cwd",
                                              str(REPO / "notebooks")], notebook_estimate)
                    for n in (10_000, 20_000, 50_000)]
        elif name == "repeated":
            out += [(f"repeated {how}".strip(), n, scenarios("forecast", repeated, "-n", n, *extra), None)
                    for how, extra in (("", ()), ("--as-of", ("--as-of", "2025-01-01"))) for n in (500, 1_000, 2_000)]
        else:
            raise SystemExit(f"bench_memory: unknown case {name!r}")
    return out


def table(names: list[str]) -> int:
    """Print estimate against peak for every case; 1 when one misses the target."""
    missed = 0
    print(f"{'case':<20} {'worlds':>8} {'estimate':>9} {'peak':>9} {'ratio':>6} {'sum':>9} {'procs':>5} {'s':>6}")
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as folder:
        for label, n, argv, own in cases(names, Path(folder)):
            est = own(n) if own is not None else estimate(argv, REPO)
            got = measure(argv, REPO)
            ratio = est / got["peak"]
            ok = abs(ratio - 1) <= WITHIN and ratio >= 1 - NEVER_BELOW
            missed += not ok
            print(f"{label:<20} {n:>8,} {est / MiB:>6,.0f} MiB {got['peak'] / MiB:>5,.0f} MiB {ratio:>6.2f} "
                  f"{got['sum'] / MiB:>5,.0f} MiB {got['procs']:>5} {got['seconds']:>6.1f}{'' if ok else '  MISSED'}",
                  flush=True)
    print(f"target: estimate / peak in [{1 - WITHIN:.2f}, {1 + WITHIN:.2f}] and at least {1 - NEVER_BELOW:.2f}: "
          f"{'ok' if not missed else f'{missed} missed'}")
    return 1 if missed else 0


def scaling(sizes: list[int]) -> None:
    """The forecast's bytes per world and its peak at 10^7 worlds."""
    from scenarios.model.load import load_model

    _, questions = load_model(BASE)
    kept = sum(q.type != "binary" for q in questions)
    peaks = {n: measure(scenarios("forecast", BASE, "-n", n, "--format", "json", "--output", "-"), REPO)["main"]
             for n in sorted(set(sizes))}
    for n, peak in peaks.items():
        print(f"  forecast {n:>12,} worlds: peak {peak / MiB:8,.0f} MiB")
    sizes = sorted(peaks)
    if len(sizes) >= 2:
        a, b = sizes[-2], sizes[-1]
        slope = (peaks[b] - peaks[a]) / (b - a)
        floor = 8 * kept
        print(f"  bytes per world: {slope:,.1f} (floor {floor}: 8 per numeric or date question; ratio {slope / max(floor, 1):.2f})")
        at_target, how = peaks.get(TARGET_WORLDS), "measured"
        if at_target is None:
            at_target, how = peaks[b] + slope * (TARGET_WORLDS - b), "extrapolated"
        verdict = "ok" if at_target / MiB < TARGET_MIB else "OVER TARGET"
        print(f"  at {TARGET_WORLDS:,} worlds: {at_target / MiB:,.0f} MiB ({how}); target < {TARGET_MIB:,.0f} MiB: {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["forecast", "as-of", "backtest", "report", "notebook", "repeated"])
    parser.add_argument("--scaling", type=int, nargs="*", default=[], metavar="WORLDS")
    args = parser.parse_args()
    if not os.path.exists("/proc/self/status"):
        print("bench_memory: needs Linux's /proc")
        return 0
    code = table(args.cases) if args.cases else 0
    if args.scaling:
        scaling(args.scaling)
    return code


if __name__ == "__main__":
    sys.exit(main())
