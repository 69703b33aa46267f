"""Time ``scenarios report`` against the same notebooks run one after another by hand, in one run.

Run from the repository root (the Makefile's ``bench`` target does):

    .venv/bin/python benchmarks/bench_report.py [--params params/base.yaml] [--samples 2000]
                                                [--pairs 5]

Each pair measures, back to back (the order alternating from pair to pair, as the machine's
speed drifts between minutes):

- report: wall time of ``scenarios report PARAMS --samples N --force --out TMP`` as a command,
  from process start to exit (every notebook executed, its HTML page written, forecasts, index);
- by hand: for each notebook in ``notebooks/``, in name order, the ``papermill`` command (run
  from ``notebooks/`` with ``-p params_file ../PARAMS -p samples N``) and then
  ``jupyter nbconvert --to html`` of its output, each a process of its own.

It prints every pair's ratio (report / by hand) and their min, median and max against the
target, 0.35.  Timings depend on the machine and its load; this is a sanity check, not a test.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
TARGET = 0.35


def _seconds(argv: list[str], cwd: Path) -> float:
    """Wall time of one command, which must succeed."""
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def report_seconds(params: str, samples: int, out: Path) -> float:
    """``scenarios report`` of every notebook, forced, into ``out``."""
    return _seconds([str(VENV_BIN / "scenarios"), "report", params, "--samples", str(samples), "--force",
                     "--out", str(out)], REPO)


def by_hand_seconds(params: str, samples: int, notebooks: list[Path], out: Path) -> float:
    """Each notebook with the ``papermill`` command, then ``jupyter nbconvert --to html``."""
    total = 0.0
    rel = Path("..") / params
    for nb in notebooks:
        executed = out / nb.name
        total += _seconds([str(VENV_BIN / "papermill"), nb.name, str(executed), "-p", "params_file", str(rel),
                           "-p", "samples", str(samples)], nb.parent)
        total += _seconds([str(VENV_BIN / "jupyter"), "nbconvert", "--to", "html", str(executed)], nb.parent)
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params/base.yaml")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args(argv)
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    tmp = Path(tempfile.mkdtemp(prefix="bench_report-"))
    try:
        rows = []
        for i in range(args.pairs):
            hand_out = tmp / f"hand-{i}"
            hand_out.mkdir()
            timed = {}
            for which in (("report", "hand") if i % 2 == 0 else ("hand", "report")):
                if which == "report":
                    timed[which] = report_seconds(args.params, args.samples, tmp / "reports")
                else:
                    timed[which] = by_hand_seconds(args.params, args.samples, notebooks, hand_out)
            rows.append((timed["report"], timed["hand"], timed["report"] / timed["hand"]))
            print(f"pair {i + 1} ({'report first' if i % 2 == 0 else 'by hand first'}): report "
                  f"{timed['report']:.2f} s, by hand {timed['hand']:.2f} s, ratio {rows[-1][2]:.3f}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for label, col in (("report, s", 0), ("by hand, s", 1), ("ratio", 2)):
        values = [r[col] for r in rows]
        print(f"{label:>11}: min {min(values):.3f}  median {statistics.median(values):.3f}  max {max(values):.3f}")
    median = statistics.median(r[2] for r in rows)
    print(f"report / by hand (median of {len(rows)} pairs): {median:.3f}; target <= {TARGET}: "
          f"{'met' if median <= TARGET else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
